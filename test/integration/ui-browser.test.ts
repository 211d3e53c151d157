// The web UI in a real browser (Debian's chromium driven by playwright-core) against the real API
// server: the UI runs in this process with the controller's ServiceAccount, its RBAC from manifests/
// (rbac.yaml and ui-rbac.yaml), and informers over the test's namespace. People are ServiceAccounts
// with tokens from the TokenRequest API; admin writes to /status stand in for the controller.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Approval, ProblemEvent, Project, Remediation } from '../../src/api/index.ts';
import { statusIndicator } from '../../src/controllers/problemevent/slo-evaluator.ts';
import { evaluateSlo } from '../../src/evaluation/engine.ts';
import { PrometheusSliProvider } from '../../src/evaluation/providers/prometheus.ts';
import { prometheusRangeClients } from '../../src/evaluation/providers/prometheus-range.ts';
import { parseSliFile } from '../../src/formats/sli.ts';
import { parseSloFile } from '../../src/formats/slo.ts';
import { kubeUiAccess } from '../../src/kube/ui-access.ts';
import { loadKubeConfig, reboundClients } from '../../src/kube/index.ts';
import type { ReboundClients } from '../../src/kube/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { SupervisedInformer } from '../../src/runtime/informer.ts';
import type { HasMetadata } from '../../src/runtime/keys.ts';
import { UiChanges } from '../../src/ui/server.ts';
import { uiRunnable } from '../../src/ui/runnable.ts';
import { formatOpenMetrics, startPrometheus } from '../harness/prometheus.ts';
import type { LocalPrometheus } from '../harness/prometheus.ts';
import { REPO_ROOT, applyObjects, installControllerRbac, kubectl } from '../harness/world.ts';
import { eventually } from './runtime-helpers.ts';

const cluster = inject('cluster');
const admin = cluster.kubeconfigPath;
const log = createLogger({ level: process.env.REBOUND_TEST_LOG === '1' ? 'debug' : 'silent' });
const NAMESPACE = `ui-${randomBytes(3).toString('hex')}`;
const HOSTILE = '<img src=x onerror="document.title=\'pwned\';window.__pwned=1">';

/** Chromium as the brief asks: Debian's binary, no sandbox, nothing that reaches out, a fresh profile. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// A fixed past window the real Prometheus holds backfilled data for: 10:00–10:05 UTC on 2023-11-14.
const T0 = 1_699_956_300;
const WINDOW = { start: new Date((T0 - 300) * 1000), end: new Date(T0 * 1000) };
const SLI_YAML = `spec_version: "1.0"
indicators:
  response_time_p95: avg(http_response_time_p95_ms{job="$SERVICE-$PROJECT-$STAGE"})
`;
const SLO_YAML = `spec_version: "0.1.1"
objectives:
  - sli: response_time_p95
    pass:
      - criteria: ["<600"]
    warning:
      - criteria: ["<=800"]
total_score:
  pass: "90%"
  warning: "75%"
`;

let prometheus: LocalPrometheus;
let stop: AbortController;
let serving: Promise<void>;
let url = '';
let browser: BrowserContext;
let profile: string;
let clients: ReboundClients;
let sreToken = '';
let viewerToken = '';

async function person(name: string, roles: { kind: 'ClusterRole' | 'Role'; name: string }[]): Promise<string> {
  await kubectl(admin, ['create', 'serviceaccount', name, '-n', NAMESPACE]);
  for (const role of roles)
    await kubectl(admin, [
      'create',
      'rolebinding',
      `${name}-${role.name}`,
      '-n',
      NAMESPACE,
      `--${role.kind === 'Role' ? 'role' : 'clusterrole'}=${role.name}`,
      `--serviceaccount=${NAMESPACE}:${name}`,
    ]);
  return (await kubectl(admin, ['create', 'token', name, '-n', NAMESPACE, '--duration=1h'])).trim();
}

function problem(name: string, title: string): ProblemEvent {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      problemTitle: title,
      state: 'OPEN',
      source: 'alertmanager',
    },
  };
}

async function setStatus(name: string, status: ProblemEvent['status']): Promise<void> {
  await kubectl(admin, [
    'patch',
    'problemevent',
    name,
    '-n',
    NAMESPACE,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
}

/** A form post made by the page's own script (same origin, with the session cookie). */
function postFromPage(page: Page, body: string): Promise<number> {
  return page.evaluate(
    `fetch(location.pathname + '/answer', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: ${JSON.stringify(body)} }).then((r) => r.status)`,
  );
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${url}/login`);
  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${url}/`);
}

beforeAll(async () => {
  await installControllerRbac(admin);
  await kubectl(admin, ['apply', '--server-side', '-f', join(REPO_ROOT, 'manifests', 'ui-rbac.yaml')]);
  await kubectl(admin, ['apply', '--server-side', '-f', join(REPO_ROOT, 'manifests', 'approver-role.yaml')]);
  await kubectl(admin, ['create', 'namespace', NAMESPACE]);
  await applyObjects(admin, [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'viewer', namespace: NAMESPACE },
      rules: [
        { apiGroups: ['rebound.dev'], resources: ['problemevents', 'approvals'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['events'], verbs: ['list'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'operator', namespace: NAMESPACE },
      rules: [{ apiGroups: ['rebound.dev'], resources: ['problemevents'], verbs: ['patch'] }],
    },
  ]);
  viewerToken = await person('viewer', [{ kind: 'Role', name: 'viewer' }]);
  sreToken = await person('sre', [
    { kind: 'Role', name: 'viewer' },
    { kind: 'ClusterRole', name: 'rebound-approver' },
    { kind: 'Role', name: 'operator' },
  ]);

  // 412.5 ms every 15 s across the window, with one 480 ms peak two minutes before its end.
  prometheus = await startPrometheus({
    openMetrics: formatOpenMetrics([
      {
        name: 'http_response_time_p95_ms',
        series: [
          {
            labels: { job: 'carts-sockshop-production' },
            samples: Array.from({ length: 41 }, (_, i) => T0 - 600 + i * 15).map((ts) => ({
              timestamp: ts,
              value: ts === T0 - 120 ? 480 : 412.5,
            })),
          },
        ],
      },
    ]),
  });
  const rangeClients = prometheusRangeClients({ defaultUrl: prometheus.url, allowedHosts: [] });

  // The UI as wire.ts builds it, with the controller's identity.
  const kc = loadKubeConfig({ kind: 'file', path: cluster.controllerKubeconfigPath });
  clients = reboundClients(loadKubeConfig({ kind: 'file', path: admin }));
  const controllerClients = reboundClients(kc);
  const options = { clock: systemClock, log };
  const problems = new SupervisedInformer<ProblemEvent>({
    name: 'problemevents',
    source: controllerClients.problemEvents.listWatch(NAMESPACE),
    ...options,
  });
  const approvals = new SupervisedInformer<Approval>({
    name: 'approvals',
    source: controllerClients.approvals.listWatch(NAMESPACE),
    ...options,
  });
  const projects = new SupervisedInformer<Project>({
    name: 'projects',
    source: controllerClients.projects.listWatch(NAMESPACE),
    ...options,
  });
  const remediations = new SupervisedInformer<Remediation>({
    name: 'remediations',
    source: controllerClients.remediations.listWatch(NAMESPACE),
    ...options,
  });
  const changes = new UiChanges();
  const feed = (kind: string) => {
    const tell = (o: HasMetadata): void => changes.notify(kind, o.metadata?.namespace ?? '', o.metadata?.name ?? '');
    return { onAdd: tell, onUpdate: (_: HasMetadata, o: HasMetadata) => tell(o), onDelete: tell };
  };
  problems.addHandler(feed('problemevents'));
  approvals.addHandler(feed('approvals'));
  stop = new AbortController();
  const informers = [problems, approvals, projects, remediations];
  for (const i of informers) void i.run(stop.signal);
  let listening!: (u: string) => void;
  const bound = new Promise<string>((resolve) => (listening = resolve));
  const server = uiRunnable(
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
        identity: 'test',
        leading: () => true,
        informers: () => informers.map((i) => ({ name: i.name, synced: i.hasSynced() })),
      },
      kube: kubeUiAccess(kc),
      sliSeries: {
        range: (p, query, start, end) => {
          const client = rangeClients(undefined);
          return 'refused' in client
            ? Promise.resolve({ ok: false, message: client.refused })
            : client.range({ query, start, end });
        },
      },
      log,
      now: () => Date.now(),
    },
    changes,
  );
  serving = server.start(stop.signal);
  void server.waitForSync(stop.signal).then(() => listening(server.url() ?? ''));
  url = await bound;
  for (const i of informers) await i.waitForSync(stop.signal);

  profile = await mkdtemp(join(tmpdir(), 'rebound-ui-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
});

afterAll(async () => {
  await browser?.close();
  stop?.abort();
  await serving;
  if (profile) await rm(profile, { recursive: true, force: true });
  await prometheus?.stop();
});

describe('the web UI in chromium', () => {
  it('sends people without a session to sign in, and refuses a token the API server does not know', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.getByLabel('Bearer token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('did not accept');
    const response = await page.request.get(`${url}/`, { maxRedirects: 0 });
    expect(response.status()).toBe(303);
    expect(response.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.close();
  });

  it('shows a hostile alert title as text, in the list and on the problem page', async () => {
    await clients.problemEvents.create(problem('hostile', HOSTILE));
    const page = await browser.newPage();
    await signIn(page, viewerToken);
    const link = page.getByRole('link', { name: HOSTILE });
    await link.waitFor();
    expect(await page.locator('main img').count()).toBe(0);
    await link.click();
    await expect.poll(() => page.locator('h1').textContent()).toBe(HOSTILE);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.title()).toBe(`${HOSTILE} · Rebound`);
    await page.close();
  });

  it("updates a problem's page live as its status changes, without reloading it", async () => {
    await clients.problemEvents.create(problem('live', 'Response time degradation'));
    const page = await browser.newPage();
    await signIn(page, viewerToken);
    await page.goto(`${url}/problems/${NAMESPACE}/live`);
    await page.getByText('Live: updates as the controller acts.').waitFor();
    await page.evaluate('window.__same = true');
    await setStatus('live', {
      phase: 'Remediating',
      startTime: new Date().toISOString(),
      currentAttempt: 1,
      currentAction: 'scale +1',
      attempts: [
        {
          index: 1,
          action: 'scale',
          value: '+1',
          commit: 'c'.repeat(40),
          branch: 'production',
          committedTime: new Date().toISOString(),
        },
      ],
    });
    await page.getByRole('heading', { name: 'Attempt 1: scale +1' }).waitFor();
    await setStatus('live', {
      phase: 'Evaluating',
      attempts: [
        {
          index: 1,
          action: 'scale',
          value: '+1',
          commit: 'c'.repeat(40),
          branch: 'production',
          committedTime: new Date().toISOString(),
          appliedTime: new Date().toISOString(),
          helmRevision: 4,
          evaluationTime: new Date().toISOString(),
          result: 'pass',
          indicatorResults: [{ metric: 'response_time_p95', value: 412, status: 'pass', message: '<=600' }],
        },
      ],
    });
    await page.getByRole('cell', { name: 'response_time_p95' }).waitFor();
    expect(await page.locator('.phase').first().textContent()).toBe('Evaluating');
    expect(await page.getByText('Helm revision 4').count()).toBeGreaterThan(0);
    expect(await page.evaluate('window.__same')).toBe(true);
    await page.close();
  });

  it('shows each SLI of an evaluation against the real Prometheus: resolved query, value, target and a chart', async () => {
    await clients.problemEvents.create(problem('evaluated', 'Response time degradation'));
    // The evaluation as the controller makes it: the real provider, Keptn's scoring, the status mapping.
    const slo = parseSloFile('slo.yaml', SLO_YAML);
    const sli = parseSliFile('sli.yaml', SLI_YAML);
    if (!slo.ok || !sli.ok) throw new Error('SLO fixtures do not parse');
    const values = await new PrometheusSliProvider({ url: prometheus.url }).getIndicators({
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      indicators: slo.slo.objectives.map((o) => o.sli),
      queries: sli.sli.indicators,
      ...WINDOW,
    });
    const result = evaluateSlo({ slo: slo.slo, indicators: values, previous: [] });
    await setStatus('evaluated', {
      phase: 'Resolved',
      currentAttempt: 1,
      attempts: [
        {
          index: 1,
          action: 'scale',
          value: '+1',
          appliedTime: WINDOW.start.toISOString(),
          evaluationStart: WINDOW.start.toISOString(),
          evaluationTime: WINDOW.end.toISOString(),
          result: result.result,
          score: result.score,
          indicatorResults: result.indicatorResults.map(statusIndicator),
        },
      ],
    });
    const page = await browser.newPage();
    await signIn(page, viewerToken);
    await page.goto(`${url}/problems/${NAMESPACE}/evaluated`);
    const chart = page.getByRole('img', { name: /^response_time_p95: / });
    await chart.waitFor();
    const row = page.locator('table.slis tbody tr').first();
    expect(await row.locator('code.query').textContent()).toBe(
      'avg(http_response_time_p95_ms{job="carts-sockshop-production"})',
    );
    expect(await row.locator('td').nth(2).textContent()).toBe('412.5');
    expect(await row.locator('.targets').textContent()).toMatch(/pass\s+<600\s+warning\s+<=800/);
    expect(await row.locator('.result').textContent()).toBe('pass');
    // Every 3 s across the five minutes (a 300 s window at about 120 points): 101 values, one of them the peak.
    expect(await chart.getAttribute('data-points')).toBe('101');
    expect(await chart.locator('circle.point').count()).toBe(101);
    expect(await chart.getAttribute('aria-label')).toBe(
      'response_time_p95: 101 values over the window, from 412.5 to 480, last 412.5; target 600',
    );
    expect(await chart.locator('line.target').count()).toBe(1);
    await page.close();
  });

  it('lets a viewer see a waiting approval but not answer it; the approver answers as themselves', async () => {
    await clients.problemEvents.create(problem('manual', 'Failure rate increase'));
    const requested = new Date(Date.now() - 2000).toISOString();
    await setStatus('manual', {
      phase: 'AwaitingApproval',
      currentAttempt: 1,
      attempts: [
        {
          index: 1,
          action: 'scale',
          value: '+1',
          approval: {
            state: 'Pending',
            requestedTime: requested,
            why: 'stage production is manual',
            file: 'carts/values.yaml',
            diff: '-replicaCount: 1\n+replicaCount: 2',
          },
        },
      ],
    });
    const page = await browser.newPage();
    await signIn(page, viewerToken);
    await page.goto(`${url}/problems/${NAMESPACE}/manual`);
    await page.getByText('you may not answer it').waitFor();
    expect(await page.getByRole('button', { name: /Approve/ }).count()).toBe(0);
    // Forged from the viewer's own session (with its CSRF token): refused, nothing created.
    const csrf = await page.locator('input[name=_csrf]').first().getAttribute('value');
    const forged = await postFromPage(page, `_csrf=${encodeURIComponent(csrf ?? '')}&attempt=1&decision=Approve`);
    expect(forged).toBe(403);
    expect((await clients.approvals.list(NAMESPACE)).items).toEqual([]);

    await signIn(page, sreToken);
    await page.goto(`${url}/problems/${NAMESPACE}/manual`);
    // Without the CSRF token, even the approver's own session is refused.
    const noToken = await postFromPage(page, 'attempt=1&decision=Approve');
    expect(noToken).toBe(403);
    await page.getByLabel('Message (optional)').fill('looks right <b>to me</b>');
    await page.getByRole('button', { name: 'Approve attempt 1' }).click();
    const approval = await eventually('the Approval', async () => (await clients.approvals.list(NAMESPACE)).items[0]);
    expect(approval.spec).toMatchObject({
      problem: 'manual',
      attempt: 1,
      decision: 'Approve',
      user: `system:serviceaccount:${NAMESPACE}:sre`,
      message: 'looks right <b>to me</b>',
    });
    // The page shows it live, as text.
    await page.getByRole('cell', { name: 'looks right <b>to me</b>' }).waitFor();
    await page.close();
  });

  it('aborts and retries a remediation with the RBAC that allows it', async () => {
    const page = await browser.newPage();
    await signIn(page, sreToken);
    await page.goto(`${url}/problems/${NAMESPACE}/live`);
    await page.getByRole('button', { name: 'Abort remediation' }).click();
    await eventually('the suspend annotation', async () =>
      (await clients.problemEvents.get(NAMESPACE, 'live'))?.metadata.annotations?.['rebound.dev/suspend'] === 'true'
        ? true
        : undefined,
    );
    await page.getByRole('button', { name: /Retry/ }).click();
    await eventually('the annotation removed', async () =>
      (await clients.problemEvents.get(NAMESPACE, 'live'))?.metadata.annotations?.['rebound.dev/suspend'] === undefined
        ? true
        : undefined,
    );
    await signIn(page, viewerToken);
    await page.goto(`${url}/problems/${NAMESPACE}/live`);
    await page.getByText('Read-only').waitFor();
    expect(await page.getByRole('button', { name: 'Abort remediation' }).count()).toBe(0);
    await page.close();
  });
});
