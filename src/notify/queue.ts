// One Notification's delivery queue: the problems with steps its sink has not taken yet, bounded,
// worked by one loop so the sink sees each problem's steps in order. A failure keeps the step and
// retries it after a capped, jittered backoff (a refusal only a person can fix waits the longest);
// nothing here ever reaches the remediation loop, which only calls offer() and never waits.
//
// What the queue holds is a cache, not the truth: the steps come from the problem's status
// (events.ts) and `delivered` says how far the sink got, so a problem dropped from a full queue, or
// a restart, loses nothing: the next offer (a status change, or the controller's resync) brings it back.
import type { NotificationDelivery, ProblemEvent } from '../api/index.ts';
import { ReboundError, errorMessage } from '../errors.ts';
import { Backoff } from '../runtime/backoff.ts';
import type { Clock } from '../runtime/clock.ts';
import { sleep } from '../runtime/clock.ts';
import { eventsOf } from './events.ts';
import { routes, routesProblem } from './route.ts';
import type { Route } from './route.ts';
import type { Sink } from './sink.ts';

export interface QueueOptions {
  /** The Notification's namespace: it takes only the problems of its own namespace. */
  namespace: string;
  sink: Sink;
  route: Route;
  clock: Clock;
  /** At most this many problems wait; more are dropped until the next offer. */
  capacity: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** The backoff's jitter source (tests pin it). */
  random?: () => number;
  /** What the sink had taken when the queue was made (the Notification's status). */
  deliveries: readonly NotificationDelivery[];
  /** Problems created before this (ms) with no delivery entry are not sent: the Notification is newer, or their entries aged out. */
  notBeforeMs: number;
  /** Called after every change worth persisting (a step taken, a failure, a recovery). */
  onChange: () => void;
  metrics?: {
    delivered(sink: string, result: 'success' | 'error'): void;
    dropped(sink: string): void;
  };
}

export interface QueueHealth {
  /** Problems with steps waiting. */
  pending: number;
  /** The last try failed; the message, without credentials. */
  failing: boolean;
  lastError?: string;
  /** Consecutive failed tries. */
  failures: number;
  lastDeliveryTime?: string;
}

interface Entry {
  uid: string;
  name: string;
  delivered: number;
  thread?: string;
}

export class DeliveryQueue {
  readonly #o: QueueOptions;
  #sink: Sink;
  /** By problem uid: how far the sink got. */
  readonly #entries = new Map<string, Entry>();
  /** By problem uid: the latest version offered, waiting to be worked (insertion order is FIFO). */
  readonly #waiting = new Map<string, ProblemEvent>();
  readonly #backoff: Backoff;
  #wake: (() => void) | undefined;
  #failures = 0;
  #lastError: string | undefined;
  #lastDeliveryTime: string | undefined;
  /** The last failure was one only a person can fix (a revoked token, an unknown channel). */
  #permanent = false;
  /** Aborted to cut a retry wait short (a new Secret, a new sink). */
  #retryWait = new AbortController();

  constructor(options: QueueOptions) {
    this.#o = options;
    this.#sink = options.sink;
    this.#backoff = new Backoff({
      initialMs: options.retryInitialMs,
      maxMs: options.retryMaxMs,
      ...(options.random ? { random: options.random } : {}),
    });
    for (const d of options.deliveries)
      this.#entries.set(d.uid, {
        uid: d.uid,
        name: d.problem,
        delivered: d.delivered,
        ...(d.thread ? { thread: d.thread } : {}),
      });
  }

  get type(): string {
    return this.#sink.type;
  }

  /** A new sink (its Secret changed): a failing step is tried again at once. */
  replaceSink(sink: Sink): void {
    this.#sink = sink;
    this.#backoff.reset();
    this.#retryWait.abort();
  }

  /**
   * The problem as it is now: queued when the sink has steps of it to take. Never blocks, never
   * throws; O(steps of the problem).
   */
  offer(problem: ProblemEvent): void {
    const uid = problem.metadata.uid;
    if (!uid || !this.#wants(problem, uid)) return;
    const entry = this.#entries.get(uid);
    const events = eventsOf(problem);
    if (events.length <= (entry?.delivered ?? 0)) return;
    if (!this.#waiting.has(uid) && this.#waiting.size >= this.#o.capacity) {
      this.#o.metrics?.dropped(this.#sink.type);
      return;
    }
    this.#waiting.set(uid, problem);
    this.#wake?.();
  }

  /** Works the queue until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const onAbort = (): void => {
      this.#retryWait.abort();
      this.#wake?.();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        const next = this.#waiting.entries().next();
        if (next.done) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          this.#wake = undefined;
          continue;
        }
        const [uid, problem] = next.value;
        this.#waiting.delete(uid);
        const ok = await this.#work(uid, problem, signal);
        if (ok || signal.aborted) continue;
        // Keep the problem first in line (a newer version may have been offered meanwhile) and wait.
        const newer = this.#waiting.get(uid) ?? problem;
        this.#waiting.delete(uid);
        const rest = [...this.#waiting];
        this.#waiting.clear();
        this.#waiting.set(uid, newer);
        for (const [k, v] of rest) this.#waiting.set(k, v);
        if (this.#retryWait.signal.aborted) this.#retryWait = new AbortController();
        await sleep(this.#o.clock, this.#nextDelay(), this.#retryWait.signal);
        if (this.#retryWait.signal.aborted) this.#retryWait = new AbortController();
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  health(): QueueHealth {
    return {
      pending: this.#waiting.size,
      failing: this.#failures > 0,
      failures: this.#failures,
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
      ...(this.#lastDeliveryTime ? { lastDeliveryTime: this.#lastDeliveryTime } : {}),
    };
  }

  /** What to persist: an entry per problem the sink has taken a step of. */
  deliveries(): NotificationDelivery[] {
    return [...this.#entries.values()].map((e) => ({
      problem: e.name,
      uid: e.uid,
      delivered: e.delivered,
      ...(e.thread ? { thread: e.thread } : {}),
    }));
  }

  /** Forgets problems that no longer exist (their entries would only grow the status). */
  forget(uid: string): void {
    this.#entries.delete(uid);
    this.#waiting.delete(uid);
  }

  #wants(problem: ProblemEvent, uid: string): boolean {
    const { spec } = problem;
    if ((problem.metadata.namespace ?? 'default') !== this.#o.namespace) return false;
    if (!routesProblem(this.#o.route, spec)) return false;
    if (this.#entries.has(uid)) return true;
    const created = problem.metadata.creationTimestamp ? new Date(problem.metadata.creationTimestamp).getTime() : 0;
    return created >= this.#o.notBeforeMs;
  }

  /** Takes the problem's steps from where the sink stopped; false when one failed (it stays). */
  async #work(uid: string, problem: ProblemEvent, signal: AbortSignal): Promise<boolean> {
    const events = eventsOf(problem);
    const entry = this.#entries.get(uid) ?? { uid, name: problem.metadata.name ?? '', delivered: 0 };
    for (const event of events.slice(entry.delivered)) {
      if (signal.aborted) return false;
      if (!routes(this.#o.route, event)) {
        this.#advance(entry, event.index + 1);
        continue;
      }
      const sink = this.#sink;
      try {
        const done = await sink.deliver(event, { ...(entry.thread ? { thread: entry.thread } : {}), signal });
        if (done.thread) entry.thread = done.thread;
      } catch (err) {
        if (signal.aborted) return false;
        this.#failures++;
        this.#lastError = errorMessage(err).slice(0, 1024);
        this.#permanent = err instanceof ReboundError && !err.retryable;
        this.#o.metrics?.delivered(sink.type, 'error');
        this.#o.onChange();
        return false;
      }
      this.#o.metrics?.delivered(sink.type, 'success');
      this.#lastDeliveryTime = new Date(this.#o.clock.now()).toISOString();
      const recovered = this.#failures > 0;
      this.#failures = 0;
      this.#lastError = undefined;
      this.#backoff.reset();
      this.#advance(entry, event.index + 1);
      if (recovered) this.#o.onChange();
    }
    return true;
  }

  /** A refusal only a person can fix waits the longest; anything else backs off from the start. */
  #nextDelay(): number {
    return this.#permanent ? this.#o.retryMaxMs : this.#backoff.next();
  }

  #advance(entry: Entry, delivered: number): void {
    entry.delivered = delivered;
    this.#entries.set(entry.uid, entry);
    this.#o.onChange();
  }
}
