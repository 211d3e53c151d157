// Prints the controller's time to ready (its three informers listed and synced, counted from
// process start) with 1,000 ProblemEvents, and its resident memory with 0 and 10,000 ProblemEvents
// in its caches (goals in issue 6: ready under 2 s, memory under 250 MB). Each figure comes from a
// fresh child process (informer-probe.ts) against a real kube-apiserver.
// Run: node test/bench/informer.bench.ts
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { API_VERSION, KINDS, type ProblemEvent } from '../../src/api/index.ts';
import { loadKubeConfig, reboundClients } from '../../src/kube/index.ts';
import { startCluster } from '../harness/cluster.ts';

const run = promisify(execFile);
const crdsDir = join(import.meta.dirname, '..', '..', 'crds');
const probe = join(import.meta.dirname, 'informer-probe.ts');
const CONCURRENCY = 25;

interface ProbeResult {
  readyMs: number;
  syncMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  objects: number;
}

async function measure(kubeconfigPath: string): Promise<ProbeResult> {
  const { stdout } = await run(process.execPath, ['--expose-gc', probe, kubeconfigPath], { timeout: 120_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ProbeResult;
}

function problem(namespace: string, i: number): ProblemEvent {
  return {
    apiVersion: API_VERSION,
    kind: KINDS.ProblemEvent,
    metadata: {
      name: `problem-${String(i).padStart(5, '0')}`,
      namespace,
      labels: { 'rebound.dev/service': `svc-${i % 50}` },
    },
    spec: {
      project: 'sockshop',
      stage: 'production',
      service: `svc-${i % 50}`,
      problemTitle: 'Response time degradation',
      rootCause: 'Response time of carts above 600 ms for 5 minutes',
      state: 'OPEN',
      problemID: `P-${i}`,
      source: 'alertmanager',
      impactedEntity: `svc-${i % 50}-production`,
    },
  };
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const cluster = await startCluster({ crdsDir });
try {
  const kc = loadKubeConfig({ kind: 'file', path: cluster.kubeconfigPath });
  const clients = reboundClients(kc);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'bench' } } });
  let created = 0;
  const fill = async (total: number): Promise<void> => {
    while (created < total) {
      const batch = Array.from({ length: Math.min(CONCURRENCY, total - created) }, (_, j) => created + j);
      await Promise.all(batch.map((i) => clients.problemEvents.create(problem('bench', i))));
      created += batch.length;
    }
  };

  const empty = await measure(cluster.kubeconfigPath);
  console.log(`informers ready, 0 objects: ${String(empty.readyMs)} ms from process start, RSS ${mb(empty.rssBytes)}`);

  const t = Date.now();
  await fill(1_000);
  console.log(`(created 1,000 ProblemEvents in ${String(Date.now() - t)} ms)`);
  const thousand = [
    await measure(cluster.kubeconfigPath),
    await measure(cluster.kubeconfigPath),
    await measure(cluster.kubeconfigPath),
  ];
  console.log(
    `time to ready with 1,000 ProblemEvents: median ${String(median(thousand.map((r) => r.readyMs)))} ms ` +
      `from process start (runs: ${thousand.map((r) => String(r.readyMs)).join(', ')} ms; of that list+sync: ` +
      `${thousand.map((r) => String(r.syncMs)).join(', ')} ms; goal < 2000 ms)`,
  );

  await fill(10_000);
  const tenThousand = await measure(cluster.kubeconfigPath);
  console.log(
    `resident memory with ${String(tenThousand.objects)} ProblemEvents cached: RSS ${mb(tenThousand.rssBytes)}, ` +
      `heap ${mb(tenThousand.heapUsedBytes)}, ready in ${String(tenThousand.readyMs)} ms (goal RSS < 250 MB; spec-only objects)`,
  );
} finally {
  await cluster.stop();
}
