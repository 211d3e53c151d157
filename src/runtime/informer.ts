// A supervised informer: list, then watch from the list's resourceVersion, keeping a cache and
// telling handlers what changed. Unlike @kubernetes/client-node's ListWatch, which stops for good
// on any error other than 410, this one restarts itself with capped, jittered backoff and relists
// after every failure; the relist is diffed against the cache, so objects deleted while the watch
// was down still produce a delete. Handlers are synchronous and must only enqueue keys; they run
// inside the watch stream, so anything slow or async there would stall or lose events.
import type { Logger } from 'pino';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { sleep, type Clock } from './clock.ts';
import { objectKey, type HasMetadata } from './keys.ts';
import { LOW_PRIORITY, NORMAL_PRIORITY } from './workqueue.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

/** `closed`: the stream ended normally (server-side timeout); `expired`: 410 Gone, relist. */
export type WatchEnd = 'closed' | 'expired';

/** The API side of an informer; src/kube implements it over the real API server. */
export interface ListWatchSource<T> {
  list(signal: AbortSignal): Promise<{ items: T[]; resourceVersion: string }>;
  /** Streams events from `resourceVersion` until the stream ends (resolves) or fails (rejects). */
  watch(resourceVersion: string, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal): Promise<WatchEnd>;
}

/**
 * Synchronous by contract: enqueue keys, nothing else. Resyncs call `onUpdate(obj, obj)`; `initialList`
 * is true for the objects of the first list (they are not news, as controller-runtime's isInInitialList).
 */
export interface EventHandler<T> {
  onAdd?(obj: T, initialList: boolean): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerMetrics {
  synced(resource: string, synced: boolean): void;
  restarted(resource: string): void;
}

export interface InformerOptions<T> {
  /** Resource name for logs and metrics, e.g. `problemevents`. */
  name: string;
  source: ListWatchSource<T>;
  clock: Clock;
  log: Logger;
  /** Every `resyncMs` each cached object is handed to `onUpdate` again; 0 turns it off. */
  resyncMs?: number;
  /**
   * Restart backoff after errors; default 500 ms doubling to 4 s: an API server back from a 30 s
   * restart is listed again within seconds (with 30 s, objects made meanwhile waited up to 30 s).
   * A list of an unreachable server costs one refused connection.
   */
  backoff?: BackoffOptions;
  /** A watch that ends sooner than this without any event counts as a failure (no hot loop). */
  minWatchMs?: number;
  metrics?: InformerMetrics;
}

export class SupervisedInformer<T extends HasMetadata> {
  readonly name: string;
  readonly #source: ListWatchSource<T>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #resyncMs: number;
  readonly #backoff: Backoff;
  readonly #minWatchMs: number;
  readonly #metrics: InformerMetrics | undefined;
  readonly #cache = new Map<string, T>();
  readonly #handlers: EventHandler<T>[] = [];
  readonly #syncWaiters: (() => void)[] = [];
  #synced = false;
  #running = false;

  constructor(options: InformerOptions<T>) {
    this.name = options.name;
    this.#source = options.source;
    this.#clock = options.clock;
    this.#log = options.log.child({ informer: options.name });
    this.#resyncMs = options.resyncMs ?? 0;
    this.#backoff = new Backoff(options.backoff ?? { initialMs: 500, maxMs: 4_000 });
    this.#minWatchMs = options.minWatchMs ?? 1_000;
    this.#metrics = options.metrics;
    this.#metrics?.synced(this.name, false);
  }

  /** Registers handlers; objects already cached are delivered to `onAdd` at once (as part of a list). */
  addHandler(handler: EventHandler<T>): void {
    this.#handlers.push(handler);
    for (const obj of this.#cache.values()) this.#call(() => handler.onAdd?.(obj, true));
  }

  /** True once the first list has been loaded into the cache (stays true across restarts). */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves true once synced, false if `signal` aborts first. */
  waitForSync(signal: AbortSignal): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => resolve(false);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      });
    });
  }

  /** The cached object for `namespace/name` (or `name`), as last seen. Do not mutate it. */
  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  list(): T[] {
    return [...this.#cache.values()];
  }

  size(): number {
    return this.#cache.size;
  }

  /** Lists and watches until `signal` aborts. Rejects only if already running. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new Error(`informer ${this.name} is already running`);
    this.#running = true;
    const cancelResync = this.#resyncMs > 0 ? this.#scheduleResync(signal) : undefined;
    let resourceVersion = '';
    // After a failure the relist hands every object to the handlers again, changed or not: keys
    // whose reconcile failed while the API server was away (a 403 during its restart, say) are
    // reconciled now instead of at the next resync.
    let reconnecting = false;
    try {
      while (!signal.aborted) {
        // A watch counts as healthy once it delivered an event or stayed open for minWatchMs; only
        // then is the backoff reset, so a watch that fails at once (while the list works) still
        // backs off instead of relisting in a hot loop.
        let watchStarted: number | undefined;
        let events = 0;
        const healthy = (): boolean =>
          watchStarted !== undefined && (events > 0 || this.#clock.now() - watchStarted >= this.#minWatchMs);
        try {
          if (resourceVersion === '') {
            resourceVersion = await this.#relist(signal, reconnecting);
            reconnecting = false;
          }
          watchStarted = this.#clock.now();
          const end = await this.#source.watch(
            resourceVersion,
            (event) => {
              events++;
              resourceVersion = this.#apply(event) ?? resourceVersion;
            },
            signal,
          );
          if (signal.aborted) break;
          if (healthy()) this.#backoff.reset();
          if (end === 'expired') {
            this.#log.info({ resourceVersion }, 'watch expired, relisting');
            resourceVersion = '';
          } else if (!healthy()) {
            await sleep(this.#clock, this.#backoff.next(), signal);
          }
        } catch (err) {
          if (signal.aborted) break;
          if (healthy()) this.#backoff.reset();
          // Relist after any failure: the diff against the cache recovers events the watch missed.
          resourceVersion = '';
          reconnecting = true;
          this.#metrics?.restarted(this.name);
          const delayMs = this.#backoff.next();
          this.#log.warn({ err, delayMs, failures: this.#backoff.failures() }, 'list/watch failed, restarting');
          await sleep(this.#clock, delayMs, signal);
        }
      }
    } finally {
      cancelResync?.();
      this.#running = false;
    }
  }

  async #relist(signal: AbortSignal, redeliver: boolean): Promise<string> {
    const { items, resourceVersion } = await this.#source.list(signal);
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      if (key === undefined) continue;
      seen.add(key);
      const old = this.#cache.get(key);
      this.#upsert(key, obj);
      if (redeliver && old?.metadata?.resourceVersion === obj.metadata?.resourceVersion)
        this.#dispatch((h) => h.onUpdate?.(obj, obj));
    }
    for (const [key, old] of this.#cache) {
      if (seen.has(key)) continue;
      this.#cache.delete(key);
      this.#dispatch((h) => h.onDelete?.(old));
    }
    if (!this.#synced) {
      this.#synced = true;
      this.#metrics?.synced(this.name, true);
      this.#log.info({ objects: this.#cache.size, resourceVersion }, 'informer synced');
      for (const wake of this.#syncWaiters.splice(0)) wake();
    }
    return resourceVersion;
  }

  /** Applies one watch event; returns the resourceVersion to resume from. */
  #apply(event: WatchEvent<T>): string | undefined {
    const rv = event.object.metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') return rv;
    const key = objectKey(event.object);
    if (key === undefined) return rv;
    if (event.type === 'DELETED') {
      const old = this.#cache.get(key);
      this.#cache.delete(key);
      const gone = event.object;
      this.#dispatch((h) => h.onDelete?.(old ?? gone));
    } else {
      this.#upsert(key, event.object);
    }
    return rv;
  }

  #upsert(key: string, obj: T): void {
    const old = this.#cache.get(key);
    this.#cache.set(key, obj);
    if (!old) {
      const initialList = !this.#synced;
      this.#dispatch((h) => h.onAdd?.(obj, initialList));
    } else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
      this.#dispatch((h) => h.onUpdate?.(old, obj));
    }
  }

  #scheduleResync(signal: AbortSignal): () => void {
    let cancel = (): void => {};
    const tick = (): void => {
      if (signal.aborted) return;
      if (this.#synced) {
        this.#log.debug({ objects: this.#cache.size }, 'resync');
        for (const obj of this.#cache.values()) this.#dispatch((h) => h.onUpdate?.(obj, obj));
      }
      cancel = this.#clock.setTimer(this.#resyncMs, tick);
    };
    cancel = this.#clock.setTimer(this.#resyncMs, tick);
    return () => cancel();
  }

  #dispatch(call: (handler: EventHandler<T>) => unknown): void {
    for (const handler of this.#handlers) this.#call(() => call(handler));
  }

  /** A throwing handler must not break the stream; an async one is a bug we report, not hide. */
  #call(fn: () => unknown): void {
    try {
      const result = fn();
      if (result instanceof Promise) {
        this.#log.error('informer handler returned a promise; handlers must only enqueue');
        result.catch((err: unknown) => this.#log.error({ err }, 'async informer handler failed'));
      }
    } catch (err) {
      this.#log.error({ err }, 'informer handler threw');
    }
  }
}

/** Handlers that enqueue the object's own key: the common case. */
export function enqueueOwnKey<T extends HasMetadata>(
  enqueue: (key: string, priority: number) => void,
): EventHandler<T> {
  const add = (obj: T, priority: number): void => {
    const key = objectKey(obj);
    if (key !== undefined) enqueue(key, priority);
  };
  return {
    onAdd: (obj, initialList) => add(obj, initialList ? LOW_PRIORITY : NORMAL_PRIORITY),
    // A resync hands the same object again: nothing changed, so it yields to anything that did.
    onUpdate: (old, obj) => add(obj, old === obj ? LOW_PRIORITY : NORMAL_PRIORITY),
    onDelete: (obj) => add(obj, NORMAL_PRIORITY),
  };
}

/**
 * Handlers that enqueue the keys an event concerns (controller-runtime's EnqueueRequestsFromMapFunc
 * with its predicates): `map` names the keys, and only the events the watch selects count.
 */
export interface MapWatch<T> {
  /** The keys of the objects an event on `obj` concerns. */
  map(obj: T): Iterable<string>;
  /** Adds count unless false. */
  add?: boolean;
  /** Which updates count (e.g. a new generation); every update when absent, none when false. */
  update?: ((before: T, after: T) => boolean) | false;
  /** Deletes count only when true. */
  delete?: boolean;
}

export function enqueueMapped<T>(enqueue: (key: string) => void, watch: MapWatch<T>): EventHandler<T> {
  const wake = (obj: T): void => {
    for (const key of watch.map(obj)) enqueue(key);
  };
  const update = watch.update;
  return {
    ...(watch.add === false ? {} : { onAdd: wake }),
    ...(update === false
      ? {}
      : { onUpdate: (before: T, after: T) => (update === undefined || update(before, after)) && wake(after) }),
    ...(watch.delete === true ? { onDelete: wake } : {}),
  };
}
