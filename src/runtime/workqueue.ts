// A de-duplicating, rate-limited, delaying work queue with client-go's guarantees:
//  - a key added several times before a worker takes it is processed once;
//  - a key is never handed to two workers at once: re-added while in process, it is queued again
//    only when the worker calls `done`;
//  - `addAfter` delays a key (requeue-after for healthy waits); the earliest pending time wins;
//  - `addRateLimited` delays by the rate limiter (errors), `forget` resets that history;
//  - a priority, as controller-runtime's priority queue: the highest waiting priority is handed out
//    first, first-added first within one priority, and re-adding a waiting key can only raise it.
//    Informers add what they merely list again (the initial list, resyncs) at LOW_PRIORITY, so a
//    fresh problem is never stuck behind a resync of thousands.
// Items are plain string keys ("namespace/name"): reconcilers re-read the object.
import type { CancelTimer, Clock } from './clock.ts';
import type { RateLimiter } from './rate-limiter.ts';

/** Hooks for metrics; the queue knows nothing of prom-client. */
export interface QueueMetrics {
  /** Current number of keys waiting for a worker. */
  depth(n: number): void;
  /** A key was added (de-duplicated adds are not counted). */
  added(): void;
  /** Seconds a key waited in the queue before a worker took it. */
  queued(seconds: number): void;
  /** Seconds a worker held a key. */
  worked(seconds: number): void;
  /** A key was re-added by the rate limiter (a retry after an error). */
  retried(): void;
}

export type QueueItem = { key: string; shutdown: false } | { key: undefined; shutdown: true };

/** Events and requeues. */
export const NORMAL_PRIORITY = 0;
/** What the informer only lists again: the initial list, resyncs (controller-runtime's LowPriority). */
export const LOW_PRIORITY = -100;

interface Delayed {
  at: number;
  priority: number;
  cancel: CancelTimer;
}

interface Dirty {
  /** When the key was added (for the queued-seconds metric). */
  at: number;
  priority: number;
}

export interface WorkQueueOptions {
  clock: Clock;
  rateLimiter: RateLimiter;
  metrics?: QueueMetrics;
}

export class WorkQueue {
  readonly #clock: Clock;
  readonly #limiter: RateLimiter;
  readonly #metrics: QueueMetrics | undefined;

  /** Keys ready for a worker, by priority, each in the order added. Every key here is also in #dirty. */
  readonly #ready = new Map<number, Set<string>>();
  /** The priorities in #ready, highest first. */
  #priorities: number[] = [];
  #readyCount = 0;
  /** Keys that need processing (queued, or re-added while in process). */
  readonly #dirty = new Map<string, Dirty>();
  /** Keys a worker holds. Value: time taken. */
  readonly #processing = new Map<string, number>();
  /** Keys waiting for a delay to pass. */
  readonly #delayed = new Map<string, Delayed>();
  /** Workers blocked in `get`. */
  readonly #waiters: ((item: QueueItem) => void)[] = [];
  #shuttingDown = false;
  #paused = false;
  #drained: (() => void) | undefined;

  constructor(options: WorkQueueOptions) {
    this.#clock = options.clock;
    this.#limiter = options.rateLimiter;
    this.#metrics = options.metrics;
  }

  /** Keys waiting for a worker (not counting delayed or in-process keys). */
  len(): number {
    return this.#readyCount;
  }

  /** Keys waiting for a delay (requeue-after or backoff). */
  delayedLen(): number {
    return this.#delayed.size;
  }

  isProcessing(key: string): boolean {
    return this.#processing.has(key);
  }

  shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  add(key: string, priority = NORMAL_PRIORITY): void {
    if (this.#shuttingDown) return;
    const dirty = this.#dirty.get(key);
    if (dirty) {
      if (priority <= dirty.priority) return;
      // Already waiting: it moves up; in process: it goes back at the higher priority on `done`.
      if (!this.#processing.has(key)) this.#unready(key, dirty.priority);
      dirty.priority = priority;
      if (!this.#processing.has(key)) this.#push(key);
      return;
    }
    this.#dirty.set(key, { at: this.#clock.now(), priority });
    this.#metrics?.added();
    if (this.#processing.has(key)) return; // queued again by `done`
    this.#push(key);
  }

  /** Adds `key` after `delayMs`; an earlier pending time for the same key wins, with the higher priority. */
  addAfter(key: string, delayMs: number, priority = NORMAL_PRIORITY): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key, priority);
      return;
    }
    const at = this.#clock.now() + delayMs;
    const pending = this.#delayed.get(key);
    if (pending) {
      pending.priority = Math.max(pending.priority, priority);
      if (pending.at <= at) return;
      pending.cancel();
    }
    const entry: Delayed = { at, priority: Math.max(priority, pending?.priority ?? priority), cancel: () => undefined };
    entry.cancel = this.#clock.setTimer(delayMs, () => {
      this.#delayed.delete(key);
      this.add(key, entry.priority);
    });
    this.#delayed.set(key, entry);
  }

  /** Adds `key` after the rate limiter's delay for it (a retry after an error). */
  addRateLimited(key: string, priority = NORMAL_PRIORITY): void {
    if (this.#shuttingDown) return;
    this.#metrics?.retried();
    this.addAfter(key, this.#limiter.when(key), priority);
  }

  /** Forgets the failure history of `key`; its next error starts the backoff over. */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#limiter.numRequeues(key);
  }

  /**
   * Waits for a key. The caller owns it until `done(key)`. Resolves `{shutdown: true}` once the
   * queue shuts down: keys still queued are left for the next process (state is level-triggered).
   */
  get(): Promise<QueueItem> {
    if (this.#shuttingDown || this.#paused) return Promise.resolve({ key: undefined, shutdown: true });
    const key = this.#next();
    if (key !== undefined) return Promise.resolve(this.#take(key));
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Releases `key`; if it was re-added meanwhile it is queued now. */
  done(key: string): void {
    const takenAt = this.#processing.get(key);
    if (takenAt === undefined) return;
    this.#processing.delete(key);
    this.#metrics?.worked((this.#clock.now() - takenAt) / 1000);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#push(key);
    if (this.#processing.size === 0) this.#drained?.();
  }

  /**
   * Stops handing out keys until `resume`, waking blocked workers as a shutdown would; keys keep
   * being added and delayed adds keep their timers (leadership lost, to be regained).
   */
  pause(): void {
    this.#paused = true;
    for (const wake of this.#waiters.splice(0)) wake({ key: undefined, shutdown: true });
  }

  resume(): void {
    this.#paused = false;
  }

  /** Stops handing out keys, cancels delayed adds and wakes blocked workers. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const pending of this.#delayed.values()) pending.cancel();
    this.#delayed.clear();
    for (const wake of this.#waiters.splice(0)) wake({ key: undefined, shutdown: true });
    this.#metrics?.depth(this.#readyCount);
  }

  /** Shuts down and resolves once every key handed out has been released with `done`. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }

  #push(key: string): void {
    const waiter = this.#paused ? undefined : this.#waiters.shift();
    if (waiter) {
      waiter(this.#take(key));
      return;
    }
    const priority = this.#dirty.get(key)?.priority ?? NORMAL_PRIORITY;
    let bucket = this.#ready.get(priority);
    if (!bucket) {
      bucket = new Set();
      this.#ready.set(priority, bucket);
      this.#priorities = [...this.#ready.keys()].sort((a, b) => b - a);
    }
    bucket.add(key);
    this.#readyCount++;
    this.#metrics?.depth(this.#readyCount);
  }

  /** Takes a waiting key out of its bucket (to move it up). */
  #unready(key: string, priority: number): void {
    if (this.#ready.get(priority)?.delete(key)) this.#readyCount--;
  }

  /** The first-added key of the highest priority waiting, removed from #ready. */
  #next(): string | undefined {
    for (const priority of this.#priorities) {
      const bucket = this.#ready.get(priority);
      const first = bucket?.values().next();
      if (!bucket || !first || first.done) continue;
      bucket.delete(first.value);
      this.#readyCount--;
      return first.value;
    }
    return undefined;
  }

  #take(key: string): QueueItem {
    const addedAt = this.#dirty.get(key)?.at ?? this.#clock.now();
    this.#dirty.delete(key);
    const now = this.#clock.now();
    this.#processing.set(key, now);
    this.#metrics?.queued((now - addedAt) / 1000);
    this.#metrics?.depth(this.#readyCount);
    return { key, shutdown: false };
  }
}
