import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { FakeClock, flushMicrotasks } from './clock.ts';
import { SupervisedInformer, enqueueOwnKey, type ListWatchSource, type WatchEnd, type WatchEvent } from './informer.ts';
import { LOW_PRIORITY, NORMAL_PRIORITY } from './workqueue.ts';

interface Obj {
  metadata: { name: string; namespace: string; resourceVersion: string };
}

function obj(name: string, rv: number): Obj {
  return { metadata: { name, namespace: 'ns', resourceVersion: String(rv) } };
}

/** An in-memory API: the test scripts list results, failures and the watch stream. */
class ScriptedSource implements ListWatchSource<Obj> {
  items: Obj[] = [];
  rv = 1;
  listFailures = 0;
  lists = 0;
  watchedFrom: string[] = [];
  #stream: { onEvent: (e: WatchEvent<Obj>) => void; end: (r: WatchEnd) => void; fail: (e: Error) => void } | undefined;

  list(): Promise<{ items: Obj[]; resourceVersion: string }> {
    this.lists++;
    if (this.listFailures > 0) {
      this.listFailures--;
      return Promise.reject(new Error('connection refused'));
    }
    return Promise.resolve({ items: [...this.items], resourceVersion: String(this.rv) });
  }

  watch(resourceVersion: string, onEvent: (e: WatchEvent<Obj>) => void, signal: AbortSignal): Promise<WatchEnd> {
    this.watchedFrom.push(resourceVersion);
    return new Promise((resolve, reject) => {
      this.#stream = { onEvent, end: resolve, fail: reject };
      signal.addEventListener('abort', () => resolve('closed'));
    });
  }

  watching(): boolean {
    return this.#stream !== undefined;
  }

  emit(type: WatchEvent<Obj>['type'], o: Obj): void {
    this.#stream?.onEvent({ type, object: o });
  }

  end(how: WatchEnd | Error): void {
    const s = this.#stream;
    this.#stream = undefined;
    if (how instanceof Error) s?.fail(how);
    else s?.end(how);
  }
}

function setup(resyncMs = 0): {
  clock: FakeClock;
  source: ScriptedSource;
  informer: SupervisedInformer<Obj>;
  log: string[];
  restarts: number[];
  start: () => AbortController;
} {
  const clock = new FakeClock();
  const source = new ScriptedSource();
  const restarts: number[] = [];
  const informer = new SupervisedInformer<Obj>({
    name: 'things',
    source,
    clock,
    resyncMs,
    log: createLogger({ level: 'silent' }),
    backoff: { initialMs: 100, maxMs: 1_000, jitter: 0 },
    metrics: { synced: () => {}, restarted: () => restarts.push(clock.now()) },
  });
  const log: string[] = [];
  informer.addHandler({
    onAdd: (o) => log.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`),
    onUpdate: (a, b) =>
      log.push(`update ${b.metadata.name}@${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`),
    onDelete: (o) => log.push(`delete ${o.metadata.name}`),
  });
  const start = (): AbortController => {
    const abort = new AbortController();
    void informer.run(abort.signal);
    return abort;
  };
  return { clock, source, informer, log, restarts, start };
}

describe('SupervisedInformer', () => {
  it('lists, syncs, then applies watch events to its cache and handlers', async () => {
    const { source, informer, log, start } = setup();
    source.items = [obj('a', 1)];
    const abort = start();
    expect(await informer.waitForSync(abort.signal)).toBe(true);
    await flushMicrotasks();
    expect(source.watchedFrom).toEqual(['1']);
    source.emit('ADDED', obj('b', 2));
    source.emit('MODIFIED', obj('a', 3));
    source.emit('MODIFIED', obj('a', 3)); // same version: no update
    source.emit('DELETED', obj('b', 4));
    expect(log).toEqual(['add a@1', 'add b@2', 'update a@1->3', 'delete b']);
    expect(informer.get('ns/a')?.metadata.resourceVersion).toBe('3');
    expect(informer.get('ns/b')).toBeUndefined();
    abort.abort();
  });

  it('resumes the watch from the last seen resourceVersion after a normal close', async () => {
    const { source, informer, start } = setup();
    const abort = start();
    await informer.waitForSync(abort.signal);
    await flushMicrotasks();
    source.emit('ADDED', obj('a', 7));
    source.emit('BOOKMARK', { metadata: { name: '', namespace: '', resourceVersion: '9' } });
    source.end('closed');
    await flushMicrotasks();
    expect(source.watchedFrom).toEqual(['1', '9']);
    expect(source.lists).toBe(1);
    abort.abort();
  });

  it('relists on 410 expiry, and the diff reports objects deleted meanwhile', async () => {
    const { source, informer, log, start } = setup();
    source.items = [obj('a', 1), obj('b', 1)];
    const abort = start();
    await informer.waitForSync(abort.signal);
    await flushMicrotasks();
    source.items = [obj('a', 5), obj('c', 6)];
    source.rv = 6;
    source.end('expired');
    await flushMicrotasks();
    expect(source.lists).toBe(2);
    expect(log).toEqual(['add a@1', 'add b@1', 'update a@1->5', 'add c@6', 'delete b']);
    expect(source.watchedFrom).toEqual(['1', '6']);
    abort.abort();
  });

  it('restarts with growing backoff after errors and relists (client-node would stop)', async () => {
    const { clock, source, informer, log, restarts, start } = setup();
    source.items = [obj('a', 1)];
    const abort = start();
    await informer.waitForSync(abort.signal);
    await flushMicrotasks();
    source.listFailures = 2;
    source.items = [];
    source.end(new Error('stream reset'));
    await flushMicrotasks();
    expect(restarts).toHaveLength(1);
    await clock.advance(100); // 1st retry: list fails
    expect(source.lists).toBe(2);
    await clock.advance(199);
    expect(source.lists).toBe(2); // 2nd backoff is 200 ms
    await clock.advance(1);
    expect(source.lists).toBe(3); // fails again
    await clock.advance(400);
    expect(source.lists).toBe(4);
    expect(source.watching()).toBe(true);
    expect(log).toEqual(['add a@1', 'delete a']);
    expect(informer.hasSynced()).toBe(true);
    abort.abort();
  });

  it('after a reconnect hands unchanged objects to the handlers again, so keys that failed meanwhile are retried', async () => {
    const { clock, source, informer, log, start } = setup();
    source.items = [obj('a', 1), obj('b', 2)];
    const abort = start();
    await informer.waitForSync(abort.signal);
    await flushMicrotasks();
    // The API server restarts: the watch breaks, the relist finds nothing changed.
    source.end(new Error('stream reset'));
    await flushMicrotasks();
    await clock.advance(100);
    expect(source.lists).toBe(2);
    expect(log).toEqual(['add a@1', 'add b@2', 'update a@1->1', 'update b@2->2']);
    abort.abort();
  });

  it('backs off when watches close at once without events', async () => {
    const { clock, source, informer, start } = setup();
    const abort = start();
    await informer.waitForSync(abort.signal);
    await flushMicrotasks();
    source.end('closed');
    await flushMicrotasks();
    expect(source.watching()).toBe(false);
    await clock.advance(100);
    expect(source.watching()).toBe(true);
    abort.abort();
  });

  it('resyncs every cached object through onUpdate', async () => {
    const { clock, source, informer, log, start } = setup(60_000);
    source.items = [obj('a', 1), obj('b', 2)];
    const abort = start();
    await informer.waitForSync(abort.signal);
    log.length = 0;
    await clock.advance(60_000);
    expect(log).toEqual(['update a@1->1', 'update b@2->2']);
    await clock.advance(60_000);
    expect(log).toHaveLength(4);
    abort.abort();
    await flushMicrotasks();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('enqueues its own keys at low priority for the initial list and resyncs, at normal priority for news', async () => {
    const { clock, source, informer, start } = setup(60_000);
    const enqueued: string[] = [];
    informer.addHandler(enqueueOwnKey((key, priority) => enqueued.push(`${key} ${String(priority)}`)));
    source.items = [obj('a', 1)];
    const abort = start();
    await informer.waitForSync(abort.signal);
    await flushMicrotasks();
    source.emit('ADDED', obj('b', 2));
    source.emit('MODIFIED', obj('a', 3));
    source.emit('DELETED', obj('b', 4));
    await clock.advance(60_000);
    expect(enqueued).toEqual([
      `ns/a ${String(LOW_PRIORITY)}`,
      `ns/b ${String(NORMAL_PRIORITY)}`,
      `ns/a ${String(NORMAL_PRIORITY)}`,
      `ns/b ${String(NORMAL_PRIORITY)}`,
      `ns/a ${String(LOW_PRIORITY)}`,
    ]);
    abort.abort();
  });

  it('keeps delivering events when a handler throws', async () => {
    const { source, informer, log, start } = setup();
    informer.addHandler({
      onAdd: () => {
        throw new Error('bug in handler');
      },
    });
    const abort = start();
    await informer.waitForSync(abort.signal);
    await flushMicrotasks();
    source.emit('ADDED', obj('a', 2));
    source.emit('ADDED', obj('b', 3));
    expect(log).toEqual(['add a@2', 'add b@3']);
    abort.abort();
  });

  it('waitForSync returns false when stopped before syncing', async () => {
    const { source, informer, start } = setup();
    source.listFailures = 100;
    const abort = start();
    const waiting = informer.waitForSync(abort.signal);
    abort.abort();
    expect(await waiting).toBe(false);
  });
});

describe('SupervisedInformer backoff', () => {
  it('keeps backing off when the list works but every watch fails at once', async () => {
    const { clock, source, informer, start } = setup();
    const failingWatch = (): Promise<never> => Promise.reject(new Error('403 watch forbidden'));
    source.watch = failingWatch;
    const abort = start();
    await informer.waitForSync(abort.signal);
    await flushMicrotasks();
    expect(source.lists).toBe(1);
    await clock.advance(100);
    expect(source.lists).toBe(2);
    await clock.advance(199);
    expect(source.lists).toBe(2); // 200 ms, not reset by the successful list
    await clock.advance(1);
    expect(source.lists).toBe(3);
    await clock.advance(400);
    expect(source.lists).toBe(4);
    abort.abort();
  });

  it('starts the backoff over after a watch that ran healthily', async () => {
    const { clock, source, informer, start } = setup();
    const abort = start();
    await informer.waitForSync(abort.signal);
    await flushMicrotasks();
    source.end(new Error('reset 1'));
    await flushMicrotasks();
    await clock.advance(100);
    expect(source.lists).toBe(2);
    source.emit('ADDED', obj('x', 5)); // healthy: delivered an event
    source.end(new Error('reset 2'));
    await flushMicrotasks();
    await clock.advance(100); // back to the initial delay, not 200 ms
    expect(source.lists).toBe(3);
    abort.abort();
  });
});

describe('SupervisedInformer slow failures', () => {
  it('keeps growing the backoff when lists fail slowly (a slow failure is not a healthy watch)', async () => {
    const { clock, source, informer, start } = setup();
    let lists = 0;
    source.list = () => {
      lists++;
      // Fails after 5 s, longer than minWatchMs.
      return new Promise((_, reject) => clock.setTimer(5_000, () => reject(new Error('connect timeout'))));
    };
    const abort = start();
    await flushMicrotasks();
    await clock.advance(5_000); // 1st list fails → 100 ms
    await clock.advance(100);
    expect(lists).toBe(2);
    await clock.advance(5_000); // 2nd fails → 200 ms
    await clock.advance(199);
    expect(lists).toBe(2);
    await clock.advance(1);
    expect(lists).toBe(3);
    expect(informer.hasSynced()).toBe(false);
    abort.abort();
  });
});
