// `make chaos`: issue 14's bad day against the real parts, on loopback, bounded in time, one table
// at the end. Not part of `make test` (it takes minutes); the deterministic parts of each defect
// are integration and unit tests there.
//
//   api-restart   the real `rebound controller` (leader election on, webhooks on) while its
//                 kube-apiserver restarts quickly, then gracefully (answering 30 s with /readyz
//                 failing, --shutdown-delay-duration), then stays away 30 s (longer than the renew
//                 deadline): the process must stay up, ingestion answer 503 + Retry-After while
//                 the server is away, and a ProblemEvent made after each restart be reconciled
//                 (time to recover).
//   git-kills     a process committing remediation steps SIGKILLed again and again while a person
//                 pushes: no step committed twice, every person's commit kept.
//   huge-file     300 MB of comment lines in remediation.yaml (small on the wire) read by a process
//                 capped at 192 MB of heap: refused with its size, no crash, readable after a revert.
//   hostile       URLs a resource can set, answers that echo credentials: refused or scrubbed.
//   prometheus-down  problems whose evaluations fall due while Prometheus is stopped: postponed,
//                 never a failed attempt or an escalation; resolved once it is back.
// Secret hits: every planted secret searched in the controller's output, Events, status, metrics
// and the commits.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkAllowedUrl } from '../../src/net/allowed-hosts.ts';
import { setUnleashFeature } from '../../src/actions/unleash.ts';
import { callWebhook, webhookCredentialHeaders } from '../../src/actions/webhook-call.ts';
import { PrometheusSliProvider, prometheusProviders } from '../../src/evaluation/providers/prometheus.ts';
import { installCrds, startCluster } from '../harness/cluster.ts';
import type { LocalCluster } from '../harness/cluster.ts';
import { runGit, startGitServer } from '../harness/git-server.ts';
import type { GitServer } from '../harness/git-server.ts';
import { keptnSeed } from '../harness/keptn-repo.ts';
import { freePort } from '../harness/ports.ts';
import { httpOk, startProcess, waitUntil } from '../harness/process.ts';
import type { ManagedProcess } from '../harness/process.ts';
import { toolPath } from '../harness/tools.ts';
import { startGateProxy } from '../harness/gate-proxy.ts';
import type { GateProxy } from '../harness/gate-proxy.ts';
import { startPrometheus } from '../harness/prometheus.ts';
import type { LocalPrometheus } from '../harness/prometheus.ts';
import { SAMPLE_SLI, sampleSlo, startSampleWorkload } from '../harness/sample-workload.ts';
import type { SampleWorkload } from '../harness/sample-workload.ts';
import {
  applyObjects,
  createProjectRepo,
  deployService,
  installControllerRbac,
  kubectl,
  startControllerProcess,
} from '../harness/world.ts';
import type { ControllerProcess } from '../harness/world.ts';

const REPO = join(import.meta.dirname, '..', '..');
const DEADLINE_MS = 15 * 60_000;
const rows: [string, string, string][] = [];
const secrets: string[] = [];
const haystacks: string[] = [];
const row = (measure: string, value: string | number, goal: string): void =>
  void rows.push([measure, String(value), goal]);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

// ---- api-restart ----
async function apiRestart(): Promise<void> {
  const cluster: LocalCluster = await startCluster({});
  let controller: ManagedProcess | undefined;
  const work = await mkdtemp(join(tmpdir(), 'rebound-chaos-'));
  try {
    await installCrds(cluster.kubeconfigPath, join(REPO, 'crds'));
    await installControllerRbac(cluster.kubeconfigPath);
    const namespace = `chaos-${randomBytes(3).toString('hex')}`;
    await applyObjects(cluster.kubeconfigPath, [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    ]);
    const token = `chaos-webhook-${randomBytes(12).toString('hex')}`;
    secrets.push(token);
    await writeFile(join(work, 'tokens'), `${token}\n`);
    const [metricsPort, webhookPort] = [await freePort(), await freePort()];
    controller = await startProcess({
      name: 'rebound-controller',
      command: process.execPath,
      args: [
        join(REPO, 'bin', 'rebound.js'),
        'controller',
        '--kubeconfig',
        cluster.controllerKubeconfigPath,
        '--namespace',
        namespace,
        '--work-dir',
        join(work, 'controller'),
        '--metrics-address',
        `127.0.0.1:${metricsPort}`,
        '--helm',
        toolPath('helm'),
        '--webhook-address',
        `127.0.0.1:${webhookPort}`,
        '--webhook-token-file',
        join(work, 'tokens'),
        '--problem-namespace',
        namespace,
        '--leader-elect',
        '--leader-election-namespace',
        'rebound-system',
        '--log-level',
        'debug',
      ],
      keepLines: 200_000,
    });
    await waitUntil('controller /readyz', () => httpOk(`http://127.0.0.1:${metricsPort}/readyz`), {
      timeoutMs: 90_000,
      process: controller,
    });
    let problems = 0;
    const reconciledAfter = async (label: string): Promise<number> => {
      problems += 1;
      const name = `${label}-${problems}`;
      const started = Date.now();
      await applyObjects(cluster.kubeconfigPath, [
        {
          apiVersion: 'rebound.dev/v1alpha1',
          kind: 'ProblemEvent',
          metadata: { name, namespace },
          spec: {
            project: 'nowhere',
            stage: 'production',
            service: 'carts',
            problemTitle: 'chaos',
            state: 'OPEN',
            source: 'chaos',
          },
        },
      ]);
      await until(
        `${name} reconciled`,
        async () => {
          const out = await kubectl(cluster.kubeconfigPath, [
            'get',
            'problemevent',
            name,
            '-n',
            namespace,
            '-o',
            'jsonpath={.status.conditions[*].type}',
          ]);
          return out.trim() === '' ? undefined : true;
        },
        120_000,
      );
      return Date.now() - started;
    };
    await reconciledAfter('before');
    let answered503 = 0;
    let asked = 0;
    const ingest = async (): Promise<void> => {
      asked += 1;
      const res = await fetch(`http://127.0.0.1:${webhookPort}/v1/problems`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          apiVersion: 'rebound.dev/v1alpha1',
          kind: 'ProblemEvent',
          metadata: { name: `during-${asked}` },
          spec: { project: 'nowhere', stage: 'production', service: 'carts', problemTitle: 'chaos' },
        }),
        signal: AbortSignal.timeout(15_000),
      }).catch(() => undefined);
      if (res?.status === 503 && res.headers.get('retry-after') !== null) answered503 += 1;
    };
    // quick: SIGTERM, down 1 s. graceful-30s: SIGTERM to a server started with
    // --shutdown-delay-duration=30s, which keeps answering (with /readyz failing) for 30 s, then
    // restarts at once. down-30s: SIGTERM, kept down 30 s (longer than the renew deadline).
    const restarts = [
      { label: 'quick', downMs: 1_000, nextShutdownDelaySeconds: 30 },
      { label: 'graceful-30s', downMs: 0, nextShutdownDelaySeconds: 0 },
      { label: 'down-30s', downMs: 30_000, nextShutdownDelaySeconds: 0 },
    ];
    for (const { label, downMs, nextShutdownDelaySeconds } of restarts) {
      const restart = cluster.restartApiServer({ downMs, shutdownDelaySeconds: nextShutdownDelaySeconds });
      if (label === 'graceful-30s') {
        // Still answering: the controller keeps working through the shutdown delay.
        await sleep(5_000);
        row(
          'time to reconcile a problem made during a graceful 30 s shutdown (ms)',
          await reconciledAfter('during-graceful'),
          '<= 10000',
        );
      } else {
        await sleep(Math.min(downMs, 5_000) / 2);
        await ingest();
      }
      await restart;
      const exit = controller.exitStatus();
      row(
        `controller alive after a ${label} API server restart`,
        exit === undefined ? 'yes' : `no (${JSON.stringify(exit)})`,
        'yes',
      );
      if (exit !== undefined) break;
      row(`time to recover after a ${label} restart (ms)`, await reconciledAfter(label), '<= 10000');
    }
    row('webhook answered 503 + Retry-After while the API server was away', `${answered503}/${asked}`, 'all');
    const lost = (
      await kubectl(cluster.kubeconfigPath, [
        'get',
        'problemevents',
        '-n',
        namespace,
        '-o',
        'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[*].type}{"\\n"}{end}',
      ])
    )
      .split('\n')
      .filter((l) => /^(before|quick|during-graceful|graceful|down)-/.test(l))
      .filter((l) => l.endsWith('=')).length;
    row('lost problems (made, never reconciled)', lost, '0');
    haystacks.push(controller.recentOutput());
    haystacks.push(
      await kubectl(cluster.kubeconfigPath, ['get', 'events,problemevents', '-n', namespace, '-o', 'yaml']).catch(
        () => '',
      ),
    );
    haystacks.push(
      (await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => undefined))?.text().catch(() => '')) ??
        '',
    );
  } finally {
    await controller?.stop(15_000);
    await cluster.stop();
    await rm(work, { recursive: true, force: true });
  }
}

// ---- prometheus-down ----
const VALUES = `replicaCount: 1
image:
  repository: docker.io/keptnexamples/carts
  tag: "0.13.1"
featureFlags:
  EnablePromotion: true
`;
const ESCALATING = `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
metadata:
  name: carts-remediation
spec:
  remediations:
    - problemType: Response time degradation
      actionsOnOpen:
        - { action: scale, name: Scale up, value: "+1" }
        - { action: featuretoggle, name: Promotion off, value: "EnablePromotion:off" }
`;

type ProblemStatus = {
  phase?: string;
  nextEvaluationTime?: string;
  conditions?: { type: string; reason: string }[];
  attempts?: { index: number; appliedTime?: string; result?: string }[];
};

/**
 * Problems whose evaluations fall due while Prometheus is stopped (the controller's address refuses
 * connections): every evaluation must be postponed, none counted as a failed attempt or escalated;
 * once a fresh Prometheus answers at that address, each evaluates and resolves (scale +1 passes).
 */
async function prometheusDown(): Promise<void> {
  const PROBLEMS = 3;
  const OUTAGE_MS = 30_000;
  const cluster = await startCluster({ crdsDir: join(REPO, 'crds') });
  const kc = cluster.kubeconfigPath;
  let git: GitServer | undefined;
  let workload: SampleWorkload | undefined;
  let prometheus: LocalPrometheus | undefined;
  let gate: GateProxy | undefined;
  let controller: ControllerProcess | undefined;
  const work = await mkdtemp(join(tmpdir(), 'rebound-chaos-prom-'));
  const scraped = { scrapeTargets: [] as string[], scrapeInterval: '1s', dataDir: join(work, 'prometheus-data') };
  try {
    await installControllerRbac(kc);
    git = await startGitServer({ username: 'rebound-bot', password: `chaos-git-${randomBytes(10).toString('hex')}` });
    secrets.push(git.password);
    workload = await startSampleWorkload({ kubeconfigPath: kc });
    scraped.scrapeTargets.push(workload.address);
    prometheus = await startPrometheus(scraped);
    gate = await startGateProxy(prometheus.url);
    const promValues = async (url: string, promql: string): Promise<string[]> => {
      const query = new URL('/api/v1/query', url);
      query.searchParams.set('query', promql);
      return (
        (await (await fetch(query)).json()) as { data: { result: { value: [number, string] }[] } }
      ).data.result.map((r) => r.value[1]);
    };
    const namespace = `chaos-prom-${randomBytes(3).toString('hex')}`;
    await applyObjects(kc, [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'git', namespace },
        stringData: { username: git.username, token: git.password },
      },
    ]);
    const projects: string[] = [];
    for (let i = 0; i < PROBLEMS; i += 1) {
      const project = `prom-${i}-${randomBytes(2).toString('hex')}`;
      const repo = await createProjectRepo(git, {
        project,
        service: 'carts',
        stages: ['production'],
        remediationStages: ['production'],
        files: {
          'values.yaml': VALUES,
          'remediation.yaml': ESCALATING,
          'slo.yaml': sampleSlo(700),
          'sli.yaml': SAMPLE_SLI,
        },
      });
      await applyObjects(kc, [
        {
          apiVersion: 'rebound.dev/v1alpha1',
          kind: 'Project',
          metadata: { name: project, namespace },
          spec: {
            git: {
              url: repo.url,
              secretRef: { name: 'git' },
              author: { name: 'Rebound', email: 'rebound@example.com' },
            },
            stages: [{ name: 'production', remediation: 'automated', apply: 'helm' }],
          },
        },
      ]);
      await deployService({
        kubeconfigPath: kc,
        repoDir: repo.dir,
        branch: 'production',
        service: 'carts',
        namespace: `${project}-production`,
      });
      workload.addTarget({ project, stage: 'production', service: 'carts', namespace: `${project}-production` });
      projects.push(project);
    }
    controller = await startControllerProcess({
      kubeconfigPath: cluster.controllerKubeconfigPath,
      prometheusUrl: gate.url,
      metricsPort: await freePort(),
      // A 20 s wait: every problem is applied well before its evaluation falls due in the outage.
      args: [
        '--namespace',
        namespace,
        '--evaluation-wait=20s',
        // A bare API server: nothing rolls out.
        '--rollout-timeout=0',
        '--evaluation-retry=1s',
        '--turn-poll=500ms',
        '--lease-duration=3s',
        '--log-level=debug',
      ],
    });
    const names = projects.map((_, i) => `slow-${i}`);
    await applyObjects(
      kc,
      projects.map((project, i) => ({
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'ProblemEvent',
        metadata: { name: names[i], namespace },
        spec: {
          project,
          stage: 'production',
          service: 'carts',
          problemTitle: 'Response time degradation',
          state: 'OPEN',
          source: 'chaos',
        },
      })),
    );
    const statuses = async (): Promise<ProblemStatus[]> =>
      Promise.all(
        names.map(
          async (name) =>
            (
              JSON.parse(await kubectl(kc, ['get', 'problemevent', name, '-n', namespace, '-o', 'json'])) as {
                status?: ProblemStatus;
              }
            ).status ?? {},
        ),
      );
    const applied = await until(
      'every problem applied',
      async () => {
        const all = await statuses();
        return all.every((p) => p.attempts?.[0]?.appliedTime !== undefined) ? all : undefined;
      },
      180_000,
    );
    // Prometheus has scraped every action's effect: the evaluations' data is there, only the server will not be.
    const before = prometheus.url;
    await until(
      'every effect scraped',
      async () => ((await promValues(before, 'rebound_sample_replicas == 2')).length === PROBLEMS ? true : undefined),
      60_000,
    );
    await gate.down();
    await prometheus.stop();
    const downAt = Date.now();
    const dueInOutage = applied.filter(
      (p) =>
        Date.parse(p.nextEvaluationTime ?? '') > downAt && Date.parse(p.nextEvaluationTime ?? '') < downAt + OUTAGE_MS,
    ).length;
    await sleep(OUTAGE_MS);
    const during = await statuses();
    const postponed = during.filter(
      (p) =>
        p.phase === 'Evaluating' &&
        p.conditions?.some((c) => c.type === 'Reconciling' && c.reason === 'PrometheusUnavailable'),
    ).length;
    const errors = Number(
      /^rebound_evaluations_total\{result="error"\} (\d+)/m.exec(
        await (await fetch(`${controller.metricsUrl}/metrics`)).text(),
      )?.[1] ?? 0,
    );

    // Started again on its data, reached at the same address.
    prometheus = await startPrometheus(scraped);
    gate.upstream = prometheus.url;
    await gate.up();
    const upAt = Date.now();
    const done = await until(
      'every problem finished',
      async () => {
        const all = await statuses();
        return all.every((p) => ['Resolved', 'Exhausted', 'Unhandled'].includes(p.phase ?? '')) ? all : undefined;
      },
      120_000,
    );
    const resolvedMs = Date.now() - upAt;
    const events = await kubectl(kc, [
      'get',
      'events',
      '-n',
      namespace,
      '-o',
      'jsonpath={range .items[*]}{.reason}{"\\n"}{end}',
    ]);
    const falseEscalations =
      done.reduce((n, p) => n + (p.attempts ?? []).filter((a) => a.result === 'fail' || a.index > 1).length, 0) +
      events.split('\n').filter((r) => r === 'Escalated' || r === 'ActionFailed').length;
    row(
      `problems whose evaluation fell due with Prometheus stopped (${OUTAGE_MS / 1000} s)`,
      `${dueInOutage}/${PROBLEMS}`,
      'all',
    );
    row(
      '  postponed as PrometheusUnavailable, still Evaluating',
      `${postponed}/${PROBLEMS} (${errors} evaluations refused)`,
      'all',
    );
    row('false escalations (failed attempts, Escalated/ActionFailed events)', falseEscalations, '0');
    row('resolved once Prometheus was back', `${done.filter((p) => p.phase === 'Resolved').length}/${PROBLEMS}`, 'all');
    row('time from Prometheus back to all resolved (ms)', resolvedMs, 'informational');
    haystacks.push(controller.process.recentOutput());
    haystacks.push(await kubectl(kc, ['get', 'events,problemevents', '-n', namespace, '-o', 'yaml']).catch(() => ''));
  } finally {
    await controller?.stop();
    await gate?.stop();
    await prometheus?.stop();
    await workload?.stop();
    await git?.stop();
    await cluster.stop();
    await rm(work, { recursive: true, force: true });
  }
}

// ---- git ----
function worker(
  args: string[],
  options: { maxOldSpaceMb?: number } = {},
): { done: Promise<{ code: number | null; signal: string | null; out: string }>; kill: () => void } {
  const child = spawn(
    process.execPath,
    [
      ...(options.maxOldSpaceMb ? [`--max-old-space-size=${options.maxOldSpaceMb}`] : []),
      join(import.meta.dirname, 'git-worker.ts'),
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return {
    done: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out }))),
    kill: () => child.kill('SIGKILL'),
  };
}

async function gitScenarios(): Promise<void> {
  const server: GitServer = await startGitServer({
    username: 'rebound-bot',
    password: `chaos-git-${randomBytes(10).toString('hex')}`,
  });
  secrets.push(server.password);
  const work = await mkdtemp(join(tmpdir(), 'rebound-chaos-git-'));
  try {
    const { url, dir: gitDir } = await server.createRepo(
      'chaos',
      keptnSeed({ services: ['carts'], examplesDir: null }),
    );
    const clone = join(work, 'person');
    const authed = new URL(url);
    authed.username = server.username;
    authed.password = server.password;
    await runGit(['clone', '--quiet', '--branch', 'production', authed.toString(), clone]);
    const env = {
      GIT_AUTHOR_NAME: 'Person',
      GIT_AUTHOR_EMAIL: 'p@example.invalid',
      GIT_COMMITTER_NAME: 'Person',
      GIT_COMMITTER_EMAIL: 'p@example.invalid',
    };
    const personCommits: string[] = [];
    const personPush = async (i: number): Promise<void> => {
      for (let tries = 0; tries < 10; tries += 1) {
        await runGit(['pull', '--quiet', '--rebase', 'origin', 'production'], { cwd: clone, env });
        await writeFile(join(clone, 'carts', `note-${i}.txt`), `person ${i}\n`);
        await runGit(['add', '.'], { cwd: clone, env });
        await runGit(['commit', '--quiet', '-m', `person ${i}`], { cwd: clone, env }).catch(() => '');
        try {
          await runGit(['push', '--quiet', 'origin', 'production'], { cwd: clone, env });
          personCommits.push((await runGit(['rev-parse', 'HEAD'], { cwd: clone })).trim());
          return;
        } catch {
          // Lost a race with the controller's push: rebase and try again, as a person would.
        }
      }
    };
    const storeDir = join(work, 'store');
    const STEPS = 30;
    let kills = 0;
    for (let round = 0; round < 12; round += 1) {
      const run = worker(['steps', storeDir, url, server.username, server.password, '1', String(STEPS)]);
      await sleep(150 + Math.floor(Math.random() * 600));
      await personPush(round);
      run.kill();
      if ((await run.done).signal === 'SIGKILL') kills += 1;
    }
    const final = await worker(['steps', storeDir, url, server.username, server.password, '1', String(STEPS)]).done;
    const log = await runGit(['log', '--format=%B%x00', 'production'], { env: { GIT_DIR: gitDir } });
    const counts = new Map<string, number>();
    for (const message of log.split('\0')) {
      const uid = /Rebound-Problem: .*?(chaos-\d+)/.exec(message)?.[1];
      if (uid) counts.set(uid, (counts.get(uid) ?? 0) + 1);
    }
    const duplicates = [...counts.values()].filter((n) => n > 1).length;
    let kept = 0;
    for (const commit of personCommits) {
      try {
        await runGit(['merge-base', '--is-ancestor', commit, 'production'], { env: { GIT_DIR: gitDir } });
        kept += 1;
      } catch {
        // Not an ancestor: overwritten.
      }
    }
    row(
      'SIGKILLs survived (steps all committed after restart)',
      final.code === 0 && counts.size === STEPS ? `${kills}/${kills}` : `0/${kills} (${final.out.slice(-200)})`,
      'all',
    );
    row('duplicate commits', duplicates, '0');
    row("people's commits kept", `${kept}/${personCommits.length}`, 'all');
    haystacks.push(log);

    // huge-file: 300 MB of comment lines, a few hundred KB on the wire.
    await runGit(['pull', '--quiet', '--rebase', 'origin', 'production'], { cwd: clone, env });
    const line = '# a comment line pushed by mistake, repeated until the file is huge\n';
    await writeFile(
      join(clone, 'carts', 'remediation.yaml'),
      line.repeat(Math.ceil((300 * 1024 * 1024) / line.length)),
    );
    await runGit(['commit', '--quiet', '-am', 'huge remediation.yaml'], { cwd: clone, env });
    await runGit(['push', '--quiet', 'origin', 'production'], { cwd: clone, env });
    let survived = 0;
    let tries = 0;
    for (const dir of [storeDir, join(work, 'fresh-store')]) {
      tries += 1;
      const read = await worker(['read', dir, url, server.username, server.password, 'carts/remediation.yaml'], {
        maxOldSpaceMb: 192,
      }).done;
      if (read.code === 0 && read.out.startsWith('refused FileTooLarge')) survived += 1;
      haystacks.push(read.out);
    }
    await runGit(['revert', '--no-edit', 'HEAD'], { cwd: clone, env });
    await runGit(['push', '--quiet', 'origin', 'production'], { cwd: clone, env });
    const after = await worker(['read', storeDir, url, server.username, server.password, 'carts/remediation.yaml'], {
      maxOldSpaceMb: 192,
    }).done;
    row('300 MB compressible file: readers refused it with its size, no crash', `${survived}/${tries}`, 'all');
    row(
      'after the revert: the branch reads again (no crash loop)',
      after.code === 0 && after.out.startsWith('ok ') ? 'yes' : `no (${after.out.slice(-200)})`,
      'yes',
    );
  } finally {
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
}

// ---- hostile inputs ----
async function hostile(): Promise<void> {
  let answered = 0;
  let total = 0;
  const refusedUrl = (ok: boolean): void => {
    total += 1;
    if (!ok) answered += 1;
  };
  const providers = prometheusProviders({ defaultUrl: 'http://prometheus.monitoring:9090', allowedHosts: [] });
  const hostileUrls = [
    'http://127.0.0.1:8080/admin',
    'http://2130706433/',
    'http://0x7f.0.0.1/',
    'http://[::1]/',
    'http://[0:0::1]:9090/',
    'http://169.254.169.254/latest/meta-data',
    'http://localhost/',
    'https://u:p@prometheus.monitoring:9090/',
    'file:///etc/passwd',
    'gopher://x/',
    'http://prometheus.monitoring.evil.example/',
    'http://prometheus.monitoring:9091/',
  ];
  for (const url of hostileUrls) {
    let ok = true;
    try {
      providers(url);
    } catch {
      ok = false;
    }
    refusedUrl(ok);
    refusedUrl(checkAllowedUrl(url, ['runbooks.example.com']).ok);
  }
  // Answers that echo what they were sent.
  const password = `hunter2-${randomBytes(6).toString('hex')}`;
  const token = `unleash-${randomBytes(10).toString('hex')}`;
  const promToken = `prom-${randomBytes(10).toString('hex')}`;
  secrets.push(password, token, promToken);
  const echo = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    const decoded = Buffer.from(auth.split(' ')[1] ?? '', 'base64').toString('utf8');
    res.writeHead(req.url?.includes('/api/v1/query') ? 503 : 401, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        status: 'error',
        errorType: 'unavailable',
        error: `you sent ${auth} (${decoded}, ${encodeURIComponent(decoded)})`,
        message: `invalid ${auth}`,
      }),
    );
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  try {
    const webhook = await callWebhook(
      {
        url: `${base}/run`,
        headers: webhookCredentialHeaders({ username: 'runbook', password }),
        body: {},
        idempotencyKey: 'k',
      },
      { allowedHosts: ['127.0.0.1'], timeoutMs: 5_000, retries: 0 },
    );
    haystacks.push(JSON.stringify(webhook));
    const unleash = await setUnleashFeature({ url: base, token, environment: 'production' }, 'f', true).catch(
      (e: unknown) => e,
    );
    haystacks.push(String(unleash));
    const prom = await new PrometheusSliProvider({ url: base, headers: { Authorization: `Bearer ${promToken}` } })
      .getIndicators({
        project: 'p',
        stage: 's',
        service: 'v',
        indicators: ['rt'],
        queries: { rt: 'up' },
        start: new Date(Date.now() - 60_000),
        end: new Date(),
      })
      .catch((e: unknown) => e);
    haystacks.push(String(prom));
    total += 3;
    answered += 3;
  } finally {
    echo.close();
  }
  row('hostile inputs answered (refused, or echoes scrubbed)', `${answered}/${total}`, 'all');
}

async function main(): Promise<void> {
  const timer = setTimeout(() => {
    process.stderr.write(`chaos: gave up after ${DEADLINE_MS} ms\n`);
    process.exit(1);
  }, DEADLINE_MS);
  const only = process.argv.slice(2);
  const scenarios: [string, () => Promise<void>][] = [
    ['git', gitScenarios],
    ['hostile', hostile],
    ['prometheus-down', prometheusDown],
    ['api-restart', apiRestart],
  ];
  for (const [name, run] of scenarios) {
    if (only.length > 0 && !only.includes(name)) continue;
    const started = Date.now();
    try {
      await run();
    } catch (err) {
      row(`scenario ${name} failed`, err instanceof Error ? err.message.slice(0, 120) : String(err), 'never');
    }
    process.stderr.write(`chaos: ${name} took ${Date.now() - started} ms\n`);
  }
  const hits = secrets.reduce((n, secret) => n + haystacks.filter((h) => h.includes(secret)).length, 0);
  row('secret hits in logs/Events/status/metrics/commits/messages', hits, '0');
  clearTimeout(timer);
  const width = Math.max(...rows.map((r) => r[0].length));
  const valueWidth = Math.max(...rows.map((r) => r[1].length));
  process.stdout.write(`\n${'measure'.padEnd(width)}  ${'value'.padEnd(valueWidth)}  goal\n`);
  for (const [measure, value, goal] of rows)
    process.stdout.write(`${measure.padEnd(width)}  ${value.padEnd(valueWidth)}  ${goal}\n`);
}

await main();
