// Final checks on a mapped spec, mirroring the ProblemEvent CRD schema (src/api/schemas.ts), so a bad
// payload is answered with 400 naming the payload's field, not with the API server's 422 later.
import { InvalidPayloadError } from './fields.ts';
import { isDns1123Label } from './names.ts';
import type { ProblemSpec } from './types.ts';

export const LIMITS = {
  problemTitle: 1024,
  rootCause: 1024,
  problemID: 256,
  source: 256,
  impactedEntity: 1024,
} as const;

/** Where each spec field came from in the payload, for error messages. */
export type FieldOrigins = Partial<Record<keyof ProblemSpec, string>>;

export function checkSpec(spec: ProblemSpec, origins: FieldOrigins): ProblemSpec {
  for (const field of ['project', 'stage', 'service'] as const) {
    const value = spec[field];
    if (!isDns1123Label(value)) {
      throw new InvalidPayloadError(
        origins[field] ?? field,
        `${field} ${JSON.stringify(value)} must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)`,
      );
    }
  }
  for (const field of Object.keys(LIMITS) as (keyof typeof LIMITS)[]) {
    const value = spec[field];
    if (value !== undefined && value.length > LIMITS[field]) {
      throw new InvalidPayloadError(origins[field] ?? field, `${field} is longer than ${LIMITS[field]} characters`);
    }
  }
  return spec;
}

/** Drops undefined members so the stored object carries only fields that have values. */
/** `T` with every property that may be undefined made optional instead (what compact() returns). */
export type Compact<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

export function compact<T extends object>(value: T): Compact<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Compact<T>;
}
