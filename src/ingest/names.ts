// Deterministic ProblemEvent names: the same problem from the same source always gets the same name,
// so a repeated delivery hits 409 AlreadyExists instead of creating a duplicate.
import { createHash } from 'node:crypto';

/** Kubernetes object names used here are DNS-1123 labels: they also appear in label values. */
export const MAX_NAME_LENGTH = 63;
const HASH_LENGTH = 12;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDns1123Label(value: string): boolean {
  return value.length <= MAX_NAME_LENGTH && DNS1123_LABEL.test(value);
}

/** Lower-cases and replaces anything outside [a-z0-9-] so a service name can be part of a name. */
export function sanitizeNamePart(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * `<prefix>-<service>-<hash of source and key>`, at most 63 characters. The readable part is only a
 * hint for people; the hash alone identifies the problem, so truncating the service is harmless.
 */
export function problemName(prefix: string, service: string, dedupKey: string): string {
  const hash = createHash('sha256').update(prefix).update('\0').update(dedupKey).digest('hex').slice(0, HASH_LENGTH);
  const room = MAX_NAME_LENGTH - prefix.length - HASH_LENGTH - 2;
  const readable = sanitizeNamePart(service).slice(0, room).replace(/-+$/, '');
  return readable === '' ? `${prefix}-${hash}` : `${prefix}-${readable}-${hash}`;
}
