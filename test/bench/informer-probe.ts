// Child process for informer.bench.ts: starts the controller's three informers (all namespaces)
// against the cluster in argv[2], waits until all have synced, and prints one JSON line with the
// time to ready (from process start, module loading included) and the resident memory after a GC.
// Run by the bench, not on its own.
import { reboundClients } from '../../src/kube/index.ts';
import { loadKubeConfig } from '../../src/kube/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { SupervisedInformer } from '../../src/runtime/informer.ts';

// performance.now() counts from the process's time origin, so this includes loading the modules.
const informersStarted = performance.now();
const kubeconfigPath = process.argv[2];
if (!kubeconfigPath) throw new Error('usage: informer-probe.ts KUBECONFIG');
const clients = reboundClients(loadKubeConfig({ kind: 'file', path: kubeconfigPath }));
const log = createLogger({ level: 'warn' });
const abort = new AbortController();
const informers = [
  new SupervisedInformer({ name: 'projects', source: clients.projects.listWatch(), clock: systemClock, log }),
  new SupervisedInformer({ name: 'remediations', source: clients.remediations.listWatch(), clock: systemClock, log }),
  new SupervisedInformer({ name: 'problemevents', source: clients.problemEvents.listWatch(), clock: systemClock, log }),
];
const running = informers.map((i) => i.run(abort.signal));
const synced = await Promise.all(informers.map((i) => i.waitForSync(abort.signal)));
const readyMs = performance.now();
const syncMs = readyMs - informersStarted;
if (!synced.every(Boolean)) throw new Error('informers did not sync');
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const memory = process.memoryUsage();
console.log(
  JSON.stringify({
    readyMs: Math.round(readyMs),
    syncMs: Math.round(syncMs),
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    objects: informers.reduce((n, i) => n + i.size(), 0),
  }),
);
abort.abort();
await Promise.all(running);
