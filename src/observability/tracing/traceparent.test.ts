import { describe, expect, it } from 'vitest';
import { formatTraceparent, newTraceContext, parseTraceparent } from './traceparent.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('parseTraceparent', () => {
  it.each([
    [`00-${TRACE}-${SPAN}-01`, { traceId: TRACE, spanId: SPAN, sampled: true }],
    [`00-${TRACE}-${SPAN}-00`, { traceId: TRACE, spanId: SPAN, sampled: false }],
    // Only the sampled bit counts; other flags are kept by nobody here.
    [`00-${TRACE}-${SPAN}-03`, { traceId: TRACE, spanId: SPAN, sampled: true }],
    // A later version may add fields after the flags: a version-00 reader ignores them.
    [`01-${TRACE}-${SPAN}-01-what-comes-next`, { traceId: TRACE, spanId: SPAN, sampled: true }],
    [` 00-${TRACE}-${SPAN}-01 `, { traceId: TRACE, spanId: SPAN, sampled: true }],
  ])('reads %s', (value, context) => {
    expect(parseTraceparent(value)).toEqual(context);
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['garbage', 'not-a-traceparent'],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['an all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['version 00 with more after the flags', `00-${TRACE}-${SPAN}-01-extra`],
  ])('refuses %s', (_what, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });
});

describe('formatTraceparent and newTraceContext', () => {
  it('round-trips', () => {
    const context = { traceId: TRACE, spanId: SPAN, sampled: true };
    expect(formatTraceparent(context)).toBe(`00-${TRACE}-${SPAN}-01`);
    expect(parseTraceparent(formatTraceparent({ ...context, sampled: false }))).toEqual({ ...context, sampled: false });
  });

  it('makes sampled contexts with fresh ids, never all zero', () => {
    const a = newTraceContext();
    const b = newTraceContext();
    expect(parseTraceparent(formatTraceparent(a))).toEqual(a);
    expect(a.sampled).toBe(true);
    expect(a.traceId).not.toBe(b.traceId);
    // A random source that first yields zeros is asked again.
    const draws = [Buffer.alloc(16), Buffer.alloc(16, 1), Buffer.alloc(8), Buffer.alloc(8, 2)];
    const context = newTraceContext((size) => draws.shift() ?? Buffer.alloc(size, 3));
    expect(context).toEqual({ traceId: '01'.repeat(16), spanId: '02'.repeat(8), sampled: true });
  });
});
