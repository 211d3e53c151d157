// Reading untrusted JSON with the path of every value at hand, so a validation error can name the
// field at fault (`alerts[2].labels.service`) instead of "bad payload".
import { ReboundError } from '../errors.ts';

export type JsonObject = Record<string, unknown>;

/** The error every mapper throws: the message starts with the field, `field` carries it alone. */
export class InvalidPayloadError extends ReboundError {
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`, { code: 'InvalidPayload', retryable: false });
    this.name = 'InvalidPayloadError';
    this.field = field;
  }
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function joinPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const safe = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(key);
  if (parent === '') return safe;
  return /^[A-Za-z_$]/.test(safe) ? `${parent}.${safe}` : `${parent}[${safe}]`;
}

export function expectObject(value: unknown, path: string): JsonObject {
  if (!isObject(value)) throw new InvalidPayloadError(path || '(root)', `expected an object, got ${describe(value)}`);
  return value;
}

export function expectArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new InvalidPayloadError(path, `expected an array, got ${describe(value)}`);
  return value;
}

/**
 * The value under `key`, matched exactly first and then ignoring case: Keptn's Go producers and
 * consumers decode JSON case-insensitively, so `ProblemTitle` and `problemTitle` are the same field.
 */
export function getField(obj: JsonObject, key: string): { key: string; value: unknown } | undefined {
  if (Object.hasOwn(obj, key)) return { key, value: obj[key] };
  const lower = key.toLowerCase();
  for (const candidate of Object.keys(obj)) {
    if (candidate.toLowerCase() === lower) return { key: candidate, value: obj[candidate] };
  }
  return undefined;
}

/** An optional string field: absent, null and blank read as undefined; any other non-string is an error. */
export function optionalString(obj: JsonObject, key: string, parent: string): string | undefined {
  const found = getField(obj, key);
  if (found === undefined || found.value === null || found.value === undefined) return undefined;
  const path = joinPath(parent, found.key);
  if (typeof found.value !== 'string') {
    throw new InvalidPayloadError(path, `expected a string, got ${describe(found.value)}`);
  }
  const trimmed = found.value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** An optional map of string to string (labels, annotations); non-string values are an error. */
export function optionalStringMap(obj: JsonObject, key: string, parent: string): Record<string, string> {
  const found = getField(obj, key);
  if (found === undefined || found.value === null || found.value === undefined) return {};
  const path = joinPath(parent, found.key);
  const map = expectObject(found.value, path);
  const result: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== 'string')
      throw new InvalidPayloadError(joinPath(path, k), `expected a string, got ${describe(v)}`);
    result[k] = v;
  }
  return result;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  return typeof value;
}

/** The segments of a field path as written by joinPath: `alerts[1].labels["Problem URL"]`. */
export function fieldPathSegments(field: string): (string | number)[] {
  if (field === '' || field === '(root)') return [];
  const segments: (string | number)[] = [];
  const pattern = /([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g;
  for (const match of field.matchAll(pattern)) {
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(Number(match[2]));
    else if (match[3] !== undefined) segments.push(JSON.parse(match[3]) as string);
  }
  return segments;
}
