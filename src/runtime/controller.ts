// The worker loop: controller-runtime's reconcile contract in TypeScript.
//   reconcile(key) resolves {requeueAfterMs?}  → forget the key's backoff; requeue after the delay if given
//   reconcile(key) throws a retryable error    → requeue with the rate limiter's backoff
//   reconcile(key) throws a terminal error     → no retry (a person must fix it), counted
// Exceptions never escape a worker. A key is never reconciled by two workers at once (the queue
// guarantees it), and every reconcile gets a child logger with its own reconcileId.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import { isLeadershipLost } from './leader-election.ts';
import { splitKey } from './keys.ts';
import type { WorkQueue } from './workqueue.ts';

export interface ReconcileResult {
  /** Reconcile the key again after this long (a healthy wait, not an error). */
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  log: Logger;
  reconcileId: string;
  /** Aborted when the reconcile exceeds its timeout, the controller stops past its drain deadline,
   * or (at once, with a LeadershipLost reason) when this replica stops leading. */
  signal: AbortSignal;
}

export interface Reconciler {
  reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult | undefined | void>;
}

/** Outcome labels, bounded, for metrics. */
export const ReconcileOutcome = {
  Success: 'success',
  RequeueAfter: 'requeue_after',
  Error: 'error',
  Terminal: 'terminal_error',
} as const;
export type ReconcileOutcome = (typeof ReconcileOutcome)[keyof typeof ReconcileOutcome];

export interface ControllerMetrics {
  reconciled(controller: string, outcome: ReconcileOutcome, seconds: number): void;
  /** `reason` is the error's condition reason, else its code (both bounded); `Unknown` for unclassified errors. */
  reconcileError(controller: string, reason: string): void;
  activeWorkers(controller: string, n: number): void;
}

/** What the loop needs to know of an error to decide on retry; ReboundError satisfies it. */
export interface ClassifiedError {
  code: string;
  reason?: string | undefined;
  retryable: boolean;
}

export function isClassified(err: unknown): err is Error & ClassifiedError {
  return (
    err instanceof Error &&
    typeof (err as Partial<ClassifiedError>).code === 'string' &&
    typeof (err as Partial<ClassifiedError>).retryable === 'boolean'
  );
}

export interface ControllerOptions {
  name: string;
  queue: WorkQueue;
  reconciler: Reconciler;
  log: Logger;
  clock: Clock;
  /** Concurrent workers (different keys only). */
  workers?: number;
  /** Per-reconcile deadline; its signal aborts when passed. Default 5 minutes. */
  reconcileTimeoutMs?: number;
  metrics?: ControllerMetrics;
  /**
   * Caches the reconciler reads; workers start only once all have synced, so a reconcile never
   * mistakes a cache still loading for objects that do not exist.
   */
  waitFor?: readonly CacheSync[];
  /**
   * Checked right before each reconcile starts: false (the Lease not renewed in time, as a process
   * that was paused finds out before its timers run) and the key waits for the next leader term.
   */
  mayAct?: () => boolean;
}

export interface CacheSync {
  name: string;
  waitForSync(signal: AbortSignal): Promise<boolean>;
}

export class Controller {
  readonly name: string;
  readonly #queue: WorkQueue;
  readonly #reconciler: Reconciler;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #workers: number;
  readonly #timeoutMs: number;
  readonly #metrics: ControllerMetrics | undefined;
  readonly #inFlight = new Set<AbortController>();
  readonly #waitFor: readonly CacheSync[];
  readonly #mayAct: () => boolean;
  #active = 0;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#queue = options.queue;
    this.#reconciler = options.reconciler;
    this.#log = options.log.child({ controller: options.name });
    this.#clock = options.clock;
    this.#workers = options.workers ?? 2;
    this.#timeoutMs = options.reconcileTimeoutMs ?? 300_000;
    this.#metrics = options.metrics;
    this.#waitFor = options.waitFor ?? [];
    this.#mayAct = options.mayAct ?? (() => true);
  }

  /** Enqueues a key (what watch handlers call); LOW_PRIORITY for what the informer only lists again. */
  enqueue(key: string, priority?: number): void {
    this.#queue.add(key, priority);
  }

  /**
   * Runs the workers until `signal` aborts, then stops taking keys and waits for in-flight
   * reconciles up to `drainTimeoutMs`; past it their signals abort and it returns anyway.
   * When `signal` aborts with LeadershipLost, in-flight reconciles are aborted at once and the
   * queue only pauses: its keys stay for the next `run` (the next term of leadership).
   */
  async run(signal: AbortSignal, drainTimeoutMs = 30_000): Promise<void> {
    this.#queue.resume();
    if (this.#waitFor.length > 0) {
      this.#log.info({ caches: this.#waitFor.map((c) => c.name) }, 'waiting for caches to sync');
      const synced = await Promise.all(this.#waitFor.map((c) => c.waitForSync(signal)));
      if (!synced.every(Boolean)) {
        this.#queue.shutDown();
        return;
      }
    }
    this.#log.info({ workers: this.#workers }, 'starting workers');
    this.#metrics?.activeWorkers(this.name, 0);
    const workers = Array.from({ length: this.#workers }, () => this.#worker(signal));
    await waitForAbort(signal);
    this.#log.info({ inFlight: this.#inFlight.size }, 'stopping workers');
    if (isLeadershipLost(signal.reason)) {
      // Not ours to act on any more: cancel now (child processes included), keep the keys.
      this.#queue.pause();
      for (const inFlight of this.#inFlight) inFlight.abort(signal.reason);
      let cancel = (): void => {};
      const stopped = await Promise.race([
        Promise.all(workers).then(() => true),
        new Promise<boolean>((resolve) => {
          cancel = this.#clock.setTimer(drainTimeoutMs, () => resolve(false));
        }),
      ]);
      cancel();
      if (!stopped)
        this.#log.warn({ inFlight: this.#inFlight.size, drainTimeoutMs }, 'reconciles ignored their cancelled signal');
      this.#log.info('workers stopped: leadership lost');
      return;
    }
    const drained = this.#queue.shutDownWithDrain();
    let cancelDeadline = (): void => {};
    const timedOut = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => {
        cancelDeadline = this.#clock.setTimer(drainTimeoutMs, () => resolve(true));
      }),
    ]);
    cancelDeadline();
    if (timedOut) {
      this.#log.warn({ inFlight: this.#inFlight.size, drainTimeoutMs }, 'drain deadline passed, aborting reconciles');
      for (const inFlight of this.#inFlight) inFlight.abort(new Error('controller stopping'));
      // A reconcile that ignores its signal must not hold the process: the workers are left behind.
      return;
    }
    await Promise.all(workers);
    this.#log.info('workers stopped');
  }

  async #worker(stop: AbortSignal): Promise<void> {
    for (;;) {
      const item = await this.#queue.get();
      if (item.shutdown) return;
      if (stop.aborted || !this.#mayAct()) {
        // Never start a step without holding the Lease: the key waits for the next term.
        this.#queue.done(item.key);
        this.#queue.add(item.key);
        if (stop.aborted) return;
        this.#queue.pause();
        this.#log.warn({ key: item.key }, 'lease not renewed in time: not starting the reconcile');
        return;
      }
      this.#active++;
      this.#metrics?.activeWorkers(this.name, this.#active);
      try {
        await this.#reconcileHandler(item.key);
      } finally {
        this.#active--;
        this.#metrics?.activeWorkers(this.name, this.#active);
        this.#queue.done(item.key);
      }
    }
  }

  async #reconcileHandler(key: string): Promise<void> {
    const reconcileId = randomUUID();
    const { namespace, name } = splitKey(key);
    const log = this.#log.child({ namespace, name, reconcileId });
    const abort = new AbortController();
    const cancelTimeout = this.#clock.setTimer(this.#timeoutMs, () =>
      abort.abort(new Error(`reconcile exceeded ${this.#timeoutMs} ms`)),
    );
    this.#inFlight.add(abort);
    const started = this.#clock.now();
    const elapsed = (): number => (this.#clock.now() - started) / 1000;
    try {
      const result = await this.#reconciler.reconcile(key, { log, reconcileId, signal: abort.signal });
      const requeueAfterMs = result?.requeueAfterMs ?? 0;
      this.#queue.forget(key);
      if (requeueAfterMs > 0) {
        this.#queue.addAfter(key, requeueAfterMs);
        this.#metrics?.reconciled(this.name, ReconcileOutcome.RequeueAfter, elapsed());
        log.debug({ requeueAfterMs }, 'reconciled, requeue after');
      } else {
        this.#metrics?.reconciled(this.name, ReconcileOutcome.Success, elapsed());
        log.debug('reconciled');
      }
    } catch (err) {
      this.#handleError(key, err, log, elapsed());
    } finally {
      cancelTimeout();
      this.#inFlight.delete(abort);
    }
  }

  #handleError(key: string, err: unknown, log: Logger, seconds: number): void {
    const reason = isClassified(err) ? (err.reason ?? err.code) : 'Unknown';
    this.#metrics?.reconcileError(this.name, reason);
    if (isClassified(err) && !err.retryable) {
      // Terminal: retrying cannot help until something changes, and a change enqueues the key anyway.
      this.#queue.forget(key);
      this.#metrics?.reconciled(this.name, ReconcileOutcome.Terminal, seconds);
      log.error({ err, reason }, 'reconcile failed, not retrying');
      return;
    }
    this.#queue.addRateLimited(key);
    this.#metrics?.reconciled(this.name, ReconcileOutcome.Error, seconds);
    log.warn({ err, reason, retries: this.#queue.numRequeues(key) }, 'reconcile failed, retrying with backoff');
  }
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
