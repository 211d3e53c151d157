// Alertmanager webhook load against the real stack: 1,000 notifications per second for 20 seconds
// (bounded, loopback only) to the ingest server, which writes ProblemEvents to a real kube-apiserver.
// Fingerprints come from a fixed set of 500 alerts, so most deliveries are repeats that must
// de-duplicate. Prints accepted count, p50/p99 accept latency and the number of ProblemEvents created
// (must equal the distinct fingerprints). Run: node test/bench/ingest.bench.ts
//
// The load generator runs in a worker thread (its own event loop) so it does not queue behind the
// server; both share this machine's cores with etcd and kube-apiserver.
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURALS, VERSION } from '../../src/api/constants.ts';
import { startIngestServer } from '../../src/ingest/server.ts';
import { KubeProblemStore } from '../../src/ingest/store.ts';
import type { ProblemSink, StoreOutcome } from '../../src/ingest/store.ts';
import { startCluster } from '../harness/cluster.ts';

const RATE_PER_SECOND = 1_000;
const DURATION_SECONDS = 20;
const DISTINCT_ALERTS = 500;
/** Requests allowed in flight before the generator counts a tick's sends as skipped. */
const MAX_IN_FLIGHT = 10_000;
const TOKEN = 'bench-token-0c5e7d1a';
const NAMESPACE = 'ingest-bench';

interface LoadResult {
  sent: number;
  skipped: number;
  statuses: Record<string, number>;
  latenciesMs: number[];
  /** When each accepted request was sent, ms after the start (parallel to latenciesMs). */
  sentAtMs: number[];
  errors: number;
  elapsedMs: number;
}

// Plain JavaScript: the worker gets it as source text.
const generatorSource = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, token, rate, seconds, distinct, maxInFlight } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const target = new URL(url);
const startsAt = new Date(Date.now() - 600000).toISOString();
const bodies = [];
for (let i = 0; i < distinct; i++) {
  const service = 'svc-' + (i % 50);
  bodies.push(Buffer.from(JSON.stringify({
    version: '4', groupKey: '{}:{alertname="alert-' + i + '"}', truncatedAlerts: 0, status: 'firing', receiver: 'rebound',
    groupLabels: { alertname: 'alert-' + i }, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://127.0.0.1:9093',
    alerts: [{ status: 'firing', labels: { alertname: 'alert-' + i, project: 'bench', stage: 'production', service, severity: 'webhook' },
      annotations: { summary: 'synthetic alert ' + i }, startsAt, endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://127.0.0.1:9090/graph', fingerprint: (i + 1).toString(16).padStart(16, '0') }],
  })));
}
const result = { sent: 0, skipped: 0, statuses: {}, latenciesMs: [], sentAtMs: [], errors: 0, elapsedMs: 0 };
let inFlight = 0;
function send(i) {
  // 7919 is prime, so i * 7919 mod distinct visits every alert in each run of 'distinct' requests.
  const body = bodies[(i * 7919) % distinct];
  const started = performance.now();
  inFlight++;
  const req = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent,
    headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, Authorization: 'Bearer ' + token } }, (res) => {
    res.resume();
    res.on('end', () => {
      inFlight--;
      result.statuses[res.statusCode] = (result.statuses[res.statusCode] || 0) + 1;
      if (res.statusCode >= 200 && res.statusCode < 300) { result.latenciesMs.push(performance.now() - started); result.sentAtMs.push(started - begin); }
    });
  });
  req.on('error', () => { inFlight--; result.errors++; });
  req.end(body);
}
const total = rate * seconds;
const begin = performance.now();
let next = 0;
const timer = setInterval(() => {
  const due = Math.min(total, Math.floor(((performance.now() - begin) / 1000) * rate));
  while (next < due) {
    if (inFlight >= maxInFlight) { result.skipped++; } else { send(next); result.sent++; }
    next++;
  }
  if (next >= total) {
    clearInterval(timer);
    const drainDeadline = performance.now() + 60000;
    const wait = setInterval(() => {
      if (inFlight === 0 || performance.now() > drainDeadline) {
        clearInterval(wait);
        result.elapsedMs = performance.now() - begin;
        agent.destroy();
        parentPort.postMessage(result);
      }
    }, 20);
  }
}, 5);
`;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function listCount(kc: KubeConfig): Promise<number> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const list = (await api.listNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NAMESPACE,
    plural: PLURALS.ProblemEvent,
  })) as { items: unknown[] };
  return list.items.length;
}

/** A fresh API server answers 429 for a CRD's resource until its watch cache is ready. */
async function waitForProblemEventStorage(kc: KubeConfig): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await listCount(kc);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

const cluster = await startCluster({ crdsDir: join(import.meta.dirname, '..', '..', 'crds') });
try {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NAMESPACE } } });
  await waitForProblemEventStorage(kc);

  const store = new KubeProblemStore({
    kubeConfig: kc,
    namespace: NAMESPACE,
    maxConcurrentWrites: Number(process.env['WRITES'] ?? 16),
  });
  const outcomes: Record<StoreOutcome, number> = { created: 0, unchanged: 0, refreshed: 0, resolved: 0 };
  let lastCreateAt = 0;
  const counting: ProblemSink = {
    store: async (problems) => {
      const stored = await store.store(problems);
      for (const s of stored) outcomes[s.outcome]++;
      if (stored.some((s) => s.outcome === 'created')) lastCreateAt = performance.now();
      return stored;
    },
  };
  const server = await startIngestServer({ address: '127.0.0.1:0', tokens: () => [TOKEN], sink: counting });
  try {
    console.log(
      `ingest bench: ${String(RATE_PER_SECOND)} alerts/s for ${String(DURATION_SECONDS)} s, ${String(DISTINCT_ALERTS)} distinct fingerprints, server ${server.url}, kube-apiserver ${cluster.server}`,
    );
    const cpuBefore = process.cpuUsage();
    const begin = performance.now();
    const result = await new Promise<LoadResult>((resolve, reject) => {
      const worker = new Worker(generatorSource, {
        eval: true,
        workerData: {
          url: `${server.url}/v1/alertmanager`,
          token: TOKEN,
          rate: RATE_PER_SECOND,
          seconds: DURATION_SECONDS,
          distinct: DISTINCT_ALERTS,
          maxInFlight: MAX_IN_FLIGHT,
        },
      });
      worker.once('message', (m: LoadResult) => {
        void worker.terminate();
        resolve(m);
      });
      worker.once('error', reject);
    });
    const cpu = process.cpuUsage(cpuBefore);
    const latencies = [...result.latenciesMs].sort((a, b) => a - b);
    const accepted = latencies.length;
    // Until every distinct alert exists, deliveries wait for API server creates; after that, repeats
    // are answered from the de-dup cache. Both phases are reported.
    const warmMs = lastCreateAt - begin;
    const steady = result.latenciesMs.filter((_, i) => (result.sentAtMs[i] ?? 0) > warmMs).sort((a, b) => a - b);
    const cold = result.latenciesMs.filter((_, i) => (result.sentAtMs[i] ?? 0) <= warmMs).sort((a, b) => a - b);
    const created = await listCount(kc);
    const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;
    console.log(
      `sent ${String(result.sent)} in ${(result.elapsedMs / 1000).toFixed(1)} s (${(result.sent / (result.elapsedMs / 1000)).toFixed(0)}/s including drain), skipped (client backlog > ${String(MAX_IN_FLIGHT)}) ${String(result.skipped)}, connection errors ${String(result.errors)}`,
    );
    console.log(`statuses ${JSON.stringify(result.statuses)}`);
    console.log(`accepted ${String(accepted)} / ${String(RATE_PER_SECOND * DURATION_SECONDS)}`);
    console.log(
      `accept latency p50 ${fmt(percentile(latencies, 50))}, p90 ${fmt(percentile(latencies, 90))}, p99 ${fmt(percentile(latencies, 99))}, max ${fmt(latencies.at(-1) ?? NaN)}`,
    );
    console.log(
      `cold phase (first ${(warmMs / 1000).toFixed(1)} s, until the last of the ${String(DISTINCT_ALERTS)} creates): ${String(cold.length)} accepted, p50 ${fmt(percentile(cold, 50))}, p99 ${fmt(percentile(cold, 99))}; creates/s ${(outcomes.created / (warmMs / 1000)).toFixed(0)}`,
    );
    console.log(
      `steady phase (repeats only): ${String(steady.length)} accepted, p50 ${fmt(percentile(steady, 50))}, p99 ${fmt(percentile(steady, 99))}`,
    );
    console.log(
      `store outcomes ${JSON.stringify(outcomes)} (API writes: ${String(outcomes.created + outcomes.refreshed + outcomes.resolved)})`,
    );
    console.log(
      `ProblemEvents created ${String(created)}, distinct fingerprints ${String(DISTINCT_ALERTS)}: ${created === DISTINCT_ALERTS ? 'OK' : 'MISMATCH'}`,
    );
    // Other work on the machine shares its cores with etcd, kube-apiserver and this process.
    console.log(
      `machine: ${String(availableParallelism())} cores, load average (1 min) at the end ${loadavg()[0]?.toFixed(1) ?? '?'}`,
    );
    console.log(
      `server process CPU during the run: user ${(cpu.user / 1e6).toFixed(1)} s, system ${(cpu.system / 1e6).toFixed(1)} s (includes the load-generator thread)`,
    );
    if (created !== DISTINCT_ALERTS) process.exitCode = 1;
  } finally {
    await server.close();
  }
} finally {
  await cluster.stop();
}
