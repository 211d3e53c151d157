// Screenshots of the web UI for docs/ui/: a throw-away API server with the CRDs, a few ProblemEvents
// in the states a person meets (escalating, waiting for approval, resolved, closed by its source),
// the UI in this process, and Debian's chromium. Run: node dev/ui-screenshots/main.ts [OUT_DIR]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { ProblemEvent, Project, Remediation, Approval } from '../../src/api/index.ts';
import { kubeUiAccess } from '../../src/kube/ui-access.ts';
import { loadKubeConfig, reboundClients } from '../../src/kube/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { SupervisedInformer } from '../../src/runtime/informer.ts';
import { UiChanges } from '../../src/ui/server.ts';
import { uiRunnable } from '../../src/ui/runnable.ts';
import { prometheusRangeClients } from '../../src/evaluation/providers/prometheus-range.ts';
import { startCluster } from '../../test/harness/cluster.ts';
import { formatOpenMetrics, startPrometheus } from '../../test/harness/prometheus.ts';
import { REPO_ROOT, applyObjects } from '../../test/harness/world.ts';

const OUT = process.argv[2] ?? join(REPO_ROOT, 'docs', 'ui');
const NS = 'sockshop';
const log = createLogger({ level: 'silent' });
// The objects are made now: their story is told from now on (a timeline starts where a problem opened).
let START = Date.now();
const ago = (s: number): string => new Date(START + (420 - s) * 1000).toISOString();
const SHA1 = '3f9c2a7d81e4b6c05d2f9a8e7b1c4d6f0a2e9b13';
const SHA2 = '9a41e0c2b7d3f58e6a1c0b9d2e7f4a3c5b8d1e06';

const cluster = await startCluster({ crdsDir: join(REPO_ROOT, 'crds') });
// What the first attempt's evaluation read: every 15 s from before the action to after it.
const series = (name: string, value: (s: number) => number) => ({
  name,
  series: [
    {
      labels: { service: 'carts', stage: 'production' },
      samples: Array.from({ length: 41 }, (_, i) => 460 - i * 5).map((s) => ({
        timestamp: Math.floor(Date.parse(ago(s)) / 1000),
        value: Math.round(value(s) * 10) / 10,
      })),
    },
  ],
});
const prometheus = await startPrometheus({
  openMetrics: formatOpenMetrics([
    series('http_response_time_p95_ms', (s) => 700 + (400 - s) * 1.8 + 40 * Math.sin(s / 9)),
    series('http_error_rate_percent', (s) => 0.3 + 0.1 * Math.sin(s / 13)),
    series('http_requests_per_second', (s) => 40 + 2 * Math.sin(s / 7)),
  ]),
});
const rangeClients = prometheusRangeClients({ defaultUrl: prometheus.url, allowedHosts: [] });
const profile = await mkdtemp(join(tmpdir(), 'rebound-ui-shots-'));
const stop = new AbortController();
try {
  const admin = cluster.kubeconfigPath;
  await applyObjects(admin, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }]);
  const kc = loadKubeConfig({ kind: 'file', path: admin });
  const clients = reboundClients(kc);
  await clients.projects.create({
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Project',
    metadata: { name: 'sockshop', namespace: NS },
    spec: { git: { url: 'https://github.com/example/sockshop.git', secretRef: { name: 'sockshop-git' } } },
  });
  await clients.projects.patchStatus(NS, 'sockshop', {
    conditions: [
      {
        type: 'GitReachable',
        status: 'True',
        reason: 'GitFetched',
        message: 'fetched main, staging, production',
        lastTransitionTime: ago(3600),
      },
      {
        type: 'ConfigValid',
        status: 'True',
        reason: 'ConfigValid',
        message: 'shipyard.yaml and 3 remediation.yaml files are valid',
        lastTransitionTime: ago(3600),
      },
    ],
  } as never);
  const problem = (
    name: string,
    title: string,
    service: string,
    extra: Partial<ProblemEvent['spec']> = {},
  ): ProblemEvent => ({
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: { name, namespace: NS, labels: { 'rebound.dev/source': 'alertmanager' } },
    spec: {
      project: 'sockshop',
      stage: 'production',
      service,
      problemTitle: title,
      state: 'OPEN',
      source: 'alertmanager',
      rootCause: '',
      ...extra,
    },
  });
  const statusOf = async (name: string, status: NonNullable<ProblemEvent['status']>): Promise<void> => {
    await clients.problemEvents.patchStatus(NS, name, status);
  };
  for (let i = 0; i < 14; i++) {
    await clients.problemEvents.create(
      problem(`orders-latency-${i}`, 'Response time degradation', i % 2 ? 'orders' : 'payment'),
    );
    await statusOf(`orders-latency-${i}`, {
      phase: 'Resolved',
      completionTime: ago(7200 - i * 60),
      currentAttempt: 1,
      currentAction: 'scale +1',
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'EvaluationPassed',
          message: 'evaluation passed',
          lastTransitionTime: ago(7000),
        },
      ],
    });
  }
  await clients.problemEvents.create(
    problem('carts-latency', 'Response time degradation', 'carts', { rootCause: 'Response time degradation' }),
  );
  START = Date.parse(String((await clients.problemEvents.get(NS, 'carts-latency'))?.metadata.creationTimestamp)) + 1000;
  await statusOf('carts-latency', {
    phase: 'Evaluating',
    startTime: ago(420),
    currentAttempt: 2,
    currentAction: 'featuretoggle EnablePromotion:off',
    nextEvaluationTime: ago(-90),
    policySource: {
      kind: 'Git',
      branch: 'production',
      commit: SHA1,
      path: 'carts/remediation.yaml',
      problemType: 'Response time degradation',
      match: 'rootCause',
    },
    attempts: [
      {
        index: 1,
        action: 'scale',
        value: '+1',
        name: 'Scale up',
        description: 'one more replica of carts',
        branch: 'production',
        path: 'carts/values.yaml',
        commit: SHA1,
        committedTime: ago(410),
        appliedTime: ago(400),
        helmRevision: 7,
        evaluationStart: ago(400),
        evaluationTime: ago(280),
        result: 'fail',
        score: 33.3,
        indicatorResults: [
          {
            metric: 'response_time_p95',
            value: 912.4,
            status: 'fail',
            score: 0,
            query: 'avg(http_response_time_p95_ms{service="carts",stage="production"})',
            passTargets: [{ criteria: '<=600', targetValue: 600, violated: true }],
            warningTargets: [{ criteria: '<=800', targetValue: 800, violated: true }],
          },
          {
            metric: 'error_rate',
            value: 0.4,
            status: 'pass',
            score: 1,
            query: 'avg(http_error_rate_percent{service="carts",stage="production"})',
            passTargets: [{ criteria: '<=1', targetValue: 1, violated: false }],
          },
          {
            metric: 'throughput',
            value: 41.2,
            status: 'info',
            query: 'sum(http_requests_per_second{service="carts",stage="production"})',
          },
        ],
      },
      {
        index: 2,
        action: 'featuretoggle',
        value: 'EnablePromotion:off',
        name: 'Turn the promotion off',
        branch: 'production',
        path: 'carts/values.yaml',
        commit: SHA2,
        committedTime: ago(270),
        appliedTime: ago(262),
        helmRevision: 8,
      },
    ],
    conditions: [
      {
        type: 'Ready',
        status: 'False',
        reason: 'WaitingForEvaluation',
        message: 'evaluating attempt 2 after the wait',
        lastTransitionTime: ago(262),
      },
      {
        type: 'Reconciling',
        status: 'True',
        reason: 'WaitingForEvaluation',
        message: 'evaluation due in 90s',
        lastTransitionTime: ago(262),
      },
      {
        type: 'PolicyResolved',
        status: 'True',
        reason: 'PolicyFound',
        message: 'carts/remediation.yaml on production',
        lastTransitionTime: ago(415),
      },
    ],
  });
  await clients.problemEvents.create(problem('front-end-errors', 'Failure rate increase', 'front-end'));
  await statusOf('front-end-errors', {
    phase: 'AwaitingApproval',
    startTime: ago(120),
    currentAttempt: 1,
    currentAction: 'scale +2',
    attempts: [
      {
        index: 1,
        action: 'scale',
        value: '+2',
        approval: {
          state: 'Pending',
          why: 'stage production is manual: every action waits for approval',
          requestedTime: ago(110),
          deadline: ago(-1700),
          minApprovals: 1,
          groups: ['sre'],
          file: 'front-end/values.yaml',
          baseCommit: SHA1,
          diff: '--- a/front-end/values.yaml\n+++ b/front-end/values.yaml\n@@ -1,3 +1,3 @@\n-replicaCount: 2\n+replicaCount: 4\n featureFlags:\n   EnableNewCheckout: true',
        },
      },
    ],
    conditions: [
      {
        type: 'Reconciling',
        status: 'True',
        reason: 'AwaitingApproval',
        message: 'attempt 1 waits for 1 approval from sre',
        lastTransitionTime: ago(110),
      },
    ],
  });
  await clients.problemEvents.create(problem('catalogue-cpu', 'CPU saturation', 'catalogue', { state: 'RESOLVED' }));
  await statusOf('catalogue-cpu', {
    phase: 'Resolved',
    startTime: ago(1500),
    completionTime: ago(900),
    currentAttempt: 1,
    currentAction: 'scale +1',
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'ProblemResolved',
        message: 'the source reported the problem as resolved',
        lastTransitionTime: ago(900),
      },
    ],
  });
  await clients.problemEvents.create(problem('hostile', '<img src=x onerror=alert(1)> Disk pressure', 'user'));
  await statusOf('hostile', {
    phase: 'Exhausted',
    completionTime: ago(3000),
    currentAttempt: 2,
    currentAction: 'scale +1',
  });
  await clients.remediations.create({
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Remediation',
    metadata: { name: 'carts', namespace: NS },
    spec: {
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      remediations: [{ problemType: 'default', actionsOnOpen: [{ name: 'Scale up', action: 'scale', value: '+1' }] }],
    },
  });

  const problems = new SupervisedInformer<ProblemEvent>({
    name: 'problemevents',
    source: clients.problemEvents.listWatch(),
    clock: systemClock,
    log,
  });
  const approvals = new SupervisedInformer<Approval>({
    name: 'approvals',
    source: clients.approvals.listWatch(),
    clock: systemClock,
    log,
  });
  const projects = new SupervisedInformer<Project>({
    name: 'projects',
    source: clients.projects.listWatch(),
    clock: systemClock,
    log,
  });
  const remediations = new SupervisedInformer<Remediation>({
    name: 'remediations',
    source: clients.remediations.listWatch(),
    clock: systemClock,
    log,
  });
  const informers = [projects, remediations, problems, approvals];
  for (const i of informers) void i.run(stop.signal);
  for (const i of informers) await i.waitForSync(stop.signal);
  const ui = uiRunnable(
    {
      host: '127.0.0.1',
      port: 0,
      cache: {
        problems: () => problems.list(),
        problem: (ns, name) => problems.get(`${ns}/${name}`),
        projects: () => projects.list(),
        remediations: () => remediations.list(),
        approvals: (ns, p) => approvals.list().filter((a) => a.metadata.namespace === ns && a.spec.problem === p),
      },
      health: {
        identity: 'rebound-7d9f8-x2k4q',
        leading: () => true,
        informers: () => informers.map((i) => ({ name: i.name, synced: i.hasSynced() })),
      },
      kube: kubeUiAccess(kc),
      sliSeries: {
        range: (_p, query, start, end) => {
          const client = rangeClients(undefined);
          return 'refused' in client
            ? Promise.resolve({ ok: false, message: client.refused })
            : client.range({ query, start, end });
        },
      },
      log,
      now: () => Date.now(),
    },
    new UiChanges(),
  );
  const serving = ui.start(stop.signal);
  await ui.waitForSync(stop.signal);
  const url = ui.url() ?? '';
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await browser.newPage();
  await page.goto(`${url}/login`);
  await page.screenshot({ path: join(OUT, 'login.png') });
  await page.getByLabel('Bearer token').fill(cluster.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${url}/`);
  await page.getByText('Live: updates').waitFor();
  await page.screenshot({ path: join(OUT, 'problems.png'), fullPage: true });
  await page.goto(`${url}/problems/${NS}/carts-latency`);
  await page.getByText('Live: updates').waitFor();
  await page.screenshot({ path: join(OUT, 'problem.png'), fullPage: true });
  await page.goto(`${url}/problems/${NS}/front-end-errors`);
  await page.getByText('Live: updates').waitFor();
  await page.screenshot({ path: join(OUT, 'approval.png'), fullPage: true });
  await page.goto(`${url}/services`);
  await page.screenshot({ path: join(OUT, 'services.png'), fullPage: true });
  await page.goto(`${url}/health`);
  await page.screenshot({ path: join(OUT, 'health.png'), fullPage: true });
  await browser.close();
  stop.abort();
  await serving;
  console.log(`screenshots in ${OUT}`);
} finally {
  stop.abort();
  await cluster.stop();
  await prometheus.stop();
  await rm(profile, { recursive: true, force: true });
}
