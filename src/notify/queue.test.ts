import { describe, expect, it } from 'vitest';
import type { NotificationDelivery, ProblemEvent } from '../api/index.ts';
import { ReboundError } from '../errors.ts';
import { FakeClock, flushMicrotasks } from '../runtime/clock.ts';
import type { NotificationEvent } from './events.ts';
import { ESCALATION, problemAt } from './fixtures.test-helper.ts';
import { DeliveryQueue } from './queue.ts';
import type { QueueOptions } from './queue.ts';
import type { Delivered, DeliveryContext, Sink } from './sink.ts';

/** A sink that records what it was given and fails while `down` says so. */
class RecordingSink implements Sink {
  readonly type = 'webhook';
  readonly delivered: { key: string; thread: string | undefined }[] = [];
  tries = 0;
  down: (() => ReboundError | undefined) | undefined;

  deliver(event: NotificationEvent, ctx: DeliveryContext): Promise<Delivered> {
    this.tries++;
    const failure = this.down?.();
    if (failure) return Promise.reject(failure);
    this.delivered.push({ key: event.key, thread: ctx.thread });
    return Promise.resolve(ctx.thread ? {} : { thread: `C1/${event.key}` });
  }
}

const unavailable = (): ReboundError =>
  new ReboundError('webhook answered HTTP 503', { code: 'SinkHttpError', retryable: true });

function queueWith(sink: Sink, clock: FakeClock, over: Partial<QueueOptions> = {}) {
  const counts = { changes: 0, dropped: 0, errors: 0, successes: 0 };
  const queue = new DeliveryQueue({
    namespace: 'shop',
    sink,
    route: {},
    clock,
    capacity: 10,
    retryInitialMs: 1000,
    retryMaxMs: 60_000,
    deliveries: [],
    notBeforeMs: 0,
    // No jitter: the retries fall due at 1 s, then 2 s more, exactly.
    random: () => 0,
    onChange: () => counts.changes++,
    metrics: {
      delivered: (_s, r) => (r === 'success' ? counts.successes++ : counts.errors++),
      dropped: () => counts.dropped++,
    },
    ...over,
  });
  const stop = new AbortController();
  const done = queue.run(stop.signal);
  return { queue, counts, stop: async () => (stop.abort(), await done) };
}

const resolved = (): ProblemEvent => problemAt(ESCALATION.at(-1));
const ALL_KEYS = [
  'uid-1/opened',
  'uid-1/1/committed',
  'uid-1/1/evaluated',
  'uid-1/1/escalated',
  'uid-1/2/committed',
  'uid-1/2/evaluated',
  'uid-1/resolved',
];

describe('DeliveryQueue', () => {
  it('delivers each step once, in order, as the status moves on, with the thread of the first', async () => {
    const clock = new FakeClock();
    const sink = new RecordingSink();
    const { queue, stop } = queueWith(sink, clock);
    for (const status of ESCALATION) {
      queue.offer(problemAt(status));
      await flushMicrotasks(50);
    }
    await stop();
    expect(sink.delivered.map((d) => d.key)).toEqual(ALL_KEYS);
    expect(sink.delivered.slice(1).every((d) => d.thread === 'C1/uid-1/opened')).toBe(true);
    expect(queue.deliveries()).toEqual([
      { problem: 'carts-high-latency', uid: 'uid-1', delivered: 7, thread: 'C1/uid-1/opened' },
    ]);
  });

  it('goes on from the persisted progress after a restart and sends nothing twice', async () => {
    const clock = new FakeClock();
    const sink = new RecordingSink();
    const deliveries: NotificationDelivery[] = [
      { problem: 'carts-high-latency', uid: 'uid-1', delivered: 3, thread: 'C1/t' },
    ];
    const { queue, stop } = queueWith(sink, clock, { deliveries });
    queue.offer(resolved());
    await flushMicrotasks(50);
    await stop();
    expect(sink.delivered).toEqual(ALL_KEYS.slice(3).map((key) => ({ key, thread: 'C1/t' })));
  });

  it('skips the steps its route does not take, and counts them as done', async () => {
    const clock = new FakeClock();
    const sink = new RecordingSink();
    const { queue, stop } = queueWith(sink, clock, { route: { steps: ['opened', 'resolved'] } });
    queue.offer(resolved());
    await flushMicrotasks(50);
    await stop();
    expect(sink.delivered.map((d) => d.key)).toEqual(['uid-1/opened', 'uid-1/resolved']);
    expect(queue.deliveries()[0]?.delivered).toBe(7);
  });

  it('holds a failing step with backoff, reports it, and delivers everything once when the sink is back', async () => {
    const clock = new FakeClock();
    const sink = new RecordingSink();
    sink.down = unavailable;
    const { queue, counts, stop } = queueWith(sink, clock);
    queue.offer(problemAt(ESCALATION[1]));
    await flushMicrotasks(50);
    expect(queue.health()).toMatchObject({
      failing: true,
      failures: 1,
      pending: 1,
      lastError: 'webhook answered HTTP 503',
    });
    // The loop keeps writing while the sink is down: offers return at once and nothing is lost.
    for (const status of ESCALATION.slice(2)) queue.offer(problemAt(status));
    await clock.advance(999);
    expect(sink.tries).toBe(1);
    await clock.advance(1);
    expect(sink.tries).toBe(2);
    await clock.advance(2_000);
    expect(sink.tries).toBe(3);
    expect(sink.delivered).toEqual([]);
    sink.down = undefined;
    await clock.advance(60_000);
    await stop();
    expect(sink.delivered.map((d) => d.key)).toEqual(ALL_KEYS);
    expect(queue.health()).toMatchObject({ failing: false, failures: 0, pending: 0 });
    expect(counts.errors).toBe(3);
    expect(counts.successes).toBe(7);
  });

  it('waits the longest after a refusal only a person can fix, and at once after a new sink', async () => {
    const clock = new FakeClock();
    const sink = new RecordingSink();
    sink.down = () =>
      new ReboundError('slack: chat.postMessage failed: invalid_auth', { code: 'SlackError', retryable: false });
    const { queue, stop } = queueWith(sink, clock);
    queue.offer(resolved());
    await flushMicrotasks(50);
    await clock.advance(59_000);
    expect(sink.tries).toBe(1);
    const fixed = new RecordingSink();
    queue.replaceSink(fixed);
    await flushMicrotasks(50);
    await stop();
    expect(fixed.delivered.map((d) => d.key)).toEqual(ALL_KEYS);
  });

  it('is bounded: a full queue drops a new problem (it comes back at its next offer)', async () => {
    const clock = new FakeClock();
    const sink = new RecordingSink();
    sink.down = unavailable;
    const { queue, counts, stop } = queueWith(sink, clock, { capacity: 2 });
    const other = (uid: string): ProblemEvent => {
      const p = resolved();
      p.metadata.uid = uid;
      return p;
    };
    queue.offer(other('a'));
    queue.offer(other('b'));
    await flushMicrotasks(50);
    queue.offer(other('c'));
    queue.offer(other('d'));
    expect(counts.dropped).toBe(2);
    expect(queue.health().pending).toBe(2);
    sink.down = undefined;
    await clock.advance(60_000);
    queue.offer(other('c'));
    queue.offer(other('d'));
    await flushMicrotasks(50);
    await stop();
    expect(new Set(sink.delivered.map((d) => d.key.split('/')[0]))).toEqual(new Set(['a', 'b', 'c', 'd']));
    expect(sink.delivered).toHaveLength(28);
  });

  it("takes only its own namespace's problems", async () => {
    const clock = new FakeClock();
    const sink = new RecordingSink();
    const { queue, stop } = queueWith(sink, clock);
    const elsewhere = resolved();
    elsewhere.metadata.namespace = 'other-team';
    queue.offer(elsewhere);
    await flushMicrotasks(50);
    await stop();
    expect(sink.delivered).toEqual([]);
    expect(queue.deliveries()).toEqual([]);
  });

  it('leaves out problems older than the Notification unless it has progress for them', async () => {
    const clock = new FakeClock();
    const sink = new RecordingSink();
    const { queue, stop } = queueWith(sink, clock, { notBeforeMs: Date.parse('2026-12-02T11:00:00Z') });
    queue.offer(resolved());
    await flushMicrotasks(50);
    await stop();
    expect(sink.delivered).toEqual([]);
    expect(queue.health().pending).toBe(0);
  });
});
