// Capped exponential backoff with jitter for loops that retry on their own (informer restarts,
// leader election API errors): the jitter keeps several replicas from retrying in lock-step.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Fraction of the delay added at random, 0..1. */
  jitter?: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

export class Backoff {
  readonly #options: Required<BackoffOptions>;
  #failures = 0;

  constructor(options: BackoffOptions) {
    this.#options = { jitter: 0.2, random: Math.random, ...options };
  }

  /** The delay before the next try; each call counts one more failure. */
  next(): number {
    const { initialMs, maxMs, jitter, random } = this.#options;
    const base = Math.min(initialMs * 2 ** this.#failures, maxMs);
    this.#failures++;
    return Math.round(Math.min(base * (1 + jitter * random()), maxMs));
  }

  failures(): number {
    return this.#failures;
  }

  reset(): void {
    this.#failures = 0;
  }
}
