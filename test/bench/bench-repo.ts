// The benchmarks' repository and figures (not a *.bench.ts file: `make bench` does not run it): a
// project repository with N services written with the git CLI, the native-git floor (the git CLI doing
// one fetch + edit + commit + push per round on the same server), percentiles.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { runCommand } from '../harness/process.ts';

export const service = (i: number): string => `svc-${String(i).padStart(3, '0')}`;
/** A Deployment the `kubernetes` applier scales (no controller-manager runs: no pods, just the object). */
export function benchDeployment(name: string): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
      },
    },
  };
}

export const VALUES = '# bench service\nreplicaCount: 1\nfeatureFlags:\n  EnablePromotion: true\n';
export const POLICY = `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
metadata:
  name: bench
spec:
  remediations:
    - problemType: default
      actionsOnOpen:
        - action: scale
          name: Scale up
          value: "+1"
`;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
/** Runs `make(0..count-1)` in `concurrency` chains, each taking the next index when its call ends. */
export async function inChains(
  count: number,
  concurrency: number,
  make: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const chain = async (): Promise<void> => {
    while (next < count) await make(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, chain));
}

export const ms = (n: number): string => `${n.toFixed(1)} ms`;
export function describe(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `p50 ${ms(percentile(sorted, 50))}, p90 ${ms(percentile(sorted, 90))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted.at(-1) ?? NaN)}`;
}

/** A repository with `services` services on `production` (and `main`), written with the git CLI. */
export async function seed(gitDir: string, services: number): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'rebound-bench-seed-'));
  try {
    await runCommand('git', ['init', '-q', '-b', 'production', work]);
    for (let i = 0; i < services; i++) {
      await mkdir(join(work, service(i)), { recursive: true });
      await writeFile(join(work, service(i), 'values.yaml'), VALUES);
      await writeFile(join(work, service(i), 'remediation.yaml'), POLICY);
    }
    await runCommand('git', ['-C', work, 'add', '.']);
    await runCommand('git', [
      '-C',
      work,
      '-c',
      'user.name=Bench',
      '-c',
      'user.email=bench@example.com',
      'commit',
      '-q',
      '-m',
      'services',
    ]);
    await runCommand('git', ['-C', work, 'push', '-q', gitDir, 'production:production', 'production:main']);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The native floor: one clone, then per round fetch + edit + commit + push of one values file (of 100 services). */
export async function nativeFloor(url: string, username: string, password: string, rounds: number): Promise<number[]> {
  const work = await mkdtemp(join(tmpdir(), 'rebound-bench-floor-'));
  const authed = url.replace('http://', `http://${encodeURIComponent(username)}:${encodeURIComponent(password)}@`);
  const git = (args: string[]): Promise<unknown> =>
    runCommand('git', ['-C', work, '-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', ...args]);
  try {
    await runCommand('git', ['clone', '-q', '--branch', 'production', authed, work]);
    const out: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const started = performance.now();
      await git(['fetch', '-q', 'origin', 'production']);
      await git(['reset', '-q', '--hard', 'origin/production']);
      const path = join(work, service(round % 100), 'values.yaml');
      const text = await readFile(path, 'utf8');
      await writeFile(
        path,
        text.replace(/replicaCount: (\d+)/, (_m, n: string) => `replicaCount: ${String(Number(n) + 1)}`),
      );
      await git(['commit', '-q', '-a', '-m', `floor ${String(round)}`]);
      await git(['push', '-q', 'origin', 'HEAD:production']);
      out.push(performance.now() - started);
    }
    return out;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
