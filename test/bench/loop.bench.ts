// The remediation loop's own cost, on real parts (kube-apiserver + etcd, git http-backend, the real
// `rebound controller` process), loopback only, bounded. Prints:
//  - step latency, problem created → commit pushed → applied → status written (phase Evaluating),
//    over PROBLEMS problems run one after the other, each for a different service (so neither turns
//    nor limits hold any back), with the `kubernetes` applier and no policy wait;
//    split by the status timestamps (committedTime, appliedTime) and the controller's own metrics;
//  - next to the native-git floor: the `git` CLI doing fetch + edit + commit + push of one values
//    file against the same server, same repository layout;
//  - the controller's time to ready (process start → /readyz 200) with 1,000 objects;
//  - its resident memory with 10,000 ProblemEvents in its caches;
//  - webhook actions (issue 9): created → runbook called, callback → applied; and the scale step while
//    16 runbooks hang, showing that a hanging call holds no worker.
// Goals (issue 6): p50 ≤ 100 ms, p99 ≤ 300 ms; ready < 2 s; memory < 250 MB.
// Run: node test/bench/loop.bench.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { API_VERSION, KINDS } from '../../src/api/index.ts';
import type { ProblemEvent, Remediation, WebhookSpec } from '../../src/api/index.ts';
import { loadKubeConfig, reboundClients } from '../../src/kube/index.ts';
import { startCluster } from '../harness/cluster.ts';
import { startGitServer } from '../harness/git-server.ts';
import { freePort } from '../harness/ports.ts';
import { REPO_ROOT, installControllerRbac } from '../harness/world.ts';
import { benchDeployment, describe, inChains, ms, nativeFloor, percentile, seed, service } from './bench-repo.ts';
import { IMAGE_NODE_FLAGS, controllerEntry, rssMb, startBenchController } from './controller-process.ts';
import type { BenchController } from './controller-process.ts';

const PROBLEMS = 120;
const WARMUP = 5;
const FLOOR_ROUNDS = 60;
const READY_OBJECTS = 1_000;
const MEMORY_OBJECTS = 10_000;
const NAMESPACE = 'loop-bench';
const PROJECT = 'bench';
const STEP_TIMEOUT_MS = 30_000;
const CREATE_CONCURRENCY = 25;
const SEMI_SPACE_FLAG = IMAGE_NODE_FLAGS.join(' ');
const HOOK_PROBLEMS = 40;
const HANGING = 16;
const UNDER_LOAD = 40;
const HOOK_BASE = PROBLEMS + WARMUP;
const HANG_BASE = HOOK_BASE + HOOK_PROBLEMS;
const LOAD_BASE = HANG_BASE + HANGING;
const SERVICES = LOAD_BASE + UNDER_LOAD;
const WEBHOOK_TOKEN = 'bench-webhook-token-0c7e';

type Controller = BenchController;

let entry = '';

async function startController(
  kubeconfigPath: string,
  workDir: string,
  compileCacheDir: string,
  nodeFlags: string[] = [],
): Promise<Controller> {
  // Each its own webhook port: two controllers run side by side in the memory figure.
  const webhookPort = await freePort();
  return startBenchController({
    entry,
    kubeconfigPath,
    workDir,
    compileCacheDir,
    nodeFlags,
    args: [
      '--namespace',
      NAMESPACE,
      '--no-leader-elect',
      '--evaluation-wait=0s',
      // A bare API server: nothing rolls out (rollout.bench.ts measures the rollout on a cluster that does).
      '--rollout-timeout=0',
      '--turn-poll=200ms',
      '--stalled-recheck=1m',
      '--log-level=warn',
      '--workers=4',
      '--webhook-address',
      `127.0.0.1:${String(webhookPort)}`,
      '--webhook-token-file',
      join(work, 'webhook-token'),
    ],
  });
}

/** Sum and count of a histogram's series whose labels contain `label`, from the Prometheus text. */
function histogram(text: string, name: string, label: string): { sum: number; count: number } {
  const pick = (suffix: string): number => {
    const re = new RegExp(`^${name}_${suffix}\\{[^}]*${label}[^}]*\\} (\\S+)$`, 'm');
    return Number(re.exec(text)?.[1] ?? 0);
  };
  return { sum: pick('sum'), count: pick('count') };
}

function problem(name: string, svc: string, annotations?: Record<string, string>): ProblemEvent {
  return {
    apiVersion: API_VERSION,
    kind: KINDS.ProblemEvent,
    metadata: { name, namespace: NAMESPACE, ...(annotations ? { annotations } : {}) },
    spec: {
      project: PROJECT,
      stage: 'production',
      service: svc,
      problemTitle: 'Response time degradation',
      state: 'OPEN',
      source: 'bench',
    },
  };
}

interface RunbookCall {
  at: number;
  callbackUrl: string;
}

/** The runbooks: `/callback` answers 202 at once (the bench calls back), `/hang` never answers. */
async function startRunbooks(): Promise<{
  url: string;
  next(problemName: string): Promise<RunbookCall>;
  hanging(): number;
  close(): void;
}> {
  const waiters = new Map<string, (call: RunbookCall) => void>();
  let hanging = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/hang') {
        hanging++;
        return;
      }
      const at = performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        callbackUrl: string;
        problem: { name: string };
      };
      res.writeHead(202).end();
      waiters.get(body.problem.name)?.({ at, callbackUrl: body.callbackUrl });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`,
    next: (problemName) => new Promise((resolve) => waiters.set(problemName, resolve)),
    hanging: () => hanging,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** A Remediation for one service whose only action is a runbook webhook. */
function hookRemediation(i: number, url: string, settings: Omit<WebhookSpec, 'allowedHosts'>): Remediation {
  return {
    apiVersion: API_VERSION,
    kind: KINDS.Remediation,
    metadata: { name: service(i), namespace: NAMESPACE },
    spec: {
      project: PROJECT,
      stage: 'production',
      service: service(i),
      remediations: [{ problemType: 'default', actionsOnOpen: [{ name: 'runbook', action: 'webhook', value: url }] }],
      evaluation: { wait: '0s' },
      webhook: { allowedHosts: [new URL(url).host], ...settings },
    },
  };
}

const cluster = await startCluster({ crdsDir: join(REPO_ROOT, 'crds') });
const git = await startGitServer({ username: 'bench', password: 'bench-password-5d1f' });
const work = await mkdtemp(join(tmpdir(), 'rebound-loop-bench-'));
let controller: Controller | undefined;
let runbook: Awaited<ReturnType<typeof startRunbooks>> | undefined;
try {
  const kc = loadKubeConfig({ kind: 'file', path: cluster.kubeconfigPath });
  const clients = reboundClients(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  await installControllerRbac(cluster.kubeconfigPath);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  await core.createNamespace({ body: { metadata: { name: `${PROJECT}-production` } } });
  const repo = await git.createRepo(PROJECT, (dir) => seed(dir, SERVICES));
  const floorRepo = await git.createRepo('floor', (dir) => seed(dir, 100));
  await core.createNamespacedSecret({
    namespace: NAMESPACE,
    body: { metadata: { name: 'git' }, stringData: { username: git.username, token: git.password } },
  });
  await clients.projects.create({
    apiVersion: API_VERSION,
    kind: KINDS.Project,
    metadata: { name: PROJECT, namespace: NAMESPACE },
    spec: {
      git: { url: repo.url, secretRef: { name: 'git' }, poll: '1m' },
      stages: [{ name: 'production', remediation: 'automated', apply: 'kubernetes' }],
    },
  });
  // The Deployments the `kubernetes` applier scales (no controller-manager runs: no pods, just objects).
  await inChains(SERVICES, CREATE_CONCURRENCY, (i) =>
    apps.createNamespacedDeployment({
      namespace: `${PROJECT}-production`,
      body: benchDeployment(service(i)),
    }),
  );
  runbook = await startRunbooks();
  const hooks = runbook;
  await inChains(HOOK_PROBLEMS, CREATE_CONCURRENCY, (k) =>
    clients.remediations.create(
      hookRemediation(HOOK_BASE + k, `${hooks.url}/callback`, { waitForCallback: true, callbackTimeout: '1m' }),
    ),
  );
  await inChains(HANGING, CREATE_CONCURRENCY, (k) =>
    clients.remediations.create(hookRemediation(HANG_BASE + k, `${hooks.url}/hang`, { timeout: '5m', retries: 0 })),
  );
  await writeFile(join(work, 'webhook-token'), `${WEBHOOK_TOKEN}\n`);
  // 1,000 objects for the time-to-ready figure: ProblemEvents suspended by a person, so the loop reads them and leaves them be.
  await inChains(READY_OBJECTS, CREATE_CONCURRENCY, (i) =>
    clients.problemEvents.create(
      problem(`idle-${String(i).padStart(5, '0')}`, service(i % 100), { 'rebound.dev/suspend': 'true' }),
    ),
  );

  entry = await controllerEntry(work);
  console.log(
    `loop bench: controller from ${entry.endsWith('bin/rebound.js') ? 'TypeScript sources' : 'compiled JavaScript (as in the image)'}; load average (1 min) at the start ${loadavg()[0]?.toFixed(1) ?? '?'}`,
  );
  console.log(
    `loop bench: ${String(PROBLEMS)} problems one after the other, each for its own service, apply: kubernetes, evaluation wait 0s; kube-apiserver ${cluster.server}, git ${git.url}`,
  );
  // First start on a node: V8's compile cache is empty. Every later start (a restart, a new leader) finds it.
  const compileCache = join(work, 'compile-cache');
  const first = await startController(cluster.controllerKubeconfigPath, join(work, 'controller-0'), compileCache);
  await new Promise((r) => setTimeout(r, 2_000));
  const firstRss = await rssMb(first.pid);
  await first.stop();
  controller = await startController(cluster.controllerKubeconfigPath, join(work, 'controller'), compileCache);
  console.log(
    `time to ready with ${String(READY_OBJECTS + 2)} objects (${String(READY_OBJECTS)} ProblemEvents, 1 Project, 1 Secret), process start → /readyz 200: ${ms(controller.readyMs)} with V8's compile cache, ${ms(first.readyMs)} on the very first start (empty cache) (goal < 2000 ms); RSS when idle ${firstRss.toFixed(0)} MB`,
  );

  // Step latency: create → status with the attempt applied (phase Evaluating or already Resolved).
  const total: number[] = [];
  const seen: number[] = [];
  const toCommit: number[] = [];
  const commitToApplied: number[] = [];
  const appliedToObserved: number[] = [];
  const toResolved: number[] = [];
  const metricsBefore = await (await fetch(`${controller.metricsUrl}/metrics`)).text();
  // The client watches, as `kubectl get -w` does: it sees each status write when the API server sends
  // it, and adds no polling load of its own to the two cores it shares with the controller.
  const watching = new AbortController();
  const firstApplied = new Map<string, { object: ProblemEvent; at: number }>();
  const finished = new Map<string, () => void>();
  const source = clients.problemEvents.listWatch(NAMESPACE, { timeoutSeconds: () => 3_600 });
  const { resourceVersion } = await source.list(watching.signal);
  const watch = source
    .watch(
      resourceVersion,
      (event) => {
        if (event.type !== 'ADDED' && event.type !== 'MODIFIED') return;
        const current = event.object;
        const name = current.metadata.name ?? '';
        if (current.status?.attempts?.[0]?.appliedTime && !firstApplied.has(name))
          firstApplied.set(name, { object: current, at: performance.now() });
        const phase = current.status?.phase;
        const stalled = current.status?.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True');
        if (firstApplied.has(name) && (phase === 'Resolved' || phase === 'Exhausted' || stalled))
          finished.get(name)?.();
      },
      watching.signal,
    )
    .catch((err: unknown) => {
      if (!watching.signal.aborted) throw err;
    });
  /** One problem for service `i`, created and followed until it is over; its figures unless it is a warm-up. */
  const step = async (
    name: string,
    i: number,
    record: boolean,
  ): Promise<
    | {
        total: number;
        seen: number;
        toCommit: number;
        commitToApplied: number;
        appliedToObserved: number;
        resolved: number;
      }
    | undefined
  > => {
    const started = Date.now();
    const t0 = performance.now();
    const done = new Promise<void>((resolve) => finished.set(name, resolve));
    await clients.problemEvents.create(problem(name, service(i)));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), STEP_TIMEOUT_MS)),
    );
    const outcome = await Promise.race([done, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      const current = await clients.problemEvents.get(NAMESPACE, name);
      throw new Error(
        `${name} not resolved in ${String(STEP_TIMEOUT_MS)} ms: ${JSON.stringify(current?.status)}\n${controller?.output() ?? ''}`,
      );
    }
    const resolved = performance.now() - t0;
    const seenApplied = firstApplied.get(name);
    const applied = seenApplied?.object;
    if (applied?.status?.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True'))
      throw new Error(`${name} stalled: ${JSON.stringify(applied.status)}`);
    if (!record || !applied || !seenApplied) return undefined;
    const attempt = applied.status?.attempts?.[0];
    const committedAt = Date.parse(attempt?.committedTime ?? '') - started;
    const appliedAt = Date.parse(attempt?.appliedTime ?? '') - started;
    return {
      total: seenApplied.at - t0,
      seen: Date.parse(applied.status?.startTime ?? '') - started,
      toCommit: committedAt,
      commitToApplied: appliedAt - committedAt,
      appliedToObserved: seenApplied.at - t0 - appliedAt,
      resolved,
    };
  };
  for (let i = 0; i < PROBLEMS + WARMUP; i++) {
    const figures = await step(`step-${String(i).padStart(4, '0')}`, i, i >= WARMUP);
    if (!figures) continue;
    total.push(figures.total);
    seen.push(figures.seen);
    toCommit.push(figures.toCommit);
    commitToApplied.push(figures.commitToApplied);
    appliedToObserved.push(figures.appliedToObserved);
    toResolved.push(figures.resolved);
  }
  const metricsAfter = await (await fetch(`${controller.metricsUrl}/metrics`)).text();
  const floor = await nativeFloor(floorRepo.url, git.username, git.password, FLOOR_ROUNDS);

  console.log(
    `step latency (created → committed+pushed → applied → status written, seen by a watching client, as kubectl get -w), n=${String(total.length)}: ${describe(total)} (goals p50 ≤ 100 ms, p99 ≤ 300 ms)`,
  );
  console.log(
    `native-git floor (git CLI fetch + edit + commit + push, same server), n=${String(floor.length)}: ${describe(floor)}`,
  );
  const p50 = (values: number[]): number =>
    percentile(
      [...values].sort((a, b) => a - b),
      50,
    );
  console.log(
    `  the whole step at p50 is ${(p50(total) / p50(floor)).toFixed(2)}× the native-git floor at p50 (the floor is only fetch + commit + push; the step also writes status twice and patches the Deployment)`,
  );
  console.log('split by status timestamps (controller clock, ms resolution; same machine as the client):');
  console.log(`  created → commit reconcile started (status.startTime): ${describe(seen)}`);
  console.log(`  created → committed and pushed (attempt.committedTime): ${describe(toCommit)}`);
  console.log(`  committed → applied (status write, requeue, scale + ConfigMap patch): ${describe(commitToApplied)}`);
  console.log(`  applied → status seen by the client (status write + watch event): ${describe(appliedToObserved)}`);
  console.log(`  created → Resolved (evaluation with no slo.yaml passes at once): ${describe(toResolved)}`);
  const series: [string, string, string][] = [
    ['rebound_workqueue_queue_duration_seconds', 'name="problemevent"', 'waits in the queue'],
    [
      'rebound_workqueue_work_duration_seconds',
      'name="problemevent"',
      'reconciles (a reconcile may chain commit → apply)',
    ],
    [
      'rebound_git_operation_duration_seconds',
      'operation="fetch",result="success"',
      'policy reads from the branch (ls-refs, fetch if moved)',
    ],
    ['rebound_git_operation_duration_seconds', 'operation="push",result="success"', 'commits + pushes'],
  ];
  for (const [metric, label, what] of series) {
    const before = histogram(metricsBefore, metric, label);
    const after = histogram(metricsAfter, metric, label);
    const count = after.count - before.count;
    console.log(
      `  ${metric}{${label}}: ${String(count)} ${what}, mean ${ms(((after.sum - before.sum) / count) * 1000)}`,
    );
  }

  // Actions outside Git. (a) A runbook webhook that waits for its callback: created → runbook called,
  // and callback sent → status applied (seen by the watching client). (b) HANGING runbooks that never
  // answer, in flight at once, while UNDER_LOAD scale problems go through the loop one after the other
  // on the same 4 workers: if a hanging call held a worker, these would wait for its timeout.
  const callTimes: number[] = [];
  const callbackToApplied: number[] = [];
  for (let k = 0; k < HOOK_PROBLEMS; k++) {
    const name = `hook-${String(k).padStart(3, '0')}`;
    const t0 = performance.now();
    const called = runbook.next(name);
    const done = new Promise<void>((resolve) => finished.set(name, resolve));
    await clients.problemEvents.create(problem(name, service(HOOK_BASE + k)));
    const request = await called;
    const sent = performance.now();
    const answer = await fetch(request.callbackUrl, {
      method: 'POST',
      headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ status: 'succeeded', message: 'bench' }),
    });
    if (answer.status !== 200) throw new Error(`callback for ${name}: ${String(answer.status)} ${await answer.text()}`);
    await done;
    if (k < WARMUP) continue;
    callTimes.push(request.at - t0);
    callbackToApplied.push((firstApplied.get(name)?.at ?? NaN) - sent);
  }
  console.log(
    `webhook action waiting for its callback, n=${String(callTimes.length)}: created → runbook called ${describe(callTimes)}; callback sent → attempt applied, seen by the client ${describe(callbackToApplied)}`,
  );
  for (let k = 0; k < HANGING; k++)
    await clients.problemEvents.create(problem(`hang-${String(k).padStart(3, '0')}`, service(HANG_BASE + k)));
  for (const deadline = Date.now() + 30_000; runbook.hanging() < HANGING;) {
    if (Date.now() > deadline)
      throw new Error(`only ${String(runbook.hanging())} of ${String(HANGING)} hanging calls arrived`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const underLoad: number[] = [];
  for (let k = 0; k < UNDER_LOAD; k++) {
    const figures = await step(`busy-${String(k).padStart(3, '0')}`, LOAD_BASE + k, true);
    if (figures) underLoad.push(figures.total);
  }
  const running = Number(
    /^rebound_actions_running (\S+)$/m.exec(await (await fetch(`${controller.metricsUrl}/metrics`)).text())?.[1] ?? NaN,
  );
  console.log(
    `  with ${String(HANGING)} runbooks hanging (rebound_actions_running ${String(running)}, 4 workers), the scale step, n=${String(underLoad.length)}: ${describe(underLoad)} (without them above: p50 ${ms(p50(total))})`,
  );
  watching.abort();
  await watch;
  runbook.close();

  // Memory with 10,000 ProblemEvents in the caches, arriving as a burst of 8,875 watch events. A second
  // controller with V8's young generation capped watches the same burst (both only read: the new
  // ProblemEvents are suspended): V8 grows the young generation up to 2 × 64 MB under such a burst and
  // keeps it, which is most of the difference.
  const capped = await startController(
    cluster.controllerKubeconfigPath,
    join(work, 'controller-capped'),
    compileCache,
    [SEMI_SPACE_FLAG],
  );
  await inChains(MEMORY_OBJECTS - READY_OBJECTS - PROBLEMS - WARMUP, CREATE_CONCURRENCY, (i) =>
    clients.problemEvents.create(
      problem(`more-${String(i).padStart(5, '0')}`, service(i % 100), { 'rebound.dev/suspend': 'true' }),
    ),
  );
  // Let every ADDED event reach the cache and its reconcile finish.
  let depthZeroSince = 0;
  const settled = async (c: Controller): Promise<boolean> => {
    const text = await (await fetch(`${c.metricsUrl}/metrics`)).text();
    const depth = Number(/^rebound_workqueue_depth\{[^}]*problemevent[^}]*\} (\S+)$/m.exec(text)?.[1] ?? 0);
    const problemsCached = [...text.matchAll(/^rebound_problems\{[^}]*\} (\S+)$/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
    return depth === 0 && problemsCached >= MEMORY_OBJECTS;
  };
  for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
    const both = (await settled(controller)) && (await settled(capped));
    if (both) {
      if (depthZeroSince === 0) depthZeroSince = Date.now();
      if (Date.now() - depthZeroSince > 2_000) break;
    } else depthZeroSince = 0;
    await new Promise((r) => setTimeout(r, 250));
  }
  const rss = await rssMb(controller.pid);
  const cappedRss = await rssMb(capped.pid);
  await capped.stop();
  const processMetrics = await (await fetch(`${controller.metricsUrl}/metrics`)).text();
  const gauge = (name: string): string =>
    (Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(processMetrics)?.[1] ?? NaN) / 1048576).toFixed(0);
  const space = (name: string): string =>
    (
      Number(
        new RegExp(`^rebound_nodejs_heap_space_size_total_bytes\\{space="${name}"\\} (\\S+)$`, 'm').exec(
          processMetrics,
        )?.[1] ?? NaN,
      ) / 1048576
    ).toFixed(0);
  console.log(
    `resident memory with ${String(MEMORY_OBJECTS)} ProblemEvents in the caches: ${rss.toFixed(0)} MB (goal < 250 MB); V8 heap used ${gauge('rebound_nodejs_heap_size_used_bytes')} MB of ${gauge('rebound_nodejs_heap_size_total_bytes')} MB, external ${gauge('rebound_nodejs_external_memory_bytes')} MB; heap spaces: new ${space('new')} MB, old ${space('old')} MB, code ${space('code')} MB, large objects ${space('large_object')} MB`,
  );
  console.log(
    `  the same with node ${SEMI_SPACE_FLAG} (e.g. NODE_OPTIONS in the Deployment): ${cappedRss.toFixed(0)} MB`,
  );
  await controller.stop();
  controller = undefined;
  const restarted = await startController(cluster.controllerKubeconfigPath, join(work, 'controller-2'), compileCache);
  await new Promise((r) => setTimeout(r, 5_000));
  console.log(
    `restarted with ${String(MEMORY_OBJECTS)} ProblemEvents: ready in ${ms(restarted.readyMs)}; RSS ${(await rssMb(restarted.pid)).toFixed(0)} MB after 5 s`,
  );
  await restarted.stop();
  const restartedCapped = await startController(
    cluster.controllerKubeconfigPath,
    join(work, 'controller-3'),
    compileCache,
    [SEMI_SPACE_FLAG],
  );
  await new Promise((r) => setTimeout(r, 5_000));
  console.log(
    `  the same with node ${SEMI_SPACE_FLAG}: ready in ${ms(restartedCapped.readyMs)}; RSS ${(await rssMb(restartedCapped.pid)).toFixed(0)} MB after 5 s`,
  );
  await restartedCapped.stop();
  console.log(
    `machine: ${String(availableParallelism())} cores, load average (1 min) at the end ${loadavg()[0]?.toFixed(1) ?? '?'}`,
  );
} finally {
  runbook?.close();
  await controller?.stop();
  await git.stop();
  await cluster.stop();
  await rm(work, { recursive: true, force: true });
}
