// W3C Trace Context's `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header), the
// value of a ProblemEvent's `rebound.dev/traceparent` annotation: `00-<trace id>-<span id>-<flags>`.
// Pure: parsing, formatting and fresh ids (from the CSPRNG, as the spec asks for random trace ids).
import { randomBytes } from 'node:crypto';

export interface TraceContext {
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** 16 lower-case hex digits, not all zero. */
  spanId: string;
  /** The `sampled` flag: an unsampled trace is not recorded. */
  sampled: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * The context a `traceparent` names, or undefined when it is not a valid one: wrong shape, upper-case
 * hex, version `ff`, an all-zero id, or (version 00) anything after the flags. A later version's
 * extra fields are ignored, as the spec asks of a version-00 reader.
 */
export function parseTraceparent(value: string | undefined): TraceContext | undefined {
  if (value === undefined) return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return undefined;
  const [, version = '', traceId = '', spanId = '', flags = '', rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? '01' : '00'}`;
}

/** Random ids of `bytes` bytes as hex, never all zero. */
function randomId(bytes: number, random: (size: number) => Buffer): string {
  for (;;) {
    const id = random(bytes).toString('hex');
    if (/[^0]/.test(id)) return id;
  }
}

export function newTraceId(random: (size: number) => Buffer = randomBytes): string {
  return randomId(16, random);
}

export function newSpanId(random: (size: number) => Buffer = randomBytes): string {
  return randomId(8, random);
}

/** A sampled context with a new trace id and span id: a problem's trace, named before its span exists. */
export function newTraceContext(random: (size: number) => Buffer = randomBytes): TraceContext {
  return { traceId: newTraceId(random), spanId: newSpanId(random), sampled: true };
}
