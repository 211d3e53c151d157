// Prints push → Flux reports the commit (Kustomization lastAppliedRevision names it and Ready is True),
// p50/p99 over RUNS pushes, with the real source-controller and kustomize-controller on loopback:
//  - with Rebound's reconcile request (FluxClient.apply: the requestedAt annotation, as `apply: flux`
//    does right after its push), the GitRepository polling only every hour;
//  - without it: Flux's own poll, the GitRepository's interval set to POLL (Flux's default is 1m; a
//    shorter one keeps the run short, and the figure scales with it). Each push follows the previous
//    report at once, so it lands just after a poll: close to a whole interval, the worst case.
// The report is read the way the loop does (FluxClient.check) every 50 ms.
// Run: node test/bench/flux.bench.ts
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { FluxClient } from '../../src/apply/flux.ts';
import { startCluster } from '../harness/cluster.ts';
import { FLUX_NAMESPACE, startFlux } from '../harness/flux.ts';
import { startGitServer } from '../harness/git-server.ts';
import { runCommand } from '../harness/process.ts';
import { applyObjects, kubectl } from '../harness/world.ts';

const RUNS = Number(process.env.REBOUND_BENCH_RUNS ?? 30);
const POLL = '5s';
const BRANCH = 'production';

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function summary(label: string, ms: readonly number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  return `${label}: p50 ${String(percentile(sorted, 50))} ms, p99 ${String(percentile(sorted, 99))} ms, max ${String(sorted.at(-1))} ms (${String(ms.length)} pushes)`;
}

const deployment = (replicas: number): string =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: carts\nspec:\n  replicas: ${String(replicas)}\n  selector:\n    matchLabels: { app: carts }\n  template:\n    metadata:\n      labels: { app: carts }\n    spec:\n      containers:\n        - name: carts\n          image: carts:1\n`;

const cluster = await startCluster();
const git = await startGitServer();
const work = await mkdtemp(join(tmpdir(), 'rebound-flux-bench-'));
let flux: Awaited<ReturnType<typeof startFlux>> | undefined;
try {
  flux = await startFlux({ kubeconfigPath: cluster.kubeconfigPath });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const client = new FluxClient(kc);
  await kubectl(cluster.kubeconfigPath, ['create', 'namespace', FLUX_NAMESPACE]);
  await kubectl(cluster.kubeconfigPath, ['create', 'namespace', 'bench']);

  // One repository, cloned once; each push is one commit changing the replica count.
  const clone = join(work, 'clone');
  const repo = await git.createRepo('bench', async (gitDir) => {
    const seed = join(work, 'seed');
    await runCommand('git', ['init', '-q', '-b', BRANCH, seed]);
    await writeFile(join(seed, 'deployment.yaml'), deployment(1));
    await writeFile(join(seed, 'kustomization.yaml'), 'resources:\n  - deployment.yaml\n');
    await runCommand('git', ['-C', seed, 'add', '.']);
    await runCommand('git', ['-C', seed, '-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '-m', 'seed']);
    await runCommand('git', ['-C', seed, 'push', '-q', gitDir, BRANCH]);
  });
  await runCommand('git', ['clone', '-q', '--branch', BRANCH, repo.dir, clone]);
  let replicas = 1;
  const pushOne = async (): Promise<string> => {
    replicas = (replicas % 5) + 1;
    await writeFile(join(clone, 'deployment.yaml'), deployment(replicas));
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
      `replicas ${String(replicas)}`,
    ]);
    await runCommand('git', ['-C', clone, 'push', '-q', 'origin', BRANCH]);
    return (await runCommand('git', ['-C', clone, 'rev-parse', 'HEAD'])).stdout.trim();
  };

  const objects = (name: string, interval: string): object[] => [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git', namespace: FLUX_NAMESPACE },
      stringData: { username: git.username, password: git.password },
    },
    {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name, namespace: FLUX_NAMESPACE },
      spec: { url: repo.url, ref: { branch: BRANCH }, interval, secretRef: { name: 'git' } },
    },
    {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name, namespace: FLUX_NAMESPACE },
      spec: {
        interval: '1h',
        path: './',
        prune: false,
        targetNamespace: 'bench',
        sourceRef: { kind: 'GitRepository', name },
      },
    },
  ];
  const target = (name: string, commit: string) => ({
    engine: 'flux' as const,
    branch: BRANCH,
    commit,
    objects: [`${FLUX_NAMESPACE}/${name}`],
  });
  const reported = async (name: string, commit: string, started: number): Promise<number> => {
    for (;;) {
      const state = await client.check(target(name, commit), (a, d) => Promise.resolve(a === d));
      if (state.kind === 'synced') return Date.now() - started;
      if (Date.now() - started > 120_000)
        throw new Error(`Flux did not report ${commit} within 2 minutes: ${state.detail}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const measure = async (name: string, interval: string, request: boolean): Promise<number[]> => {
    await applyObjects(cluster.kubeconfigPath, objects(name, interval));
    await reported(name, (await runCommand('git', ['-C', clone, 'rev-parse', 'HEAD'])).stdout.trim(), Date.now());
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
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
          gitops: { objects: [`${FLUX_NAMESPACE}/${name}`] },
        });
      times.push(await reported(name, commit, started));
    }
    await kubectl(cluster.kubeconfigPath, ['delete', 'kustomization', name, '-n', FLUX_NAMESPACE]);
    return times;
  };

  console.log(
    summary("push → Flux reports the commit, with Rebound's reconcile request", await measure('requested', '1h', true)),
  );
  console.log(
    summary(`push → Flux reports the commit, Flux's own poll (interval ${POLL})`, await measure('polled', POLL, false)),
  );
} finally {
  await flux?.stop();
  await git.stop();
  await cluster.stop();
  await rm(work, { recursive: true, force: true });
}
