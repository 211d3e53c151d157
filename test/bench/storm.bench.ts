// Alert storms on real parts (kube-apiserver + etcd, git http-backend, `rebound controller` processes
// compiled as the image ships them, with the image's Node settings), loopback only, bounded (issue 15).
// The `kubernetes` applier, one repository per Project, evaluation wait 10 m: only the action path
// counts. Printed side by side:
//  - Storm A: 1,000 problems over 100 services (10 each): all first actions pushed and applied (goal ≤ 10 s);
//  - Storm B: 1,000 problems over 1,000 services in one repository (goal ≤ 15 s, and more commits/s
//    than the native git CLI doing one commit per push on the same server, measured in the same run);
//  - Storm C: 10,000 problems over 1,000 services in 3 Projects, 3 shards (3 controller processes,
//    `--watch-label-selector`, each with its own leader Lease) (goal ≤ 60 s);
//  for each: commits per push, duplicate (problem, attempt) pairs (must be 0), services that acted
//  twice at once (must be 0), controller CPU and peak RSS (goal < 250 MB), and, after Storm A, the API
//  server's and etcd's CPU while 900 problems wait (goal: near idle).
// Two floors on the same servers: the native git CLI's commits per second, and the API floor (the
// four writes every service of storm B needs, by a bare client: what the API server alone takes).
// BENCH_SCALE=0.1 runs every storm at a tenth of its size, BENCH_STORMS=AB only those (a quick look,
// not the figures); BENCH_WORKERS=4,16,32 runs each storm once per `--workers` value, side by side
// (default: the controller's default); BENCH_NODE='--max-semi-space-size=16;MALLOC_ARENA_MAX=2 ...' runs
// each storm once per Node setting (flags, and NAME=VALUE for the environment; `;` between settings,
// default: the image's); BENCH_LOG=info shows the controllers' logs at that level.
// Baseline: the storms in BENCH_BASELINE_STORMS (default A; empty: none) also run with the controller
// compiled from BENCH_BASELINE_REF (default ac4aeee, main before issue 15's memory and push-retry work)
// with the Node settings its image had, beside the working tree's: before and after in one run.
// Run: node test/bench/storm.bench.ts
import { mkdir, readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { API_VERSION, KINDS } from '../../src/api/index.ts';
import type { ProblemEvent, ProblemEventStatus } from '../../src/api/index.ts';
import { loadKubeConfig, reboundClients } from '../../src/kube/index.ts';
import { startCluster } from '../harness/cluster.ts';
import { startGitServer } from '../harness/git-server.ts';
import type { GitServer } from '../harness/git-server.ts';
import { runCommand } from '../harness/process.ts';
import { REPO_ROOT, installControllerRbac, kubectl } from '../harness/world.ts';
import { apiFloor } from './api-floor.ts';
import type { ApiFloor } from './api-floor.ts';
import { benchDeployment, inChains, nativeFloor, seed, service } from './bench-repo.ts';
import {
  IMAGE_NODE_FLAGS,
  controllerEntry,
  cpuSeconds,
  rssMb,
  sampleMemory,
  startBenchController,
} from './controller-process.ts';
import type { BenchController, MemoryPeak } from './controller-process.ts';

const SCALE = Number(process.env['BENCH_SCALE'] ?? '1');
const CREATE_CONCURRENCY = 25;
const FLOOR_ROUNDS = 60;
const STORM_TIMEOUT_MS = 300_000;
const IDLE_WINDOW_MS = 20_000;
const SHARD_LABEL = 'rebound.dev/shard';

interface Storm {
  name: string;
  goalSeconds: number;
  projects: number;
  /** Services per project. */
  services: number;
  problems: number;
  /** One controller per project, each watching its shard; otherwise one controller for all. */
  sharded: boolean;
}

const ALL_STORMS: Storm[] = [
  {
    name: 'A',
    goalSeconds: 10,
    projects: 1,
    services: Math.max(1, Math.round(100 * SCALE)),
    problems: Math.round(1_000 * SCALE),
    sharded: false,
  },
  {
    name: 'B',
    goalSeconds: 15,
    projects: 1,
    services: Math.round(1_000 * SCALE),
    problems: Math.round(1_000 * SCALE),
    sharded: false,
  },
  {
    name: 'C',
    goalSeconds: 60,
    projects: 3,
    services: Math.round(334 * SCALE),
    problems: Math.round(10_000 * SCALE),
    sharded: true,
  },
];
const STORMS = ALL_STORMS.filter((s) => (process.env['BENCH_STORMS'] ?? 'ABC').includes(s.name));
/** `--workers` values to run each storm with; undefined: the controller's default. */
const WORKERS: (number | undefined)[] = (process.env['BENCH_WORKERS'] ?? '')
  .split(',')
  .filter((w) => w.trim() !== '')
  .map(Number);
if (WORKERS.length === 0) WORKERS.push(undefined);
/** Node settings to run each storm with: flags, and environment variables as NAME=VALUE. */
const NODE_SETTINGS: { label: string; flags: string[]; env: Record<string, string> }[] = (
  process.env['BENCH_NODE'] ?? IMAGE_NODE_FLAGS.join(' ')
)
  .split(';')
  .map((setting) => setting.trim().split(/\s+/).filter(Boolean))
  .map((words) => ({
    label: words.join(' '),
    flags: words.filter((w) => w.startsWith('-')),
    env: Object.fromEntries(words.filter((w) => !w.startsWith('-')).map((w) => w.split('=', 2) as [string, string])),
  }));
const BASELINE_REF = process.env['BENCH_BASELINE_REF'] ?? 'ac4aeee';
const BASELINE_STORMS = process.env['BENCH_BASELINE_STORMS'] ?? 'A';
/** Whether the baseline build has the rollout wait (and its flag), to be turned off as in the working tree's runs. */
const baselineWaitsForRollouts = await runCommand('git', ['grep', '-q', 'rollout-timeout', BASELINE_REF, '--', 'src'], {
  cwd: REPO_ROOT,
}).then(
  () => true,
  () => false,
);
/** The image's Node settings at BENCH_BASELINE_REF. */
const BASELINE_NODE = { label: '--max-semi-space-size=16', flags: ['--max-semi-space-size=16'], env: {} };
const RUNS = STORMS.flatMap((storm) => [
  ...(BASELINE_STORMS.includes(storm.name)
    ? WORKERS.map((workers) => ({ storm, workers, node: BASELINE_NODE, baseline: true }))
    : []),
  ...WORKERS.flatMap((workers) => NODE_SETTINGS.map((node) => ({ storm, workers, node, baseline: false }))),
]);
const LOG_LEVEL = process.env['BENCH_LOG'] ?? 'warn';

interface StormResult {
  storm: Storm;
  workers: number | undefined;
  /** Which of the Node settings (index into NODE_SETTINGS); -1 for the baseline's. */
  node: number;
  baseline: boolean;
  /** Resident memory once ready and leading, before the storm (the largest of the shards). */
  readyRssMb: number;
  /** Resident memory at the end of the run, the storm over (after the idle window for A); the peak
   * (`peakRssMb`) is the high-water mark over the whole run. */
  afterRssMb: number;
  seconds: number;
  commits: number;
  pushes: number;
  duplicates: number;
  actedTwice: number;
  controllerCpu: number;
  peakRssMb: number;
  /** Heap and external memory of the controller with the highest resident set, at its peak. */
  memory: MemoryPeak;
  idle?: { apiserverCpu: number; etcdCpu: number; controllerCpu: number; waiting: number };
  /** The API requests made from the first problem's creation to the last first action, by kind,
   * the bench's own creations of the problems left out. */
  api: Map<string, number>;
  /** CPU seconds over the same span: kube-apiserver, etcd, the Git server's git processes, and this
   * process (the Git server's HTTP front, creating and watching the problems). */
  serverCpu: { api: number; etcd: number; git: number; bench: number };
}

/** The pid of the process whose command line holds every one of `needles`. */
async function findPid(...needles: string[]): Promise<number> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    if (needles.every((n) => args.some((a) => a.includes(n)))) return Number(entry);
  }
  throw new Error(`no process with ${needles.join(' ')}`);
}

/**
 * The API server's request counts so far (`apiserver_request_total`), keyed `VERB resource[/sub]`:
 * how many calls the storm cost, by kind.
 */
async function apiRequests(kubeconfigPath: string): Promise<Map<string, number>> {
  const stdout = await kubectl(kubeconfigPath, ['get', '--raw', '/metrics']);
  const out = new Map<string, number>();
  for (const m of stdout.matchAll(/^apiserver_request_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = new Map([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1] ?? '', l[2] ?? '']));
    const sub = labels.get('subresource');
    const key = `${labels.get('verb') ?? '?'} ${labels.get('resource') ?? '?'}${sub ? `/${sub}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(m[2]));
  }
  return out;
}

/** `<namespace>/<name> <uid> <attempt>` of every Rebound commit on the branch. */
async function reboundCommits(gitDir: string): Promise<string[]> {
  const { stdout } = await runCommand('git', [
    '--git-dir',
    gitDir,
    'log',
    '--format=%(trailers:key=Rebound-Problem,valueonly,separator=) %(trailers:key=Rebound-Attempt,valueonly,separator=)',
    'production',
  ]);
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes('/'));
}

const cluster = await startCluster({ crdsDir: join(REPO_ROOT, 'crds') });
const git: GitServer = await startGitServer({ username: 'bench', password: 'bench-password-7a2c' });
const work = await mkdtemp(join(tmpdir(), 'rebound-storm-bench-'));
const running: BenchController[] = [];
try {
  const kc = loadKubeConfig({ kind: 'file', path: cluster.kubeconfigPath });
  const clients = reboundClients(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  await installControllerRbac(cluster.kubeconfigPath);
  const apiserverPid = await findPid('kube-apiserver', `--secure-port=${new URL(cluster.server).port}`);
  const etcdUrl =
    (await readFile(`/proc/${String(apiserverPid)}/cmdline`, 'utf8'))
      .split('\0')
      .find((a) => a.startsWith('--etcd-servers='))
      ?.slice('--etcd-servers='.length) ?? '';
  const etcdPid = await findPid('etcd', `--listen-client-urls=${etcdUrl}`);
  const entry = await controllerEntry(work);
  let baselineBuild: Promise<string> | undefined;
  const baselineEntry = (): Promise<string> =>
    (baselineBuild ??= mkdir(join(work, 'baseline')).then(() => controllerEntry(join(work, 'baseline'), BASELINE_REF)));
  const compileCache = join(work, 'compile-cache');
  console.log(
    `storm bench: controllers from ${entry.endsWith('bin/rebound.js') ? 'TypeScript sources' : 'compiled JavaScript (as in the image)'}, node settings ${NODE_SETTINGS.map((n, i) => `[${String(i)}] ${n.label}`).join(', ')}; scale ${String(SCALE)}; load average (1 min) at the start ${loadavg()[0]?.toFixed(1) ?? '?'}`,
  );

  const floorRepo = await git.createRepo('floor', (dir) => seed(dir, 100));
  const floor = await nativeFloor(floorRepo.url, git.username, git.password, FLOOR_ROUNDS);
  const floorRate = floor.length / (floor.reduce((a, b) => a + b, 0) / 1000);

  const results: StormResult[] = [];
  /** A status as a storm wrote it at the first action (storm B's, else the last storm's), for the API floor. */
  let sampleStatus: { storm: string; status: ProblemEventStatus } | undefined;
  for (const [run, { storm, workers, node, baseline }] of RUNS.entries()) {
    const ns = `storm-${storm.name.toLowerCase()}-${String(run)}`;
    const projects = Array.from({ length: storm.projects }, (_, k) => `${ns}-p${String(k)}`);
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'git' }, stringData: { username: git.username, token: git.password } },
    });
    const repos: string[] = [];
    for (const [k, project] of projects.entries()) {
      const repo = await git.createRepo(project, (dir) => seed(dir, storm.services));
      repos.push(repo.dir);
      await core.createNamespace({ body: { metadata: { name: `${project}-production` } } });
      await clients.projects.create({
        apiVersion: API_VERSION,
        kind: KINDS.Project,
        metadata: {
          name: project,
          namespace: ns,
          ...(storm.sharded ? { labels: { [SHARD_LABEL]: `shard-${String(k)}` } } : {}),
        },
        spec: {
          git: { url: repo.url, secretRef: { name: 'git' }, poll: '5m' },
          stages: [{ name: 'production', remediation: 'automated', apply: 'kubernetes' }],
        },
      });
      // The Deployments the `kubernetes` applier scales (no controller-manager: objects, no pods).
      await inChains(storm.services, CREATE_CONCURRENCY, (i) =>
        apps.createNamespacedDeployment({
          namespace: `${project}-production`,
          body: benchDeployment(service(i)),
        }),
      );
    }

    // A bare API server: nothing rolls out, so the controller does not wait for rollouts.
    const common = [
      '--namespace',
      ns,
      '--evaluation-wait=10m',
      '--stalled-recheck=10m',
      // (a baseline from before rollouts, such as ac4aeee, has neither the wait nor the flag)
      ...(baseline && !baselineWaitsForRollouts ? [] : ['--rollout-timeout=0']),
      `--log-level=${LOG_LEVEL}`,
      ...(workers === undefined ? [] : [`--workers=${String(workers)}`]),
    ];
    const controllers: BenchController[] = [];
    for (let k = 0; k < (storm.sharded ? storm.projects : 1); k++) {
      const args = storm.sharded
        ? [
            ...common,
            `--watch-label-selector=${SHARD_LABEL}=shard-${String(k)}`,
            '--leader-elect',
            '--leader-election-namespace=rebound-system',
          ]
        : [...common, '--no-leader-elect'];
      const c = await startBenchController({
        entry: baseline ? await baselineEntry() : entry,
        kubeconfigPath: cluster.controllerKubeconfigPath,
        workDir: join(work, `${ns}-${String(k)}`),
        compileCacheDir: compileCache,
        args,
        nodeFlags: node.flags,
        env: node.env,
      });
      controllers.push(c);
      running.push(c);
    }
    // Leader election of each shard: wait until every controller leads its own.
    for (const c of controllers) {
      for (const deadline = Date.now() + 30_000; ;) {
        const text = await (await fetch(`${c.metricsUrl}/metrics`)).text();
        if (/^rebound_leader 1$/m.test(text) || !storm.sharded) break;
        if (Date.now() > deadline) throw new Error(`shard controller did not lead in 30 s:\n${c.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    // A watching client, as kubectl get -w: per service, when its first action was seen applied.
    const servicesTotal = storm.projects * storm.services;
    const firstApplied = new Map<string, number>();
    const acting = new Map<string, Set<string>>();
    let allApplied: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (allApplied = resolve));
    const watching = new AbortController();
    const source = clients.problemEvents.listWatch(ns, { timeoutSeconds: () => 3_600 });
    const seen = (p: ProblemEvent): void => {
      const key = `${p.spec.project}/${p.spec.service}`;
      if ((p.status?.attempts?.length ?? 0) > 0) {
        const set = acting.get(key) ?? new Set<string>();
        set.add(p.metadata.name ?? '');
        acting.set(key, set);
      }
      if (p.status?.attempts?.[0]?.appliedTime && !firstApplied.has(key)) {
        firstApplied.set(key, performance.now());
        if (firstApplied.size >= servicesTotal) allApplied();
      }
    };
    // A loaded API server may cut a watch: list again and watch on, as an informer does.
    let { resourceVersion } = await source.list(watching.signal);
    const watch = (async () => {
      while (!watching.signal.aborted) {
        try {
          await source.watch(
            resourceVersion,
            (event) => {
              if (event.type === 'ADDED' || event.type === 'MODIFIED') seen(event.object);
              resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion;
            },
            watching.signal,
          );
        } catch {
          if (watching.signal.aborted) return;
        }
        if (watching.signal.aborted) return;
        const listed = await source.list(watching.signal).catch(() => undefined);
        if (!listed) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        for (const p of listed.items) seen(p);
        resourceVersion = listed.resourceVersion;
      }
    })();

    const apiBefore = await apiRequests(cluster.kubeconfigPath);
    const serverCpuBefore = {
      api: await cpuSeconds(apiserverPid),
      etcd: await cpuSeconds(etcdPid),
      git: await cpuSeconds('self', 'children'),
      bench: await cpuSeconds('self'),
    };
    const gitBefore = git.stats().byKind['git-receive-pack'] ?? 0;
    const cpuBefore = await Promise.all(controllers.map((c) => cpuSeconds(c.pid)));
    const readyRssMb = Math.max(...(await Promise.all(controllers.map((c) => rssMb(c.pid)))));
    const samplers = controllers.map((c) => sampleMemory(c));
    const t0 = performance.now();
    // Problem i: service i mod (services), project i mod (projects): every service gets its first problem early.
    await inChains(storm.problems, CREATE_CONCURRENCY, (i) => {
      const k = i % storm.projects;
      const project = projects[k] ?? '';
      const p: ProblemEvent = {
        apiVersion: API_VERSION,
        kind: KINDS.ProblemEvent,
        metadata: {
          name: `p-${String(i).padStart(5, '0')}`,
          namespace: ns,
          ...(storm.sharded ? { labels: { [SHARD_LABEL]: `shard-${String(k)}` } } : {}),
        },
        spec: {
          project,
          stage: 'production',
          service: service(Math.floor(i / storm.projects) % storm.services),
          problemTitle: 'Response time degradation',
          state: 'OPEN',
          source: 'bench',
        },
      };
      return clients.problemEvents.create(p);
    });
    const created = performance.now() - t0;
    let timer: NodeJS.Timeout | undefined;
    // A controller that exits (a lost leader Lease) would leave the storm hanging: stop at once.
    const died = new Promise<'exited'>((resolve) => {
      for (const c of controllers) void c.exited.then(() => resolve('exited'));
    });
    const outcome = await Promise.race([
      done.then(() => 'done' as const),
      died,
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), STORM_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    const peaks = await Promise.all(samplers.map((s) => s.stop()));
    if (outcome === 'exited')
      throw new Error(`storm ${storm.name}: a controller exited\n${controllers.map((c) => c.output()).join('\n')}`);
    if (outcome === 'timeout')
      throw new Error(
        `storm ${storm.name}: ${String(firstApplied.size)} of ${String(servicesTotal)} services applied in ${String(STORM_TIMEOUT_MS)} ms\n${controllers.map((c) => c.output()).join('\n')}`,
      );
    const seconds = (Math.max(...firstApplied.values()) - t0) / 1000;
    const api = new Map<string, number>();
    for (const [key, n] of await apiRequests(cluster.kubeconfigPath)) {
      const made = n - (apiBefore.get(key) ?? 0) - (key === 'POST problemevents' ? storm.problems : 0);
      if (made > 0) api.set(key, made);
    }
    const cpuAfter = await Promise.all(controllers.map((c) => cpuSeconds(c.pid)));
    const serverCpu = {
      api: (await cpuSeconds(apiserverPid)) - serverCpuBefore.api,
      etcd: (await cpuSeconds(etcdPid)) - serverCpuBefore.etcd,
      git: (await cpuSeconds('self', 'children')) - serverCpuBefore.git,
      bench: (await cpuSeconds('self')) - serverCpuBefore.bench,
    };
    const pushes = (git.stats().byKind['git-receive-pack'] ?? 0) - gitBefore;
    const commits = (await Promise.all(repos.map(reboundCommits))).flat();
    const pairs = new Map<string, number>();
    for (const c of commits) pairs.set(c, (pairs.get(c) ?? 0) + 1);
    const result: StormResult = {
      storm,
      workers,
      node: NODE_SETTINGS.indexOf(node),
      baseline,
      readyRssMb,
      afterRssMb: NaN,
      seconds,
      commits: commits.length,
      pushes,
      duplicates: [...pairs.values()].filter((n) => n > 1).length,
      actedTwice: [...acting.values()].filter((s) => s.size > 1).length,
      controllerCpu: cpuAfter.reduce((a, b) => a + b, 0) - cpuBefore.reduce((a, b) => a + b, 0),
      peakRssMb: Math.max(...(await Promise.all(controllers.map((c) => rssMb(c.pid, 'VmHWM'))))),
      memory: peaks.reduce((a, b) => (b.rssMb > a.rssMb ? b : a)),
      api,
      serverCpu,
    };
    console.log(
      `storm ${storm.name}: ${String(storm.problems)} problems created in ${(created / 1000).toFixed(1)} s; every service's first action applied after ${seconds.toFixed(1)} s`,
    );
    if (storm.name === 'A' && !results.some((r) => r.idle && r.baseline === baseline)) {
      // The waiters: 900 problems Queued behind their services' holders, nothing else to do once
      // each has been seen once (the queue empty and no worker busy; at most a minute).
      for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
        const text = await (await fetch(`${controllers[0]?.metricsUrl ?? ''}/metrics`)).text();
        const busy = [...text.matchAll(/^rebound_(?:workqueue_depth|active_workers)\{[^}]*\} (\S+)$/gm)].some(
          (m) => Number(m[1]) > 0,
        );
        if (!busy) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const before = {
        api: await cpuSeconds(apiserverPid),
        etcd: await cpuSeconds(etcdPid),
        ctl: await cpuSeconds(controllers[0]?.pid ?? 0),
      };
      await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
      const after = {
        api: await cpuSeconds(apiserverPid),
        etcd: await cpuSeconds(etcdPid),
        ctl: await cpuSeconds(controllers[0]?.pid ?? 0),
      };
      const pct = (a: number, b: number): number => ((b - a) / (IDLE_WINDOW_MS / 1000)) * 100;
      result.idle = {
        apiserverCpu: pct(before.api, after.api),
        etcdCpu: pct(before.etcd, after.etcd),
        controllerCpu: pct(before.ctl, after.ctl),
        waiting: storm.problems - servicesTotal,
      };
    }
    result.afterRssMb = Math.max(...(await Promise.all(controllers.map((c) => rssMb(c.pid)))));
    // The high-water mark over the whole run: the waiters' first reconciles come after the last first
    // action, and memory may peak then.
    result.peakRssMb = Math.max(...(await Promise.all(controllers.map((c) => rssMb(c.pid, 'VmHWM')))));
    results.push(result);
    if (!sampleStatus || (storm.name === 'B' && sampleStatus.storm !== 'B')) {
      const status = (await clients.problemEvents.get(ns, 'p-00000'))?.status;
      if (status) sampleStatus = { storm: storm.name, status };
    }
    watching.abort();
    await watch;
    for (const c of controllers) {
      await c.stop();
      running.splice(running.indexOf(c), 1);
    }
  }

  // After the storms, on the same API server: what its writes alone take for storm B's services.
  const floorServices = ALL_STORMS.find((st) => st.name === 'B')?.services ?? 1_000;
  let floorApi: (ApiFloor & { api: number; etcd: number }) | undefined;
  if (sampleStatus) {
    const before = { api: await cpuSeconds(apiserverPid), etcd: await cpuSeconds(etcdPid) };
    const measured = await apiFloor(kc, {
      namespace: 'api-floor',
      services: floorServices,
      concurrency: CREATE_CONCURRENCY,
      status: sampleStatus.status,
    });
    floorApi = {
      ...measured,
      api: (await cpuSeconds(apiserverPid)) - before.api,
      etcd: (await cpuSeconds(etcdPid)) - before.etcd,
    };
  }

  console.log('');
  if (floorApi)
    console.log(
      `API floor, the ${String(floorApi.writesPerService)} writes every service needs (create its problem, claim its turn, one status write, scale) by a bare client, ${String(CREATE_CONCURRENCY)} at a time, no Git, reads, watches or Events: ${String(floorServices)} services in ${floorApi.seconds.toFixed(1)} s (kube-apiserver / etcd CPU ${floorApi.api.toFixed(1)} / ${floorApi.etcd.toFixed(1)} s)`,
    );
  console.log(
    `native git CLI, one fetch + edit + commit + push per round on the same server, ${String(FLOOR_ROUNDS)} rounds: ${floorRate.toFixed(1)} commits/s`,
  );
  const row = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(44) : c.padStart(14))).join('');
  console.log(
    row([
      '',
      ...results.map(
        (r) =>
          `${r.baseline ? 'before ' : ''}${r.storm.name}${r.workers === undefined ? '' : ` w${String(r.workers)}`}${NODE_SETTINGS.length > 1 && !r.baseline ? ` [${String(r.node)}]` : ''}`,
      ),
    ]),
  );
  console.log(
    row([
      'problems / services / shards',
      ...results.map(
        (r) =>
          `${String(r.storm.problems)}/${String(r.storm.projects * r.storm.services)}/${String(r.storm.sharded ? r.storm.projects : 1)}`,
      ),
    ]),
  );
  console.log(
    row([
      'first actions applied, s (goal)',
      ...results.map((r) => `${r.seconds.toFixed(1)} (${String(r.storm.goalSeconds)})`),
    ]),
  );
  console.log(row(['commits/s (native git above)', ...results.map((r) => (r.commits / r.seconds).toFixed(1))]));
  console.log(row(['commits / pushes', ...results.map((r) => `${String(r.commits)}/${String(r.pushes)}`)]));
  console.log(row(['commits per push', ...results.map((r) => (r.commits / Math.max(1, r.pushes)).toFixed(1))]));
  console.log(row(['duplicate (problem, attempt) pairs', ...results.map((r) => String(r.duplicates))]));
  console.log(row(['services that acted twice at once', ...results.map((r) => String(r.actedTwice))]));
  console.log(row(['controller CPU, s (all shards)', ...results.map((r) => r.controllerCpu.toFixed(1))]));
  console.log(
    row([
      'kube-apiserver / etcd CPU, s',
      ...results.map((r) => `${r.serverCpu.api.toFixed(1)} / ${r.serverCpu.etcd.toFixed(1)}`),
    ]),
  );
  console.log(
    row([
      'git processes / bench process CPU, s',
      ...results.map((r) => `${r.serverCpu.git.toFixed(1)} / ${r.serverCpu.bench.toFixed(1)}`),
    ]),
  );
  console.log(row(['controller RSS when ready, MB', ...results.map((r) => r.readyRssMb.toFixed(0))]));
  console.log(row(['controller peak RSS, MB (goal < 250)', ...results.map((r) => r.peakRssMb.toFixed(0))]));
  console.log(row(['controller RSS after the storm, MB', ...results.map((r) => r.afterRssMb.toFixed(0))]));
  console.log(
    row([
      '  at the peak: heap used/total, external MB',
      ...results.map(
        (r) =>
          `${r.memory.heapUsedMb.toFixed(0)}/${r.memory.heapTotalMb.toFixed(0)}, ${r.memory.externalMb.toFixed(0)}`,
      ),
    ]),
  );
  const perService = (r: StormResult, n: number): string => (n / (r.storm.projects * r.storm.services)).toFixed(1);
  console.log(
    row([
      'API requests per service (to its first action)',
      ...results.map((r) =>
        perService(
          r,
          [...r.api.values()].reduce((a, b) => a + b, 0),
        ),
      ),
    ]),
  );
  const kinds = [...new Set(results.flatMap((r) => [...r.api.keys()]))]
    .map((key) => ({ key, most: Math.max(...results.map((r) => Number(perService(r, r.api.get(key) ?? 0)))) }))
    .filter((k) => k.most >= 0.1)
    .sort((a, b) => b.most - a.most);
  for (const { key } of kinds)
    console.log(row([`  ${key}`, ...results.map((r) => perService(r, r.api.get(key) ?? 0))]));
  for (const r of results) {
    if (!r.idle) continue;
    console.log(
      `while ${String(r.idle.waiting)} problems wait (storm A${r.baseline ? `, before: ${BASELINE_REF}` : ''}, ${String(IDLE_WINDOW_MS / 1000)} s): kube-apiserver ${r.idle.apiserverCpu.toFixed(1)} %, etcd ${r.idle.etcdCpu.toFixed(1)} %, controller ${r.idle.controllerCpu.toFixed(1)} % of one core`,
    );
  }
  console.log(
    `machine: ${String(availableParallelism())} cores, load average (1 min) at the end ${loadavg()[0]?.toFixed(1) ?? '?'}`,
  );
} finally {
  for (const c of running) await c.stop();
  await git.stop();
  await cluster.stop();
  await rm(work, { recursive: true, force: true });
}
