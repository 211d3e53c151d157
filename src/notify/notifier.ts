// The notifier: one delivery queue per Notification, fed with every problem the loop writes. The
// loop sees only `publish(problem)`, which computes, filters and enqueues in memory and returns:
// it never waits for a sink, never throws, and a sink that is down costs the loop nothing.
import type { Notification, ProblemEvent } from '../api/index.ts';
import type { Clock } from '../runtime/clock.ts';
import type { NotificationSinkState } from '../observability/metrics.ts';
import { DeliveryQueue } from './queue.ts';
import type { QueueHealth } from './queue.ts';
import type { Sink } from './sink.ts';

/** What the remediation loop calls after each status write: never blocks, never throws. */
export interface ProblemNotifier {
  publish(problem: ProblemEvent): void;
}

export interface NotifierOptions {
  clock: Clock;
  /** Per Notification: problems waiting at most. */
  capacity: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** A Notification's queue changed something worth persisting (its key is `namespace/name`). */
  onChange: (key: string) => void;
  metrics?: {
    notification(sink: string, result: 'success' | 'error'): void;
    notificationDropped(sink: string): void;
  };
  /** Errors inside a queue's loop that should never happen (a bug): logged, the loop goes on. */
  onError?: (key: string, err: unknown) => void;
}

interface Running {
  queue: DeliveryQueue;
  /** The spec generation the queue was built for. */
  generation: number;
  stop?: AbortController;
  done?: Promise<void>;
}

export class Notifier implements ProblemNotifier {
  readonly #o: NotifierOptions;
  readonly #queues = new Map<string, Running>();
  #signal: AbortSignal | undefined;

  constructor(options: NotifierOptions) {
    this.#o = options;
  }

  publish(problem: ProblemEvent): void {
    for (const [key, running] of this.#queues) {
      try {
        running.queue.offer(problem);
      } catch (err) {
        this.#o.onError?.(key, err);
      }
    }
  }

  /** A problem was deleted: its delivery entries go. */
  forget(uid: string): void {
    for (const running of this.#queues.values()) running.queue.forget(uid);
  }

  has(key: string): boolean {
    return this.#queues.has(key);
  }

  /**
   * The Notification's queue with this sink: made (from its status) on first sight or when the spec
   * changed, else given the new sink (a Secret re-read). Returns true when a new queue was made:
   * the caller offers it every cached problem.
   */
  configure(key: string, notification: Notification, sink: Sink): boolean {
    const generation = notification.metadata.generation ?? 0;
    const current = this.#queues.get(key);
    if (current && current.generation === generation && current.queue.type === sink.type) {
      current.queue.replaceSink(sink);
      return false;
    }
    // A changed spec: the old queue's progress carries over (it is the same Notification).
    const deliveries = current ? current.queue.deliveries() : (notification.status?.deliveries ?? []);
    this.remove(key);
    const created = notification.metadata.creationTimestamp
      ? new Date(notification.metadata.creationTimestamp).getTime()
      : 0;
    const horizon = notification.status?.horizon ? new Date(notification.status.horizon).getTime() : 0;
    const queue = new DeliveryQueue({
      namespace: notification.metadata.namespace ?? 'default',
      sink,
      route: notification.spec,
      clock: this.#o.clock,
      capacity: this.#o.capacity,
      retryInitialMs: this.#o.retryInitialMs,
      retryMaxMs: this.#o.retryMaxMs,
      deliveries,
      notBeforeMs: Math.max(created, horizon),
      onChange: () => this.#o.onChange(key),
      ...(this.#o.metrics
        ? {
            metrics: {
              delivered: (s, r) => this.#o.metrics?.notification(s, r),
              dropped: (s) => this.#o.metrics?.notificationDropped(s),
            },
          }
        : {}),
    });
    const running: Running = { queue, generation };
    this.#queues.set(key, running);
    if (this.#signal) this.#start(key, running, this.#signal);
    return true;
  }

  /** The Notification is gone, suspended or unusable: its queue stops. */
  remove(key: string): void {
    const running = this.#queues.get(key);
    if (!running) return;
    running.stop?.abort();
    this.#queues.delete(key);
  }

  health(key: string): QueueHealth | undefined {
    return this.#queues.get(key)?.queue.health();
  }

  deliveries(key: string): ReturnType<DeliveryQueue['deliveries']> | undefined {
    return this.#queues.get(key)?.queue.deliveries();
  }

  /** For the metrics: each queue's type, depth and whether it is failing. */
  *states(): Iterable<NotificationSinkState> {
    for (const { queue } of this.#queues.values()) {
      const h = queue.health();
      yield { type: queue.type, pending: h.pending, failing: h.failing };
    }
  }

  /** Works every queue until `signal` aborts (only the leader delivers). */
  async run(signal: AbortSignal): Promise<void> {
    this.#signal = signal;
    for (const [key, running] of this.#queues) this.#start(key, running, signal);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.#signal = undefined;
    await Promise.all([...this.#queues.values()].map((r) => r.done ?? Promise.resolve()));
    // Another replica may deliver meanwhile: the next leadership starts again from the status.
    this.#queues.clear();
  }

  #start(key: string, running: Running, signal: AbortSignal): void {
    if (running.done) return;
    const stop = new AbortController();
    running.stop = stop;
    running.done = running.queue.run(AbortSignal.any([signal, stop.signal])).catch((err: unknown) => {
      this.#o.onError?.(key, err);
    });
  }
}
