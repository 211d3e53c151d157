import { describe, expect, it } from 'vitest';
import { ReboundError } from '../errors.ts';
import { createLogger } from '../observability/logger.ts';
import { FakeClock, flushMicrotasks } from './clock.ts';
import { Controller, type ControllerMetrics, type ReconcileContext, type ReconcileResult } from './controller.ts';
import { LeadershipLost } from './leader-election.ts';
import { ItemExponentialRateLimiter } from './rate-limiter.ts';
import { WorkQueue } from './workqueue.ts';

type Behaviour = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult | undefined>;

interface Harness {
  queue: WorkQueue;
  clock: FakeClock;
  controller: Controller;
  calls: string[];
  outcomes: string[];
  errors: string[];
  stop: () => Promise<void>;
}

function start(behaviour: Behaviour, workers = 2, drainTimeoutMs = 1_000): Harness {
  const clock = new FakeClock();
  const queue = new WorkQueue({
    clock,
    rateLimiter: new ItemExponentialRateLimiter({ baseDelayMs: 5, maxDelayMs: 1_000 }),
  });
  const calls: string[] = [];
  const outcomes: string[] = [];
  const errors: string[] = [];
  const metrics: ControllerMetrics = {
    reconciled: (_c, outcome) => outcomes.push(outcome),
    reconcileError: (_c, reason) => errors.push(reason),
    activeWorkers: () => {},
  };
  const controller = new Controller({
    name: 'test',
    queue,
    clock,
    workers,
    metrics,
    log: createLogger({ level: 'silent' }),
    reconciler: {
      reconcile: (key, ctx) => {
        calls.push(key);
        return behaviour(key, ctx);
      },
    },
  });
  const abort = new AbortController();
  const running = controller.run(abort.signal, drainTimeoutMs);
  const stop = async (): Promise<void> => {
    abort.abort();
    await flushMicrotasks();
    await running;
  };
  return { clock, controller, queue, calls, outcomes, errors, stop };
}

/** A promise with its resolve function, to hold a reconcile open. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('Controller', () => {
  it('reconciles a key once and forgets it on success', async () => {
    const h = start(() => Promise.resolve(undefined));
    h.controller.enqueue('ns/a');
    await flushMicrotasks();
    await h.clock.advance(10_000);
    expect(h.calls).toEqual(['ns/a']);
    expect(h.outcomes).toEqual(['success']);
    await h.stop();
  });

  it('requeues after the requested delay without counting an error', async () => {
    const h = start(() => Promise.resolve({ requeueAfterMs: 120_000 }));
    h.controller.enqueue('ns/a');
    await flushMicrotasks();
    await h.clock.advance(119_999);
    expect(h.calls).toHaveLength(1);
    await h.clock.advance(1);
    expect(h.calls).toHaveLength(2);
    expect(h.outcomes).toEqual(['requeue_after', 'requeue_after']);
    expect(h.errors).toEqual([]);
    await h.stop();
  });

  it('retries a retryable error with growing backoff, and resets it after a success', async () => {
    let failures = 3;
    const h = start(() => {
      if (failures-- > 0) {
        return Promise.reject(
          new ReboundError('git down', { code: 'GitServerError', reason: 'GitUnreachable', retryable: true }),
        );
      }
      return Promise.resolve(undefined);
    });
    h.controller.enqueue('ns/a');
    await flushMicrotasks();
    expect(h.calls).toHaveLength(1);
    await h.clock.advance(5);
    expect(h.calls).toHaveLength(2);
    await h.clock.advance(9);
    expect(h.calls).toHaveLength(2); // second backoff is 10 ms
    await h.clock.advance(1);
    expect(h.calls).toHaveLength(3);
    await h.clock.advance(20);
    expect(h.calls).toHaveLength(4);
    expect(h.outcomes).toEqual(['error', 'error', 'error', 'success']);
    expect(h.errors).toEqual(['GitUnreachable', 'GitUnreachable', 'GitUnreachable']);
    expect(h.queue.numRequeues('ns/a')).toBe(0);
    await h.stop();
  });

  it('counts an error without a condition reason by its code', async () => {
    const h = start(() => Promise.reject(new ReboundError('api down', { code: 'KubeUnavailable', retryable: false })));
    h.controller.enqueue('ns/a');
    await flushMicrotasks();
    expect(h.errors).toEqual(['KubeUnavailable']);
    await h.stop();
  });

  it('does not retry a terminal error', async () => {
    const h = start(() =>
      Promise.reject(
        new ReboundError('no such project', { code: 'ProjectNotFound', reason: 'ProjectNotFound', retryable: false }),
      ),
    );
    h.controller.enqueue('ns/a');
    await flushMicrotasks();
    await h.clock.advance(3_600_000);
    expect(h.calls).toHaveLength(1);
    expect(h.outcomes).toEqual(['terminal_error']);
    expect(h.errors).toEqual(['ProjectNotFound']);
    await h.stop();
  });

  it('survives unclassified exceptions and thrown non-errors, retrying them', async () => {
    let n = 0;
    const h = start((key) => {
      n++;
      if (key === 'ns/boom' && n === 1) throw new TypeError('undefined is not a function');
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the loop must survive non-Error rejections
      if (key === 'ns/boom' && n === 2) return Promise.reject('a string');
      return Promise.resolve(undefined);
    });
    h.controller.enqueue('ns/boom');
    await flushMicrotasks();
    await h.clock.advance(100);
    h.controller.enqueue('ns/other');
    await flushMicrotasks();
    expect(h.calls).toEqual(['ns/boom', 'ns/boom', 'ns/boom', 'ns/other']);
    expect(h.errors).toEqual(['Unknown', 'Unknown']);
    await h.stop();
  });

  it('never reconciles one key concurrently, but runs different keys in parallel', async () => {
    const gates = new Map<string, ReturnType<typeof gate>>();
    let running = 0;
    let maxRunning = 0;
    const runningKeys = new Set<string>();
    let overlap = false;
    const h = start(async (key) => {
      if (runningKeys.has(key)) overlap = true;
      runningKeys.add(key);
      running++;
      maxRunning = Math.max(maxRunning, running);
      const g = gate();
      gates.set(key, g);
      await g.promise;
      running--;
      runningKeys.delete(key);
      return undefined;
    });
    h.controller.enqueue('ns/a');
    h.controller.enqueue('ns/b');
    await flushMicrotasks();
    h.controller.enqueue('ns/a'); // a is in process: must wait
    await flushMicrotasks();
    expect(h.calls).toEqual(['ns/a', 'ns/b']);
    expect(maxRunning).toBe(2);
    gates.get('ns/a')?.open();
    await flushMicrotasks();
    expect(h.calls).toEqual(['ns/a', 'ns/b', 'ns/a']);
    gates.get('ns/a')?.open();
    gates.get('ns/b')?.open();
    await flushMicrotasks();
    expect(overlap).toBe(false);
    await h.stop();
  });

  it('gives each reconcile its own id', async () => {
    const ids: string[] = [];
    const h = start((_key, ctx) => {
      ids.push(ctx.reconcileId);
      return Promise.resolve(undefined);
    });
    h.controller.enqueue('ns/a');
    h.controller.enqueue('ns/b');
    await flushMicrotasks();
    expect(new Set(ids).size).toBe(2);
    await h.stop();
  });

  it('on stop, waits for in-flight reconciles and takes no new keys', async () => {
    const g = gate();
    let finished = false;
    const h = start(async () => {
      await g.promise;
      finished = true;
      return undefined;
    });
    h.controller.enqueue('ns/a');
    await flushMicrotasks();
    let stopped = false;
    const stopping = h.stop().then(() => (stopped = true));
    await flushMicrotasks();
    h.controller.enqueue('ns/late');
    expect(stopped).toBe(false);
    g.open();
    await stopping;
    expect(finished).toBe(true);
    expect(h.calls).toEqual(['ns/a']);
  });

  it('aborts the signal of reconciles still running at the drain deadline', async () => {
    let aborted = false;
    const h = start(
      (_key, ctx) =>
        new Promise(() => {
          ctx.signal.addEventListener('abort', () => (aborted = true));
        }),
      1,
      500,
    );
    h.controller.enqueue('ns/stuck');
    await flushMicrotasks();
    const abort = h.stop();
    await flushMicrotasks(); // let the controller arm its drain deadline
    await h.clock.advance(499);
    expect(aborted).toBe(false);
    await h.clock.advance(1);
    await abort;
    expect(aborted).toBe(true);
  });
});

describe('Controller cache sync', () => {
  it('starts no worker before every cache it reads has synced', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({
      clock,
      rateLimiter: new ItemExponentialRateLimiter({ baseDelayMs: 5, maxDelayMs: 1_000 }),
    });
    let markSynced = (_: boolean): void => {};
    const synced = new Promise<boolean>((resolve) => (markSynced = resolve));
    const calls: string[] = [];
    const controller = new Controller({
      name: 'test',
      queue,
      clock,
      log: createLogger({ level: 'silent' }),
      waitFor: [{ name: 'problemevents', waitForSync: () => synced }],
      reconciler: {
        reconcile: (key) => {
          calls.push(key);
          return Promise.resolve(undefined);
        },
      },
    });
    const abort = new AbortController();
    const running = controller.run(abort.signal);
    controller.enqueue('ns/early');
    await flushMicrotasks();
    expect(calls).toEqual([]);
    markSynced(true);
    await flushMicrotasks();
    expect(calls).toEqual(['ns/early']);
    abort.abort();
    await running;
  });

  it('returns without working when stopped before the caches synced', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({
      clock,
      rateLimiter: new ItemExponentialRateLimiter({ baseDelayMs: 5, maxDelayMs: 1_000 }),
    });
    const controller = new Controller({
      name: 'test',
      queue,
      clock,
      log: createLogger({ level: 'silent' }),
      waitFor: [
        {
          name: 'never',
          waitForSync: (signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(false))),
        },
      ],
      reconciler: { reconcile: () => Promise.reject(new Error('must not run')) },
    });
    const abort = new AbortController();
    const running = controller.run(abort.signal);
    controller.enqueue('ns/a');
    abort.abort();
    await running;
    expect(queue.shuttingDown()).toBe(true);
  });

  describe('when leadership is lost', () => {
    function leaderController(behaviour: Behaviour, mayAct: () => boolean = () => true) {
      const clock = new FakeClock();
      const queue = new WorkQueue({
        clock,
        rateLimiter: new ItemExponentialRateLimiter({ baseDelayMs: 5, maxDelayMs: 1_000 }),
      });
      const calls: string[] = [];
      const controller = new Controller({
        name: 'test',
        queue,
        clock,
        workers: 1,
        mayAct,
        log: createLogger({ level: 'silent' }),
        reconciler: {
          reconcile: (key, ctx) => {
            calls.push(key);
            return behaviour(key, ctx);
          },
        },
      });
      return { clock, queue, controller, calls };
    }

    it('aborts in-flight reconciles at once (no drain), and keeps the keys for the next term', async () => {
      const held = gate();
      const reasons: unknown[] = [];
      const h = leaderController(async (_key, ctx) => {
        ctx.signal.addEventListener('abort', () => reasons.push(ctx.signal.reason));
        await held.promise;
        return undefined;
      });
      const term1 = new AbortController();
      const running = h.controller.run(term1.signal, 60_000);
      h.controller.enqueue('ns/a');
      await flushMicrotasks();
      h.controller.enqueue('ns/b');
      term1.abort(new LeadershipLost());
      await flushMicrotasks();
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toBeInstanceOf(LeadershipLost);
      held.open();
      await running;
      // Keys added while not leading are kept; the next term reconciles them.
      h.controller.enqueue('ns/c');
      const term2 = new AbortController();
      const again = h.controller.run(term2.signal, 1_000);
      await flushMicrotasks();
      await h.clock.advance(100);
      expect(h.calls).toEqual(['ns/a', 'ns/b', 'ns/c']);
      term2.abort();
      await again;
    });

    it('never starts a reconcile while the lease is not held', async () => {
      let leading = false;
      const h = leaderController(
        () => Promise.resolve(undefined),
        () => leading,
      );
      const term = new AbortController();
      const running = h.controller.run(term.signal, 1_000);
      h.controller.enqueue('ns/a');
      await flushMicrotasks();
      expect(h.calls).toEqual([]);
      term.abort(new LeadershipLost());
      await running;
      leading = true;
      const next = new AbortController();
      const again = h.controller.run(next.signal, 1_000);
      await flushMicrotasks();
      expect(h.calls).toEqual(['ns/a']);
      next.abort();
      await again;
    });
  });
});
