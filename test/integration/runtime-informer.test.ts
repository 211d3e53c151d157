// The supervised informer and the controller loop against the real kube-apiserver. A TCP proxy
// between them cuts connections and refuses new ones, the failures client-node's own informer
// does not survive; the informer must recover and converge without losing an event.
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ProblemEvent } from '../../src/api/index.ts';
import { reboundClients, type ReboundClients } from '../../src/kube/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { Controller } from '../../src/runtime/controller.ts';
import { SupervisedInformer, enqueueOwnKey, type ListWatchSource } from '../../src/runtime/informer.ts';
import { defaultControllerRateLimiter } from '../../src/runtime/rate-limiter.ts';
import { WorkQueue } from '../../src/runtime/workqueue.ts';
import { ChaosProxy, adminKubeConfig, eventually, freshNamespace, problemEvent } from './runtime-helpers.ts';

const cluster = inject('cluster');
const log = createLogger({ level: process.env.REBOUND_TEST_LOG === '1' ? 'debug' : 'silent' });
let direct: ReboundClients;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(() => {
  const kc = adminKubeConfig(cluster.kubeconfigPath);
  direct = reboundClients(kc);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Recorded {
  informer: SupervisedInformer<ProblemEvent>;
  events: string[];
  lists: () => number;
  watches: () => number;
}

/** Starts an informer on `namespace` through `server`, recording every handler call. */
function startInformer(
  server: string | undefined,
  namespace: string,
  options: { resyncMs?: number; watchTimeoutSeconds?: number } = {},
): Recorded {
  const clients = reboundClients(adminKubeConfig(cluster.kubeconfigPath, server));
  const inner = clients.problemEvents.listWatch(
    namespace,
    options.watchTimeoutSeconds === undefined ? {} : { timeoutSeconds: () => options.watchTimeoutSeconds ?? 0 },
  );
  let lists = 0;
  let watches = 0;
  const source: ListWatchSource<ProblemEvent> = {
    list: (signal) => {
      lists++;
      return inner.list(signal);
    },
    watch: (rv, onEvent, signal) => {
      watches++;
      return inner.watch(rv, onEvent, signal);
    },
  };
  const informer = new SupervisedInformer<ProblemEvent>({
    name: 'problemevents',
    source,
    clock: systemClock,
    log,
    resyncMs: options.resyncMs ?? 0,
    backoff: { initialMs: 100, maxMs: 1_000 },
  });
  const events: string[] = [];
  informer.addHandler({
    onAdd: (o) => events.push(`add ${o.metadata.name}`),
    onUpdate: (a, b) =>
      events.push(
        a.metadata.resourceVersion === b.metadata.resourceVersion
          ? `resync ${b.metadata.name}`
          : `update ${b.metadata.name}`,
      ),
    onDelete: (o) => events.push(`delete ${o.metadata.name}`),
  });
  const abort = new AbortController();
  const running = informer.run(abort.signal);
  cleanups.push(async () => {
    abort.abort();
    await running;
  });
  return { informer, events, lists: () => lists, watches: () => watches };
}

function cachedNames(informer: SupervisedInformer<ProblemEvent>): string[] {
  return informer
    .list()
    .map((p) => p.metadata.name ?? '')
    .sort();
}

async function serverNames(namespace: string): Promise<string[]> {
  return (await direct.problemEvents.list(namespace)).items.map((p) => p.metadata.name ?? '').sort();
}

describe('SupervisedInformer (real API server)', () => {
  it('syncs the existing objects, then delivers add, update and delete', async () => {
    const local = await freshNamespace(adminKubeConfig(cluster.kubeconfigPath), 'inf-basic');
    await direct.problemEvents.create(problemEvent(local, 'before'));
    const { informer, events } = startInformer(undefined, local);
    await eventually('sync', () => (informer.hasSynced() ? true : undefined));
    expect(cachedNames(informer)).toEqual(['before']);

    await direct.problemEvents.create(problemEvent(local, 'after'));
    await direct.problemEvents.patchStatus(local, 'after', { phase: 'Pending' });
    await direct.problemEvents.delete(local, 'before');
    await eventually('all events', () => (events.length >= 4 ? true : undefined));
    expect(events).toEqual(['add before', 'add after', 'update after', 'delete before']);
    expect(informer.get(`${local}/after`)?.status?.phase).toBe('Pending');
    // The server keeps managedFields; the cache does not need them.
    expect((await direct.problemEvents.get(local, 'after'))?.metadata.managedFields?.length).toBeGreaterThan(0);
    expect(informer.get(`${local}/after`)?.metadata.managedFields).toBeUndefined();
    expect(informer.get(`${local}/before`)).toBeUndefined();
  });

  it('re-watches from the last version when the server ends watches, without relisting', async () => {
    const local = await freshNamespace(adminKubeConfig(cluster.kubeconfigPath), 'inf-timeout');
    const { informer, events, lists, watches } = startInformer(undefined, local, { watchTimeoutSeconds: 1 });
    await eventually('sync', () => (informer.hasSynced() ? true : undefined));
    await eventually('a few server-side watch timeouts', () => (watches() >= 3 ? true : undefined), 10_000);
    await direct.problemEvents.create(problemEvent(local, 'during-rotation'));
    await eventually('the add', () => (events.includes('add during-rotation') ? true : undefined));
    expect(lists()).toBe(1);
  });

  it('recovers from cut connections and refused reconnects without losing events', async () => {
    const local = await freshNamespace(adminKubeConfig(cluster.kubeconfigPath), 'inf-chaos');
    const proxy = new ChaosProxy(cluster.server);
    await proxy.accept();
    cleanups.push(() => proxy.stop());
    for (const name of ['keep', 'doomed', 'changed']) await direct.problemEvents.create(problemEvent(local, name));
    const { informer, events, lists } = startInformer(proxy.url, local);
    await eventually('sync', () => (informer.hasSynced() ? true : undefined));

    // 1. Cut the watch: changes made right after must still arrive.
    proxy.cut();
    await direct.problemEvents.create(problemEvent(local, 'while-cut'));
    await eventually('add after cut', () => (events.includes('add while-cut') ? true : undefined));

    // 2. Refuse connections for a while and change things behind the informer's back, deleting
    //    one object: only a relist diff can notice that.
    await proxy.refuse();
    await direct.problemEvents.delete(local, 'doomed');
    await direct.problemEvents.patchStatus(local, 'changed', { phase: 'Remediating' });
    await direct.problemEvents.create(problemEvent(local, 'while-down'));
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // several failed restarts
    expect(informer.get(`${local}/doomed`)).toBeDefined(); // stale while down, as expected
    await proxy.accept();

    await eventually('convergence', async () => {
      const truth = await serverNames(local);
      return JSON.stringify(cachedNames(informer)) === JSON.stringify(truth) ? truth : undefined;
    });
    expect(cachedNames(informer)).toEqual(['changed', 'keep', 'while-cut', 'while-down']);
    expect(events).toContain('delete doomed');
    expect(events).toContain('update changed');
    expect(events).toContain('add while-down');
    expect(informer.get(`${local}/changed`)?.status?.phase).toBe('Remediating');
    expect(lists()).toBeGreaterThanOrEqual(2); // it relisted after the failures
    expect(informer.hasSynced()).toBe(true);
  });

  it('resyncs: every cached object is handed to the handlers again', async () => {
    const local = await freshNamespace(adminKubeConfig(cluster.kubeconfigPath), 'inf-resync');
    await direct.problemEvents.create(problemEvent(local, 'a'));
    await direct.problemEvents.create(problemEvent(local, 'b'));
    const { informer, events } = startInformer(undefined, local, { resyncMs: 300 });
    await eventually('sync', () => (informer.hasSynced() ? true : undefined));
    await eventually(
      'two resync rounds',
      () => (events.filter((e) => e.startsWith('resync')).length >= 4 ? true : undefined),
      5_000,
    );
    expect(events.filter((e) => e === 'resync a').length).toBeGreaterThanOrEqual(2);
    expect(events.filter((e) => e === 'resync b').length).toBeGreaterThanOrEqual(2);
  });
});

describe('informer → work queue → controller (real API server)', () => {
  it('reconciles each object by key, coalesces bursts, and requeues on error', async () => {
    const local = await freshNamespace(adminKubeConfig(cluster.kubeconfigPath), 'loop');
    const { informer } = startInformer(undefined, local);
    const queue = new WorkQueue({
      clock: systemClock,
      rateLimiter: defaultControllerRateLimiter(systemClock, { baseDelayMs: 20 }),
    });
    const reconciled = new Map<string, number>();
    let failOnce = true;
    const controller = new Controller({
      name: 'problemevent',
      queue,
      clock: systemClock,
      log,
      workers: 2,
      reconciler: {
        reconcile: async (key) => {
          reconciled.set(key, (reconciled.get(key) ?? 0) + 1);
          const object = informer.get(key);
          if (key.endsWith('/flaky') && failOnce) {
            failOnce = false;
            throw new Error('transient');
          }
          // Write status through the real API: the loop's own writes come back as updates.
          if (object && object.status?.phase !== 'Pending') {
            await direct.problemEvents.patchStatus(object.metadata.namespace ?? '', object.metadata.name ?? '', {
              phase: 'Pending',
            });
          }
          return undefined;
        },
      },
    });
    informer.addHandler(enqueueOwnKey((key) => controller.enqueue(key)));
    const abort = new AbortController();
    const running = controller.run(abort.signal, 5_000);
    cleanups.push(async () => {
      abort.abort();
      await running;
    });

    for (const name of ['one', 'two', 'flaky']) await direct.problemEvents.create(problemEvent(local, name));
    await eventually('every status written', async () => {
      const items = (await direct.problemEvents.list(local)).items;
      return items.length === 3 && items.every((p) => p.status?.phase === 'Pending') ? true : undefined;
    });
    await eventually('flaky retried', () => ((reconciled.get(`${local}/flaky`) ?? 0) >= 2 ? true : undefined));
    // Level-triggered: a handful of reconciles per object (add, own status write), not one per event storm.
    for (const name of ['one', 'two']) expect(reconciled.get(`${local}/${name}`)).toBeLessThanOrEqual(3);
  });
});
