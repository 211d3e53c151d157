// Prints push → Argo CD reports the commit (the Application's sync.revision is the commit, Synced and
// Healthy), p50/p99 over RUNS pushes, with the real application-controller and repo-server on loopback:
//  - with Rebound's refresh request (ArgoCdClient.apply: the argocd.argoproj.io/refresh annotation, as
//    `apply: argocd` does right after its push), Argo CD's own poll an hour away;
//  - without it: Argo CD's own poll (timeout.reconciliation / --app-resync, set to POLL_SECONDS, no
//    jitter; Argo CD's default is 120s plus up to 60s of jitter). The repo-server keeps a branch's
//    resolved commit for ARGOCD_RECONCILIATION_TIMEOUT (the harness passes it, as the install
//    manifests do): without it, 3 minutes, and a poll every 5s kept comparing with the cached commit.
// The synced object is a ConfigMap (Healthy as soon as it exists: the test cluster has no
// controller-manager to make a Deployment available). The report is read the way the loop does
// (ArgoCdClient.check) every 50 ms.
// Run: node test/bench/argocd.bench.ts
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ArgoCdClient } from '../../src/apply/argocd.ts';
import { ARGOCD_NAMESPACE, startArgoCd } from '../harness/argocd.ts';
import { startCluster } from '../harness/cluster.ts';
import { startGitServer } from '../harness/git-server.ts';
import { runCommand } from '../harness/process.ts';
import { applyObjects, kubectl } from '../harness/world.ts';

const RUNS = Number(process.env.REBOUND_BENCH_RUNS ?? 30);
const POLL_SECONDS = 5;
const BRANCH = 'production';

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function summary(label: string, ms: readonly number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  return `${label}: p50 ${String(percentile(sorted, 50))} ms, p99 ${String(percentile(sorted, 99))} ms, max ${String(sorted.at(-1))} ms (${String(ms.length)} pushes)`;
}

const configMap = (n: number): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: carts\ndata:\n  replicas: "${String(n)}"\n`;

const cluster = await startCluster();
const git = await startGitServer();
const work = await mkdtemp(join(tmpdir(), 'rebound-argocd-bench-'));
let argocd: Awaited<ReturnType<typeof startArgoCd>> | undefined;
try {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const client = new ArgoCdClient(kc);
  await kubectl(cluster.kubeconfigPath, ['create', 'namespace', 'bench']);

  const clone = join(work, 'clone');
  const repo = await git.createRepo('bench', async (gitDir) => {
    const seed = join(work, 'seed');
    await runCommand('git', ['init', '-q', '-b', BRANCH, seed]);
    await writeFile(join(seed, 'carts.yaml'), configMap(1));
    await runCommand('git', ['-C', seed, 'add', '.']);
    await runCommand('git', ['-C', seed, '-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '-m', 'seed']);
    await runCommand('git', ['-C', seed, 'push', '-q', gitDir, BRANCH]);
  });
  await runCommand('git', ['clone', '-q', '--branch', BRANCH, repo.dir, clone]);
  let n = 1;
  const pushOne = async (): Promise<string> => {
    n += 1;
    await writeFile(join(clone, 'carts.yaml'), configMap(n));
    await runCommand('git', [
      '-C',
      clone,
      '-c',
      'user.name=b',
      '-c',
      'user.email=b@b',
      'commit',
      '-q',
      '-am',
      `n ${String(n)}`,
    ]);
    await runCommand('git', ['-C', clone, 'push', '-q', 'origin', BRANCH]);
    return (await runCommand('git', ['-C', clone, 'rev-parse', 'HEAD'])).stdout.trim();
  };
  const key = `${ARGOCD_NAMESPACE}/carts`;
  const reported = async (commit: string, started: number, limitMs = 120_000): Promise<number> => {
    for (;;) {
      const state = await client.check({ engine: 'argocd', branch: BRANCH, commit, objects: [key] }, (a, d) =>
        Promise.resolve(a === d),
      );
      if (state.kind === 'synced') return Date.now() - started;
      if (Date.now() - started > limitMs)
        throw new Error(`Argo CD did not report ${commit} within ${String(limitMs / 1000)} s: ${state.detail}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const measure = async (resyncSeconds: number, request: boolean, runs = RUNS): Promise<number[]> => {
    argocd = await startArgoCd({
      kubeconfigPath: cluster.kubeconfigPath,
      repositories: [{ url: repo.url, username: git.username, password: git.password }],
      resyncSeconds,
    });
    await applyObjects(cluster.kubeconfigPath, [
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: 'carts', namespace: ARGOCD_NAMESPACE },
        spec: {
          project: 'default',
          source: { repoURL: repo.url, targetRevision: BRANCH, path: '.' },
          destination: { server: 'https://kubernetes.default.svc', namespace: 'bench' },
          syncPolicy: { automated: {} },
        },
      },
    ]);
    await reported((await runCommand('git', ['-C', clone, 'rev-parse', 'HEAD'])).stdout.trim(), Date.now());
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const commit = await pushOne();
      const started = Date.now();
      if (request)
        await client.apply({
          project: 'bench',
          stage: BRANCH,
          service: 'carts',
          namespace: 'bench',
          branch: BRANCH,
          commit,
          gitops: { objects: [key] },
        });
      times.push(await reported(commit, started));
    }
    await kubectl(cluster.kubeconfigPath, ['delete', 'application', 'carts', '-n', ARGOCD_NAMESPACE]);
    await argocd.stop();
    argocd = undefined;
    return times;
  };

  console.log(summary("push → Argo CD reports the commit, with Rebound's refresh request", await measure(3600, true)));
  const polled = `push → Argo CD reports the commit, Argo CD's own poll (every ${String(POLL_SECONDS)}s)`;
  console.log(summary(polled, await measure(POLL_SECONDS, false)));
} finally {
  await argocd?.stop();
  await git.stop();
  await cluster.stop();
  await rm(work, { recursive: true, force: true });
}
