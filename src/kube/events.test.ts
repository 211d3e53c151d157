import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../runtime/clock.ts';
import { KUBE_ERROR_CODES, KubeError } from './errors.ts';
import { queuedEventRecorder } from './events.ts';
import type { EventResult, EventSink, EventSubject } from './events.ts';

interface Call {
  op: 'create' | 'patch';
  name: string;
  reason?: string;
  count?: number;
  release: () => void;
  fail: (err: Error) => void;
}

/** A sink whose calls wait until the test releases (or fails) them, one by one. */
function heldSink(): { sink: EventSink; calls: Call[]; inFlight: () => number } {
  const calls: Call[] = [];
  let inFlight = 0;
  const hold = (call: Omit<Call, 'release' | 'fail'>): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      inFlight++;
      calls.push({
        ...call,
        release: () => {
          inFlight--;
          resolve();
        },
        fail: (err) => {
          inFlight--;
          reject(err);
        },
      });
    });
  return {
    calls,
    inFlight: () => inFlight,
    sink: {
      create: (event) =>
        hold({ op: 'create', name: event.metadata.name, ...(event.reason ? { reason: event.reason } : {}) }),
      patchSeries: (_ns, name, count) => hold({ op: 'patch', name, count }),
    },
  };
}

function subject(name: string): EventSubject {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: { name, namespace: 'ns', uid: `uid-${name}` },
  };
}

function recorder(sink: EventSink, extra: { concurrency?: number; maxQueued?: number } = {}) {
  const results: EventResult[] = [];
  const lines: string[] = [];
  const log = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  const events = queuedEventRecorder(sink, {
    controller: 'rebound.dev/controller',
    instance: 'test',
    clock: new FakeClock(),
    log,
    onResult: (r) => results.push(r),
    ...extra,
  });
  return { events, results, lines };
}

/** Lets the recorder's promise chains run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('queued event recorder', () => {
  it('writes a few Events at a time, in the order they were recorded', async () => {
    const { sink, calls, inFlight } = heldSink();
    const { events, results } = recorder(sink, { concurrency: 2 });
    const done = ['a', 'b', 'c', 'd', 'e'].map((n) => events.record(subject(n), 'Normal', 'Applied', 'Apply', n));
    await settle();
    expect(inFlight()).toBe(2);
    expect(calls.map((c) => c.name.split('.')[0])).toEqual(['a', 'b']);
    for (let i = 0; i < 5; i++) {
      calls[i]?.release();
      await settle();
      expect(inFlight()).toBeLessThanOrEqual(2);
    }
    await Promise.all(done);
    expect(calls.map((c) => c.name.split('.')[0])).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(results).toEqual(['recorded', 'recorded', 'recorded', 'recorded', 'recorded']);
  });

  it('drops Events past the queue bound, counts them and says so once the queue drains', async () => {
    const { sink, calls } = heldSink();
    const { events, results, lines } = recorder(sink, { concurrency: 1, maxQueued: 2 });
    const done = [1, 2, 3, 4, 5].map((i) => events.record(subject(`p${String(i)}`), 'Normal', 'Applied', 'Apply', 'x'));
    await settle();
    // One writing, two waiting, two dropped (and resolved at once: the caller never waits on a full queue).
    expect(results).toEqual(['dropped', 'dropped']);
    await Promise.all(done.slice(3));
    for (let i = 0; i < 3; i++) {
      calls[i]?.release();
      await settle();
    }
    await Promise.all(done);
    expect(calls.map((c) => c.name.split('.')[0])).toEqual(['p1', 'p2', 'p3']);
    expect(results.filter((r) => r === 'recorded')).toHaveLength(3);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? '{}') as { dropped?: number; msg?: string };
    expect(line.dropped).toBe(2);
    expect(line.msg).toContain('queue was full');
  });

  it('folds a repeat recorded before the first Event is written into its series', async () => {
    const { sink, calls } = heldSink();
    const { events } = recorder(sink, { concurrency: 4 });
    const first = events.record(subject('p'), 'Warning', 'ApplyFailed', 'Apply', 'helm upgrade failed');
    const second = events.record(subject('p'), 'Warning', 'ApplyFailed', 'Apply', 'helm upgrade failed');
    await settle();
    // The repeat waits for the create instead of racing it with a second object.
    expect(calls.map((c) => c.op)).toEqual(['create']);
    calls[0]?.release();
    await settle();
    expect(calls.map((c) => [c.op, c.count])).toEqual([
      ['create', undefined],
      ['patch', 2],
    ]);
    expect(calls[1]?.name).toBe(calls[0]?.name);
    calls[1]?.release();
    await Promise.all([first, second]);
  });

  it('creates a new Event for a repeat when the first was never written or has expired', async () => {
    const { sink, calls } = heldSink();
    const { events, results } = recorder(sink, { concurrency: 1 });
    const first = events.record(subject('p'), 'Warning', 'ApplyFailed', 'Apply', 'failed');
    const second = events.record(subject('p'), 'Warning', 'ApplyFailed', 'Apply', 'failed');
    await settle();
    calls[0]?.fail(new Error('connection reset'));
    await first;
    await settle();
    expect(calls.map((c) => c.op)).toEqual(['create', 'create']);
    calls[1]?.release();
    await second;
    expect(results).toEqual(['failed', 'recorded']);

    // Expired: the patch finds nothing, so the repeat starts a new object.
    const third = events.record(subject('p'), 'Warning', 'ApplyFailed', 'Apply', 'failed');
    await settle();
    expect(calls[2]).toMatchObject({ op: 'patch', count: 2, name: calls[1]?.name });
    calls[2]?.fail(new KubeError('gone', { code: KUBE_ERROR_CODES.NotFound, retryable: false, status: 404 }));
    await settle();
    expect(calls[3]?.op).toBe('create');
    expect(calls[3]?.name).not.toBe(calls[1]?.name);
    calls[3]?.release();
    await third;
    expect(results).toEqual(['failed', 'recorded', 'recorded']);
  });
});
