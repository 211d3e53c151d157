// Rate limiters decide how long a failed key waits before its next try (client-go's workqueue
// limiters). The default combines a per-key exponential backoff with an overall token bucket and
// takes the longer of the two, so one broken object backs off alone while a storm of failures
// cannot exceed the bucket's rate.
import type { Clock } from './clock.ts';

export interface RateLimiter {
  /** Delay in ms before `key` may be retried; records one more failure for it. */
  when(key: string): number;
  /** Clears the failure history of `key` (call after a success). */
  forget(key: string): void;
  /** Failures recorded for `key` since the last `forget`. */
  numRequeues(key: string): number;
}

export interface ExponentialOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

/** base * 2^failures, capped at max. */
export class ItemExponentialRateLimiter implements RateLimiter {
  readonly #failures = new Map<string, number>();
  readonly #baseMs: number;
  readonly #maxMs: number;

  constructor(options: ExponentialOptions) {
    this.#baseMs = options.baseDelayMs;
    this.#maxMs = options.maxDelayMs;
  }

  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    // Exponents past ~60 overflow to Infinity; the cap keeps the result finite.
    return Math.min(this.#baseMs * 2 ** failures, this.#maxMs);
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

export interface BucketOptions {
  /** Sustained rate in tokens per second. */
  qps: number;
  /** Tokens available at once. */
  burst: number;
}

/** A token bucket shared by all keys: each `when` reserves one token and waits for it if needed. */
export class BucketRateLimiter implements RateLimiter {
  readonly #clock: Clock;
  readonly #qps: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;

  constructor(clock: Clock, options: BucketOptions) {
    this.#clock = clock;
    this.#qps = options.qps;
    this.#burst = options.burst;
    this.#tokens = options.burst;
    this.#last = clock.now();
  }

  when(_key: string): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#qps) * 1000);
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** The longest delay of several limiters. */
export class MaxOfRateLimiter implements RateLimiter {
  readonly #limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.#limiters = limiters;
  }

  when(key: string): number {
    let delay = 0;
    for (const limiter of this.#limiters) delay = Math.max(delay, limiter.when(key));
    return delay;
  }

  forget(key: string): void {
    for (const limiter of this.#limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    let n = 0;
    for (const limiter of this.#limiters) n = Math.max(n, limiter.numRequeues(key));
    return n;
  }
}

export interface ControllerRateLimiterOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  qps?: number;
  burst?: number;
}

/** controller-runtime's default: 5 ms → 1000 s per key, and 10 qps with a burst of 100 overall. */
export function defaultControllerRateLimiter(clock: Clock, options: ControllerRateLimiterOptions = {}): RateLimiter {
  return new MaxOfRateLimiter(
    new ItemExponentialRateLimiter({
      baseDelayMs: options.baseDelayMs ?? 5,
      maxDelayMs: options.maxDelayMs ?? 1_000_000,
    }),
    new BucketRateLimiter(clock, { qps: options.qps ?? 10, burst: options.burst ?? 100 }),
  );
}
