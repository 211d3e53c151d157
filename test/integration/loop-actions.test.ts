// Actions outside Git end to end on the real parts (kube-apiserver + etcd, git http-backend, the
// controller as a process): runbook webhooks with credentials from a Secret and callbacks, the
// allow-list that keeps the controller from calling hosts nobody listed, a hanging runbook that does
// not hold up another service (with one worker), 5xx retries and escalation, a callback timeout, and
// Keptn-style external executors that report back with sh.keptn.event.action.finished.
//
// The runbooks and the executor sink are real HTTP servers on loopback, run by this file.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemEvent, Remediation } from '../../src/api/index.ts';
import type { GitServer } from '../harness/git-server.ts';
import { laneCluster } from '../harness/lane.ts';
import { freePort } from '../harness/ports.ts';
import { startPrometheus } from '../harness/prometheus.ts';
import type { LocalPrometheus } from '../harness/prometheus.ts';
import {
  applyObjects,
  createProjectRepo,
  deployService,
  installControllerRbac,
  kubectl,
  startControllerProcess,
} from '../harness/world.ts';
import type { ControllerProcess } from '../harness/world.ts';
import {
  condition,
  createNamespace,
  gitSecret,
  namespaceObjects,
  openProblem,
  phase,
  startE2eGitServer,
} from './e2e-helpers.ts';

const cluster = laneCluster();
const admin = cluster.kubeconfigPath;
const suffix = (): string => randomBytes(3).toString('hex');
const NAMESPACE = `actions-${suffix()}`;
const RUNBOOK_TOKEN = randomBytes(12).toString('hex');

const VALUES = 'replicaCount: 1\nfeatureFlags:\n  EnablePromotion: true\n';
// A real evaluation against a real Prometheus, with an indicator that always passes: these tests are
// about the actions, not about the service's health.
const SLO =
  'spec_version: "1.0"\nobjectives:\n  - sli: healthy\n    pass:\n      - criteria:\n          - "<=1"\ntotal_score:\n  pass: "90%"\n  warning: "75%"\n';
const SLI = 'spec_version: "1.0"\nindicators:\n  healthy: vector(1)\n';
const FILES = { 'values.yaml': VALUES, 'slo.yaml': SLO, 'sli.yaml': SLI };

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A runbook service: records every request; the path says how it answers. */
class Runbooks {
  readonly received: Received[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        this.received.push({
          path: req.url ?? '',
          headers: req.headers,
          body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        });
        if (req.url === '/hang') return; // never answers
        const status = req.url === '/broken' ? 500 : 202;
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ accepted: status === 202 }));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get host(): string {
    return new URL(this.url).host;
  }

  to(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

let git: GitServer;
let prometheus: LocalPrometheus;
let controller: ControllerProcess;
let runbooks: Runbooks;
let outsider: Runbooks;
let sink: Runbooks;
let secrets: string;
let webhookUrl: string;
let ingestToken: string;

async function project(files: Record<string, string>, options: { deploy?: boolean } = {}): Promise<string> {
  const name = `p-${suffix()}`;
  const repo = await createProjectRepo(git, {
    project: name,
    service: 'carts',
    stages: ['production'],
    remediationStages: ['production'],
    files,
  });
  await applyObjects(admin, [
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Project',
      metadata: { name, namespace: NAMESPACE },
      spec: {
        git: { url: repo.url, secretRef: { name: 'git' }, poll: '2s' },
        stages: [{ name: 'production', remediation: 'automated', apply: 'kubernetes' }],
      },
    },
  ]);
  if (options.deploy)
    await deployService({
      kubeconfigPath: admin,
      repoDir: repo.dir,
      branch: 'production',
      service: 'carts',
      namespace: `${name}-production`,
    });
  return name;
}

function remediation(
  projectName: string,
  actions: { action: string; value: string }[],
  webhook: Remediation['spec']['webhook'],
): object {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Remediation',
    metadata: { name: projectName, namespace: NAMESPACE },
    spec: {
      project: projectName,
      stage: 'production',
      service: 'carts',
      remediations: [
        { problemType: 'default', actionsOnOpen: actions.map((a, i) => ({ name: `step ${i + 1}`, ...a })) },
      ],
      evaluation: { wait: '1s' },
      webhook,
    },
  };
}

async function problem(projectName: string, name = projectName): Promise<string> {
  await openProblem(admin, { namespace: NAMESPACE, name, project: projectName });
  return name;
}

const { get, waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller.process.recentOutput(),
});

/** `token: null` sends no Authorization header. */
function post(
  path: string,
  body: unknown,
  token: string | null = ingestToken,
  contentType = 'application/json',
): Promise<Response> {
  return fetch(`${webhookUrl}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': contentType, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  await installControllerRbac(admin);
  git = await startE2eGitServer();
  prometheus = await startPrometheus({});
  runbooks = new Runbooks();
  outsider = new Runbooks();
  sink = new Runbooks();
  await Promise.all([runbooks.start(), outsider.start(), sink.start()]);
  await createNamespace(admin, NAMESPACE, [
    gitSecret(NAMESPACE, git),
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'runbook', namespace: NAMESPACE },
      stringData: { token: RUNBOOK_TOKEN, 'header.X-Team': 'payments' },
    },
  ]);
  secrets = await mkdtemp(join(tmpdir(), 'rebound-actions-'));
  ingestToken = randomBytes(16).toString('hex');
  await writeFile(join(secrets, 'token'), `${ingestToken}\n`);
  const port = await freePort();
  webhookUrl = `http://127.0.0.1:${port}`;
  controller = await startControllerProcess({
    kubeconfigPath: cluster.controllerKubeconfigPath,
    prometheusUrl: prometheus.url,
    metricsPort: await freePort(),
    args: [
      '--namespace',
      NAMESPACE,
      '--no-leader-elect',
      // One worker: a runbook that hangs would stop every other remediation if it held the worker.
      '--workers',
      '1',
      '--webhook-address',
      `127.0.0.1:${port}`,
      '--webhook-token-file',
      join(secrets, 'token'),
      '--action-sink',
      `${sink.url}/events`,
      '--action-timeout',
      '1m',
      '--evaluation-wait=1s',
      '--turn-poll=500ms',
      '--stalled-recheck=3s',
      '--log-level=debug',
    ],
  });
}, 180_000);

afterAll(async () => {
  await controller?.stop();
  await Promise.all([runbooks?.stop(), outsider?.stop(), sink?.stop()]);
  await git?.stop();
  await prometheus?.stop();
  if (secrets) await rm(secrets, { recursive: true, force: true });
});

describe('webhook actions', () => {
  it('calls the runbook with the problem and credentials, waits for its callback, then evaluates and resolves', async () => {
    const p = await project(FILES);
    await applyObjects(admin, [
      remediation(p, [{ action: 'webhook', value: 'restart' }], {
        allowedHosts: [runbooks.host],
        secretRef: { name: 'runbook' },
        headers: { 'X-Source': 'rebound-e2e' },
        endpoints: [{ name: 'restart', url: `${runbooks.url}/restart`, waitForCallback: true, callbackTimeout: '2m' }],
      }),
    ]);
    await waitFor<Remediation>('remediation', p, (r) => condition(r, 'ConfigValid')?.status === 'True');
    const name = await problem(p);

    const waiting = await waitFor<ProblemEvent>(
      'problemevent',
      name,
      (pe) => pe.status?.attempts?.[0]?.execution?.state === 'Waiting',
    );
    const execution = waiting.status?.attempts?.[0]?.execution;
    expect(execution).toMatchObject({
      executor: 'webhook',
      responseCode: 202,
      tries: 1,
      target: `restart (${runbooks.url}/restart)`,
    });
    expect(waiting.status?.phase).toBe('Remediating');
    expect(condition(waiting, 'Reconciling')).toMatchObject({ reason: 'ActionInProgress' });
    const id = execution?.id ?? '';
    expect(id).toMatch(new RegExp(`^${NAMESPACE}~${name}~1~[0-9a-f]{12}$`));

    const [call] = runbooks.to('/restart');
    expect(call?.headers.authorization).toBe(`Bearer ${RUNBOOK_TOKEN}`);
    expect(call?.headers['x-team']).toBe('payments');
    expect(call?.headers['x-source']).toBe('rebound-e2e');
    expect(call?.headers['idempotency-key']).toBe(id);
    expect(call?.body).toMatchObject({
      type: 'rebound.action.triggered',
      actionId: id,
      callbackUrl: `${webhookUrl}/v1/actions/${encodeURIComponent(id)}/finished`,
      problem: {
        namespace: NAMESPACE,
        name,
        project: p,
        stage: 'production',
        service: 'carts',
        title: 'Response time degradation',
        state: 'OPEN',
      },
      attempt: { index: 1, action: 'webhook', value: 'restart', name: 'step 1' },
      links: { problemEvent: `${NAMESPACE}/${name}` },
    });
    // The token never reaches the status or the logs.
    expect(JSON.stringify(waiting.status)).not.toContain(RUNBOOK_TOKEN);
    expect(controller.process.recentOutput()).not.toContain(RUNBOOK_TOKEN);

    const callback = (call?.body['callbackUrl'] as string).slice(webhookUrl.length);
    expect((await post(callback, { status: 'succeeded' }, null)).status).toBe(401);
    expect((await post(callback, { status: 'succeeded' }, 'wrong-token')).status).toBe(401);
    const bad = await post(callback, { status: 'done' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'status' });
    expect(
      (await post(`/v1/actions/${NAMESPACE}~${name}~7~000000000000/finished`, { status: 'succeeded' })).status,
    ).toBe(404);
    expect((await post('/v1/actions/not-an-id/finished', { status: 'succeeded' })).status).toBe(404);

    const first = await post(callback, { status: 'succeeded', message: 'pods restarted by runbook 42' });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ recorded: true, actionId: id });
    const again = await post(callback, { status: 'succeeded', message: 'pods restarted by runbook 42' });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ recorded: false });

    const resolved = await waitFor<ProblemEvent>('problemevent', name, phase('Resolved'));
    expect(resolved.status?.attempts?.[0]).toMatchObject({
      result: 'pass',
      execution: {
        state: 'Succeeded',
        callbackStatus: 'succeeded',
        callbackMessage: 'pods restarted by runbook 42',
        responseCode: 202,
      },
    });
    expect(resolved.status?.attempts?.[0]?.appliedTime).toBeDefined();
    const late = await post(callback, { status: 'failed' });
    expect(late.status).toBe(409);
    expect(runbooks.to('/restart')).toHaveLength(1);
  });

  it('never calls a host the Remediation does not allow', async () => {
    const p = await project(FILES);
    await applyObjects(admin, [
      remediation(p, [{ action: 'webhook', value: 'elsewhere' }], {
        allowedHosts: [runbooks.host],
        endpoints: [{ name: 'elsewhere', url: `${outsider.url}/steal` }],
      }),
    ]);
    const invalid = await waitFor<Remediation>(
      'remediation',
      p,
      (r) => condition(r, 'ConfigValid')?.status === 'False',
    );
    expect(condition(invalid, 'ConfigValid')?.message).toContain(outsider.host);
    const name = await problem(p);
    const stalled = await waitFor<ProblemEvent>(
      'problemevent',
      name,
      (pe) => condition(pe, 'Stalled')?.reason === 'WebhookHostNotAllowed',
    );
    expect(condition(stalled, 'Stalled')?.message).toContain('allowedHosts');
    expect(stalled.status?.attempts ?? []).toHaveLength(0);
    expect(outsider.received).toHaveLength(0);
  });

  it('a hanging runbook holds no worker: another service is remediated meanwhile, with a single worker', async () => {
    const hanging = await project(FILES);
    await applyObjects(admin, [
      remediation(hanging, [{ action: 'webhook', value: `${runbooks.url}/hang` }], {
        allowedHosts: [runbooks.host],
        timeout: '45s',
        retries: 0,
      }),
    ]);
    const other = await project(FILES, { deploy: true });
    await applyObjects(admin, [remediation(other, [{ action: 'scale', value: '+1' }], undefined)]);
    const stuck = await problem(hanging);
    await expect.poll(() => runbooks.to('/hang').length, { timeout: 30_000, interval: 100 }).toBe(1);
    const meanwhile = await problem(other);
    // Well inside the hanging call's 45 s timeout: a held worker could not get there.
    await waitFor<ProblemEvent>('problemevent', meanwhile, phase('Resolved'), 20_000);
    const still = await get<ProblemEvent>('problemevent', stuck);
    expect(still.status?.attempts?.[0]?.execution?.state).toBe('Running');
    expect(still.status?.phase).toBe('Remediating');
  });

  it('retries a failing runbook, fails the attempt with its status code and escalates to the next action', async () => {
    const p = await project(FILES, { deploy: true });
    await applyObjects(admin, [
      remediation(
        p,
        [
          { action: 'webhook', value: `${runbooks.url}/broken` },
          { action: 'scale', value: '+1' },
        ],
        { allowedHosts: [runbooks.host], retries: 1 },
      ),
    ]);
    const name = await problem(p);
    const resolved = await waitFor<ProblemEvent>('problemevent', name, phase('Resolved'));
    const [webhook, scale] = resolved.status?.attempts ?? [];
    expect(webhook).toMatchObject({
      action: 'webhook',
      result: 'fail',
      execution: { state: 'Failed', responseCode: 500, tries: 2 },
    });
    expect(webhook?.message).toContain('500');
    expect(webhook?.evaluationTime).toBeUndefined();
    expect(scale).toMatchObject({ action: 'scale', result: 'pass' });
    expect(runbooks.to('/broken')).toHaveLength(2);
    const events = await kubectl(admin, [
      'get',
      'events',
      '-n',
      NAMESPACE,
      '--field-selector',
      `involvedObject.name=${name}`,
      '-o',
      'jsonpath={range .items[*]}{.reason}{"\\n"}{end}',
    ]);
    expect(events.split('\n')).toEqual(
      expect.arrayContaining(['ActionStarted', 'ActionFailed', 'Committed', 'Applied', 'Resolved']),
    );
  });

  it('fails the attempt when no callback arrives in time', async () => {
    const p = await project(FILES);
    await applyObjects(admin, [
      remediation(p, [{ action: 'webhook', value: 'accept' }], {
        allowedHosts: [runbooks.host],
        endpoints: [{ name: 'accept', url: `${runbooks.url}/accept`, waitForCallback: true, callbackTimeout: '3s' }],
      }),
    ]);
    const name = await problem(p);
    const exhausted = await waitFor<ProblemEvent>('problemevent', name, phase('Exhausted'));
    expect(exhausted.status?.attempts?.[0]).toMatchObject({
      result: 'fail',
      execution: { state: 'Failed', responseCode: 202 },
    });
    expect(exhausted.status?.attempts?.[0]?.message).toContain('no callback');
  });
});

describe('external executors (Keptn style)', () => {
  it('hands an action type nothing built in handles to the sink and completes on action.finished', async () => {
    const policy = `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
spec:
  remediations:
    - problemType: Response time degradation
      actionsOnOpen:
        - action: restart-pod
          name: restart carts
          description: Restart the carts pods
          value: carts
`;
    const p = await project({ ...FILES, 'remediation.yaml': policy });
    const name = await problem(p);
    await expect.poll(() => sink.to('/events').length, { timeout: 30_000, interval: 100 }).toBe(1);
    const [delivery] = sink.to('/events');
    expect(delivery?.headers['content-type']).toBe('application/cloudevents+json');
    const event = delivery?.body ?? {};
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'sh.keptn.event.action.triggered',
      source: 'rebound',
      data: {
        project: p,
        stage: 'production',
        service: 'carts',
        action: { name: 'restart carts', action: 'restart-pod', value: 'carts', description: 'Restart the carts pods' },
        problem: { problemTitle: 'Response time degradation', State: 'OPEN' },
      },
    });
    const triggeredid = event['id'] as string;
    const waiting = await waitFor<ProblemEvent>(
      'problemevent',
      name,
      (pe) => pe.status?.attempts?.[0]?.execution?.state === 'Waiting',
    );
    expect(waiting.status?.attempts?.[0]?.execution).toMatchObject({
      id: triggeredid,
      executor: 'keptn',
      responseCode: 202,
    });
    expect(waiting.status?.attempts?.[0]?.commit).toBeUndefined();

    const envelope = {
      specversion: '1.0',
      source: 'job-executor-service',
      shkeptncontext: event['shkeptncontext'],
      triggeredid,
    };
    const started = await post(
      '/v1/events',
      {
        ...envelope,
        id: 'e1',
        type: 'sh.keptn.event.action.started',
        data: { project: p, stage: 'production', service: 'carts' },
      },
      ingestToken,
      'application/cloudevents+json',
    );
    expect(started.status).toBe(202);
    const malformed = await post(
      '/v1/events',
      { ...envelope, id: 'e2', type: 'sh.keptn.event.action.finished', data: { status: 'done' } },
      ingestToken,
      'application/cloudevents+json',
    );
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ field: 'data.status' });
    const finished = await post(
      '/v1/events',
      {
        ...envelope,
        id: 'e3',
        type: 'sh.keptn.event.action.finished',
        data: {
          project: p,
          stage: 'production',
          service: 'carts',
          status: 'succeeded',
          result: 'pass',
          message: 'pod carts-7d9 restarted',
        },
      },
      ingestToken,
      'application/cloudevents+json',
    );
    expect(finished.status).toBe(200);

    const resolved = await waitFor<ProblemEvent>('problemevent', name, phase('Resolved'));
    expect(resolved.status?.attempts?.[0]).toMatchObject({
      result: 'pass',
      execution: { state: 'Succeeded', callbackStatus: 'succeeded' },
    });
    expect(resolved.status?.attempts?.[0]?.execution?.callbackMessage).toContain('pod carts-7d9 restarted');
  });
});
