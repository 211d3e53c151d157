import { describe, expect, it } from 'vitest';
import { OtlpHttpExporter, displayUrl, encodeTraces, unixNanos } from './otlp-http.ts';
import type { FinishedSpan } from './tracer.ts';
import { NO_SPAN, RecordingTracer } from './tracer.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function span(name: string, extra: Partial<FinishedSpan> = {}): FinishedSpan {
  return {
    traceId: TRACE,
    spanId: '00f067aa0ba902b7',
    name,
    startMs: 1_764_000_000_000.5,
    endMs: 1_764_000_001_000,
    attributes: {},
    events: [],
    ...extra,
  };
}

describe('encodeTraces (OTLP/JSON)', () => {
  it('writes ids as hex, times as decimal nanoseconds, attributes by type, errors as status 2', () => {
    const body = encodeTraces(
      [
        span('evaluate', {
          parentSpanId: 'b7ad6b7169203331',
          attributes: { 'rebound.attempt': 2, 'rebound.score': 62.5, ok: true, 'rebound.service': 'carts' },
          events: [{ name: 'retried', timeMs: 1_764_000_000_500, attributes: {} }],
          error: 'Prometheus is down',
        }),
      ],
      { 'service.name': 'rebound' },
      { name: 'rebound' },
    );
    expect(body).toEqual({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'rebound' } }] },
          scopeSpans: [
            {
              scope: { name: 'rebound' },
              spans: [
                {
                  traceId: TRACE,
                  spanId: '00f067aa0ba902b7',
                  parentSpanId: 'b7ad6b7169203331',
                  name: 'evaluate',
                  kind: 1,
                  startTimeUnixNano: '1764000000000500000',
                  endTimeUnixNano: '1764000001000000000',
                  attributes: [
                    { key: 'rebound.attempt', value: { intValue: '2' } },
                    { key: 'rebound.score', value: { doubleValue: 62.5 } },
                    { key: 'ok', value: { boolValue: true } },
                    { key: 'rebound.service', value: { stringValue: 'carts' } },
                  ],
                  events: [{ timeUnixNano: '1764000000500000000', name: 'retried', attributes: [] }],
                  status: { code: 2, message: 'Prometheus is down' },
                },
              ],
            },
          ],
        },
      ],
    });
    expect(unixNanos(0.001)).toBe('1000');
  });

  it('shows a URL without its credentials or query', () => {
    expect(displayUrl('https://user:secret@otel.example:4318/v1/traces?key=abc')).toBe(
      'https://otel.example:4318/v1/traces',
    );
  });
});

/** A backend that answers from a script and keeps what it was sent. */
function backend(answers: (number | Error)[]): { fetch: typeof fetch; bodies: unknown[]; headers: Headers[] } {
  const bodies: unknown[] = [];
  const headers: Headers[] = [];
  const fake = (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    bodies.push(JSON.parse(typeof init?.body === 'string' ? init.body : ''));
    headers.push(new Headers(init?.headers));
    const next = answers.shift() ?? 200;
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(new Response('{}', { status: next }));
  };
  return { fetch: fake, bodies, headers };
}

const names = (body: unknown): string[] =>
  (
    body as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] }
  ).resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.name);

describe('OtlpHttpExporter', () => {
  const options = {
    url: 'http://127.0.0.1:4318/v1/traces',
    resource: { 'service.name': 'rebound' },
    scope: { name: 'rebound' },
  };

  it('sends queued spans in batches with the configured headers, and counts them', async () => {
    const server = backend([]);
    const results: string[] = [];
    const exporter = new OtlpHttpExporter({
      ...options,
      maxBatch: 2,
      headers: { 'x-api-key': 'k' },
      fetch: server.fetch,
      onResult: (result, n) => results.push(`${result} ${String(n)}`),
    });
    for (const name of ['a', 'b', 'c']) exporter.export(span(name));
    await exporter.flush();
    expect(server.bodies.map(names)).toEqual([['a', 'b'], ['c']]);
    expect(server.headers[0]?.get('x-api-key')).toBe('k');
    expect(server.headers[0]?.get('content-type')).toBe('application/json');
    expect(results).toEqual(['exported 2', 'exported 1']);
  });

  it('retries what may pass, gives up on what will not, and drops the oldest past its bound', async () => {
    const server = backend([503, new Error('connection refused'), 200, 400]);
    const results: string[] = [];
    const errors: string[] = [];
    const exporter = new OtlpHttpExporter({
      ...options,
      maxQueue: 2,
      backoffMs: 1,
      fetch: server.fetch,
      onResult: (result, n) => results.push(`${result} ${String(n)}`),
      onError: (message) => errors.push(message),
    });
    for (const name of ['a', 'b', 'c']) exporter.export(span(name));
    await exporter.flush();
    expect(results).toEqual(['dropped 1', 'exported 2']);
    expect(server.bodies.map(names)).toEqual([
      ['b', 'c'],
      ['b', 'c'],
      ['b', 'c'],
    ]);
    exporter.export(span('d'));
    await exporter.flush();
    expect(results.at(-1)).toBe('dropped 1');
    expect(errors).toEqual(['http://127.0.0.1:4318/v1/traces: HTTP 400']);
    await exporter.shutdown();
    exporter.export(span('e'));
    expect(results.at(-1)).toBe('dropped 1');
  });
});

describe('RecordingTracer', () => {
  it('makes no span under an unsampled or invalid parent', () => {
    const spans: FinishedSpan[] = [];
    const tracer = new RecordingTracer({ export: (s) => spans.push(s) });
    expect(tracer.start(`00-${TRACE}-00f067aa0ba902b7-00`, 'x')).toBe(NO_SPAN);
    expect(tracer.start('nonsense', 'x')).toBe(NO_SPAN);
    tracer.record(undefined, { name: 'problem', start: new Date(0), end: new Date(1) });
    expect(spans).toEqual([]);
  });

  it('ends a span once, keeps children under it, and drops what it is told to', () => {
    const spans: FinishedSpan[] = [];
    let now = 1000;
    const tracer = new RecordingTracer({ export: (s) => spans.push(s), nowMs: () => now });
    const parent = tracer.start(`00-${TRACE}-00f067aa0ba902b7-01`, 'step', { a: 'x', skipped: undefined });
    const child = parent.child('part');
    now = 1500;
    child.fail('x'.repeat(2000));
    child.end();
    tracer.start(parent.traceparent, 'dropped').drop();
    now = 2000;
    parent.end();
    parent.end();
    expect(spans.map((s) => [s.name, s.startMs, s.endMs])).toEqual([
      ['part', 1000, 1500],
      ['step', 1000, 2000],
    ]);
    expect(spans[0]?.parentSpanId).toBe(spans[1]?.spanId);
    expect(spans[1]?.parentSpanId).toBe('00f067aa0ba902b7');
    expect(spans[1]?.attributes).toEqual({ a: 'x' });
    expect(spans[0]?.error).toHaveLength(1024);
  });
});
