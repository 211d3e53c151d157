// "Applied" means live, measured on a cluster whose workloads roll out (kube-controller-manager,
// kube-scheduler, KWOK nodes). Prints, side by side for the `helm` and `kubernetes` appliers:
//  - push → applied (attempt.committedTime → appliedTime: the apply itself) and applied → live
//    (appliedTime → liveTime: the rollout of the new replica until it is Ready), p50/p99 over
//    PROBLEMS problems each, one after the other, each for its own service;
//  - the cold and warm start of the grown cluster (the first start in this process, then the rest).
// Run: node test/bench/rollout.bench.ts
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { API_VERSION, KINDS } from '../../src/api/index.ts';
import type { ProblemEvent } from '../../src/api/index.ts';
import { loadKubeConfig, reboundClients } from '../../src/kube/index.ts';
import { startCluster } from '../harness/cluster.ts';
import { startGitServer } from '../harness/git-server.ts';
import { runCommand } from '../harness/process.ts';
import { REPO_ROOT, deployService, installControllerRbac } from '../harness/world.ts';
import { POLICY, VALUES, describe, service } from './bench-repo.ts';
import { controllerEntry, startBenchController } from './controller-process.ts';
import type { BenchController } from './controller-process.ts';

const PROBLEMS = Number(process.env['ROLLOUT_BENCH_PROBLEMS'] ?? 50);
const STARTS = 3;
const NAMESPACE = 'rollout-bench';
const APPLIERS = ['helm', 'kubernetes'] as const;
const CHART = join(REPO_ROOT, 'examples', 'sockshop', 'carts', 'chart');
const STEP_TIMEOUT_MS = 60_000;

async function clusterStarts(): Promise<number[]> {
  const starts: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const c = await startCluster({ crdsDir: join(REPO_ROOT, 'crds'), workloads: { nodes: 2 } });
    starts.push(c.startupMs);
    await c.stop();
  }
  return starts;
}

/** A repository with PROBLEMS services on `production` (and `main`), each with the sample chart. */
async function seed(gitDir: string): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'rebound-rollout-seed-'));
  try {
    await runCommand('git', ['init', '-q', '-b', 'production', work]);
    for (let i = 0; i < PROBLEMS; i++) {
      const dir = join(work, service(i));
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'values.yaml'), VALUES);
      await writeFile(join(dir, 'remediation.yaml'), POLICY);
      await cp(CHART, join(dir, 'chart'), { recursive: true });
    }
    await runCommand('git', ['-C', work, 'add', '.']);
    await runCommand('git', [
      '-C',
      work,
      '-c',
      'user.name=Bench',
      '-c',
      'user.email=b@example.com',
      'commit',
      '-qm',
      's',
    ]);
    await runCommand('git', ['-C', work, 'push', '-q', gitDir, 'production:production', 'production:main']);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const starts = await clusterStarts();
const cluster = await startCluster({ crdsDir: join(REPO_ROOT, 'crds'), workloads: { nodes: 2 } });
const git = await startGitServer({ username: 'bench', password: 'bench-password-77aa' });
const work = await mkdtemp(join(tmpdir(), 'rebound-rollout-bench-'));
let controller: BenchController | undefined;
try {
  const kc = loadKubeConfig({ kind: 'file', path: cluster.kubeconfigPath });
  const clients = reboundClients(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  await installControllerRbac(cluster.kubeconfigPath);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  await core.createNamespacedSecret({
    namespace: NAMESPACE,
    body: { metadata: { name: 'git' }, stringData: { username: git.username, token: git.password } },
  });
  for (const applier of APPLIERS) {
    const project = `bench-${applier}`;
    const namespace = `${project}-production`;
    const repo = await git.createRepo(project, (dir) => seed(dir));
    await clients.projects.create({
      apiVersion: API_VERSION,
      kind: KINDS.Project,
      metadata: { name: project, namespace: NAMESPACE },
      spec: {
        git: { url: repo.url, secretRef: { name: 'git' }, poll: '1m' },
        stages: [{ name: 'production', remediation: 'automated', apply: applier }],
      },
    });
    // Every service running one Ready pod before its problem, as a delivery would have left it.
    for (let i = 0; i < PROBLEMS; i++) {
      await deployService({
        kubeconfigPath: cluster.kubeconfigPath,
        repoDir: repo.dir,
        branch: 'production',
        service: service(i),
        namespace,
      });
    }
  }
  for (const applier of APPLIERS) {
    const namespace = `bench-${applier}-production`;
    for (let waited = 0; ; waited += 200) {
      const list = await apps.listNamespacedDeployment({ namespace });
      if (list.items.every((d) => d.status?.availableReplicas === 1)) break;
      if (waited > 120_000) throw new Error(`the first releases in ${namespace} did not roll out`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const entry = await controllerEntry(work);
  controller = await startBenchController({
    entry,
    kubeconfigPath: cluster.controllerKubeconfigPath,
    workDir: join(work, 'controller'),
    compileCacheDir: join(work, 'compile-cache'),
    args: [
      '--namespace',
      NAMESPACE,
      '--no-leader-elect',
      '--evaluation-wait=1h',
      '--rollout-poll=100ms',
      '--helm',
      join(process.env['REBOUND_TOOLS_DIR'] ?? join(process.env['HOME'] ?? '', '.cache', 'rebound', 'bin'), 'helm'),
      '--log-level=warn',
    ],
  });
  console.log(
    `rollout bench: ${String(PROBLEMS)} problems per applier, one after the other, each for its own service (scale +1 of a Deployment with one Ready pod), rollout poll 100 ms; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const rows: string[] = [];
  for (const applier of APPLIERS) {
    const apply: number[] = [];
    const rollout: number[] = [];
    for (let i = 0; i < PROBLEMS; i++) {
      const name = `p-${applier}-${String(i)}`;
      await clients.problemEvents.create({
        apiVersion: API_VERSION,
        kind: KINDS.ProblemEvent,
        metadata: { name, namespace: NAMESPACE },
        spec: {
          project: `bench-${applier}`,
          stage: 'production',
          service: service(i),
          problemTitle: 'bench',
          state: 'OPEN',
          source: 'bench',
        },
      });
      const deadline = Date.now() + STEP_TIMEOUT_MS;
      let live: ProblemEvent | undefined;
      while (!live) {
        const p = await clients.problemEvents.get(NAMESPACE, name);
        const attempt = p?.status?.attempts?.[0];
        if (attempt?.liveTime) live = p;
        else if (attempt?.result === 'fail' || Date.now() > deadline)
          throw new Error(`${name}: not live: ${JSON.stringify(p?.status)}\n${controller.output()}`);
        else await new Promise((r) => setTimeout(r, 50));
      }
      const a = live.status?.attempts?.[0];
      apply.push(Date.parse(a?.appliedTime ?? '') - Date.parse(a?.committedTime ?? ''));
      rollout.push(Date.parse(a?.liveTime ?? '') - Date.parse(a?.appliedTime ?? ''));
    }
    rows.push(`  ${applier.padEnd(10)} push → applied: ${describe(apply)}`);
    rows.push(`  ${applier.padEnd(10)} applied → live: ${describe(rollout)}`);
  }
  for (const row of rows) console.log(row);
  const warm = starts.slice(1).sort((x, y) => x - y);
  console.log(
    `cluster start with workloads (etcd, kube-apiserver, CRDs, kube-controller-manager, kube-scheduler, KWOK, 2 nodes Ready): cold ${String(starts[0])} ms (the first start), warm ${warm.map(String).join(', ')} ms`,
  );
} finally {
  await controller?.stop();
  await git.stop();
  await cluster.stop();
  await rm(work, { recursive: true, force: true });
}
