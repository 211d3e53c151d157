// Prints how long the real-parts cluster takes to start and stop on this machine: etcd +
// kube-apiserver up to /readyz and the `default` namespace, then the same with crds/ installed and
// Established (what the vitest global set-up does). Run: node test/bench/cluster-startup.bench.ts
import { join } from 'node:path';
import { startCluster } from '../harness/cluster.ts';

const RUNS = 3;
const crdsDir = join(import.meta.dirname, '..', '..', 'crds');

function summary(label: string, ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  return `${label}: median ${String(median)} ms, min ${String(sorted[0])} ms, max ${String(sorted.at(-1))} ms (${String(ms.length)} runs)`;
}

async function measure(withCrds: boolean): Promise<{ start: number[]; stop: number[] }> {
  const start: number[] = [];
  const stop: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const cluster = await startCluster(withCrds ? { crdsDir } : {});
    start.push(cluster.startupMs);
    const t = Date.now();
    await cluster.stop();
    stop.push(Date.now() - t);
  }
  return { start, stop };
}

const bare = await measure(false);
console.log(summary('cluster start (etcd + kube-apiserver ready)', bare.start));
const withCrds = await measure(true);
console.log(summary('cluster start with crds/ Established', withCrds.start));
console.log(summary('cluster stop', [...bare.stop, ...withCrds.stop]));
