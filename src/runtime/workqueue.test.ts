import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './clock.ts';
import { ItemExponentialRateLimiter } from './rate-limiter.ts';
import { LOW_PRIORITY, WorkQueue, type QueueMetrics } from './workqueue.ts';

function newQueue(metrics?: QueueMetrics): { clock: FakeClock; queue: WorkQueue } {
  const clock = new FakeClock();
  const rateLimiter = new ItemExponentialRateLimiter({ baseDelayMs: 5, maxDelayMs: 1_000_000 });
  return { clock, queue: new WorkQueue(metrics ? { clock, rateLimiter, metrics } : { clock, rateLimiter }) };
}

async function take(queue: WorkQueue): Promise<string> {
  const item = await queue.get();
  if (item.shutdown) throw new Error('queue shut down');
  return item.key;
}

describe('WorkQueue', () => {
  it('processes a key added twice once, in first-added order', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.len()).toBe(2);
    expect(await take(queue)).toBe('ns/a');
    expect(await take(queue)).toBe('ns/b');
    expect(queue.len()).toBe(0);
  });

  it('never hands a key in process to a second worker; a re-add runs after done', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    expect(await take(queue)).toBe('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    expect(queue.len()).toBe(0); // held back while the first worker has it

    let second: string | undefined;
    void queue.get().then((item) => (second = item.key));
    await flushMicrotasks();
    expect(second).toBeUndefined();

    queue.done('ns/a');
    await flushMicrotasks();
    expect(second).toBe('ns/a');
    expect(queue.len()).toBe(0); // the two re-adds collapsed into one
  });

  it('done without a re-add does not queue the key again', async () => {
    const { queue } = newQueue();
    queue.add('k');
    await take(queue);
    queue.done('k');
    expect(queue.len()).toBe(0);
  });

  it('wakes a blocked worker when a key arrives', async () => {
    const { queue } = newQueue();
    const got = queue.get();
    queue.add('k');
    expect(await got).toEqual({ key: 'k', shutdown: false });
  });

  it('addAfter delays a key, and the earliest pending time wins', async () => {
    const { clock, queue } = newQueue();
    queue.addAfter('k', 2_000);
    queue.addAfter('k', 500);
    queue.addAfter('k', 5_000);
    expect(queue.delayedLen()).toBe(1);
    await clock.advance(499);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.len()).toBe(1);
    await clock.advance(10_000);
    expect(queue.len()).toBe(1); // the later schedules were dropped, not queued again
    expect(clock.pendingTimers()).toBe(0);
  });

  it('addAfter with no delay adds at once', () => {
    const { queue } = newQueue();
    queue.addAfter('k', 0);
    expect(queue.len()).toBe(1);
  });

  it('addRateLimited backs off exponentially per key until forget', async () => {
    const { clock, queue } = newQueue();
    queue.addRateLimited('k'); // 5 ms
    queue.addRateLimited('k'); // 10 ms, later than the pending 5 ms: ignored
    expect(queue.numRequeues('k')).toBe(2);
    await clock.advance(5);
    expect(queue.len()).toBe(1);
    await take(queue);
    queue.done('k');
    queue.addRateLimited('k'); // third failure: 20 ms
    await clock.advance(19);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.len()).toBe(1);
    queue.forget('k');
    expect(queue.numRequeues('k')).toBe(0);
  });

  it('shutDown wakes blocked workers, cancels delayed keys and refuses new keys', async () => {
    const { clock, queue } = newQueue();
    const blocked = queue.get();
    queue.addAfter('later', 1_000);
    queue.shutDown();
    expect(await blocked).toEqual({ key: undefined, shutdown: true });
    expect(clock.pendingTimers()).toBe(0);
    queue.add('new');
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toEqual({ key: undefined, shutdown: true });
  });

  it('shutDownWithDrain resolves only after in-process keys are done', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.add('b');
    await take(queue);
    await take(queue);
    let drained = false;
    const drain = queue.shutDownWithDrain().then(() => (drained = true));
    queue.done('a');
    await flushMicrotasks();
    expect(drained).toBe(false);
    queue.done('b');
    await drain;
    expect(drained).toBe(true);
  });

  it('reports depth, adds, wait time, work time and retries to its metrics hooks', async () => {
    const seen = { depth: [] as number[], added: 0, queued: [] as number[], worked: [] as number[], retried: 0 };
    const { clock, queue } = newQueue({
      depth: (n) => seen.depth.push(n),
      added: () => seen.added++,
      queued: (s) => seen.queued.push(s),
      worked: (s) => seen.worked.push(s),
      retried: () => seen.retried++,
    });
    queue.add('k');
    queue.add('k');
    await clock.advance(1_500);
    await take(queue);
    await clock.advance(250);
    queue.done('k');
    queue.addRateLimited('k');
    expect(seen.added).toBe(1);
    expect(seen.queued).toEqual([1.5]);
    expect(seen.worked).toEqual([0.25]);
    expect(seen.retried).toBe(1);
    expect(seen.depth).toEqual([1, 0]);
  });

  describe('priorities', () => {
    it('hands out a fresh key before a resync of thousands, first-added first within a priority', async () => {
      const { queue } = newQueue();
      for (let i = 0; i < 5_000; i++) queue.add(`ns/old-${String(i)}`, LOW_PRIORITY);
      queue.add('ns/fresh');
      queue.add('ns/fresher');
      expect(queue.len()).toBe(5_002);
      expect(await take(queue)).toBe('ns/fresh');
      expect(await take(queue)).toBe('ns/fresher');
      expect(await take(queue)).toBe('ns/old-0');
      expect(await take(queue)).toBe('ns/old-1');
      expect(queue.len()).toBe(4_998);
    });

    it('raises a waiting key re-added at a higher priority, and never lowers it', async () => {
      const { queue } = newQueue();
      queue.add('low-a', LOW_PRIORITY);
      queue.add('low-b', LOW_PRIORITY);
      queue.add('normal');
      queue.add('low-b'); // an event for it arrives: it is news now
      queue.add('normal', LOW_PRIORITY); // a resync of a key already waiting as news keeps it news
      expect(queue.len()).toBe(3);
      expect(await take(queue)).toBe('normal');
      expect(await take(queue)).toBe('low-b');
      expect(await take(queue)).toBe('low-a');
    });

    it('requeues a key re-added while in process at the highest priority it was added with', async () => {
      const { queue } = newQueue();
      queue.add('k', LOW_PRIORITY);
      expect(await take(queue)).toBe('k');
      queue.add('k', LOW_PRIORITY);
      queue.add('k');
      queue.add('other', LOW_PRIORITY);
      queue.done('k');
      expect(await take(queue)).toBe('k');
      expect(await take(queue)).toBe('other');
    });

    it('keeps the priority of a delayed add, the higher one when two delays meet', async () => {
      const { clock, queue } = newQueue();
      queue.add('waiting', LOW_PRIORITY);
      queue.addAfter('later', 100, LOW_PRIORITY);
      queue.addAfter('later', 50); // earlier and news: both win
      queue.addAfter('due', 10, LOW_PRIORITY);
      queue.addAfter('due', 500); // later, but its priority still counts
      await clock.advance(100);
      expect(queue.len()).toBe(3);
      // Both are news now: the one that came due first goes first; the resync waits for both.
      expect(await take(queue)).toBe('due');
      expect(await take(queue)).toBe('later');
      expect(await take(queue)).toBe('waiting');
    });
  });
});
