// Seed 001 (Keptn's full tour, self-healing) replayed end to end on the real parts: the tour's
// shipyard and remediation.yaml, its fake problem sent with `keptn send event`'s request to
// /api/v1/event, the scale action applied with Helm, then the sequence's `je-test` task: a small
// Keptn-style executor (a loopback HTTP server run by this file) receives
// sh.keptn.event.je-test.triggered, runs locust from PyPI headless against the sample workload and
// reports sh.keptn.event.je-test.finished; only then does the evaluation run.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemEvent } from '../../src/api/index.ts';
import type { GitServer } from '../harness/git-server.ts';
import { laneCluster } from '../harness/lane.ts';
import { freePort } from '../harness/ports.ts';
import type { LocalPrometheus } from '../harness/prometheus.ts';
import { SAMPLE_SLI, sampleSlo } from '../harness/sample-workload.ts';
import type { SampleWorkload } from '../harness/sample-workload.ts';
import { locustPath } from '../harness/tools.ts';
import {
  REPO_ROOT,
  applyObjects,
  createProjectRepo,
  deployService,
  installControllerRbac,
  kubectl,
  startControllerProcess,
} from '../harness/world.ts';
import type { ControllerProcess } from '../harness/world.ts';
import {
  createNamespace,
  gitSecret,
  namespaceObjects,
  phase,
  startE2eGitServer,
  startScrapedWorkload,
  stopInOrder,
} from './e2e-helpers.ts';

const cluster = laneCluster();
const admin = cluster.kubeconfigPath;
const NAMESPACE = `keptn-seq-${randomBytes(3).toString('hex')}`;
const PROJECT = 'fulltour';
const SERVICE = 'helloservice';
const VALUES = 'replicaCount: 1\nimage:\n  repository: docker.io/keptnexamples/carts\n  tag: "0.13.1"\n';
/** The tour's locust/basic.py, reduced to the sample workload's one page. */
const LOCUSTFILE = `from locust import HttpUser, constant, task


class Visitor(HttpUser):
    wait_time = constant(0.2)

    @task
    def page(self):
        self.client.get("/metrics")
`;

interface ExecutorOptions {
  locust: string;
  locustfile: string;
  /** The host the project's load test aims at. */
  hostFor: (project: string) => string;
  /** Where to report, known once the controller runs. */
  controller: () => { url: string; token: string };
}

interface Delivery {
  at: number;
  event: Record<string, unknown>;
}

/**
 * The tour's job-executor for je-test: answers 202, reports .started, runs locust headless against the
 * sample workload (or, for `hostFor` returning another host, there) and reports .finished with
 * pass/fail from locust's exit status and stats, through Keptn's API as the job-executor did.
 */
class LocustExecutor {
  readonly deliveries: Delivery[] = [];
  /** Each run's report, with locust's output for a failure's message. */
  readonly finished: { at: number; status: number; exitCode: number; summary: string; output: string }[] = [];
  readonly startedAnswers: number[] = [];
  private server: Server | undefined;
  private readonly runs: Promise<void>[] = [];
  private readonly options: ExecutorOptions;
  url = '';

  constructor(options: ExecutorOptions) {
    this.options = options;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        this.deliveries.push({ at: Date.now(), event });
        res.writeHead(202).end();
        if (event['type'] === 'sh.keptn.event.je-test.triggered') this.runs.push(this.run(event));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async run(triggered: Record<string, unknown>): Promise<void> {
    const data = triggered['data'] as { project: string; stage: string; service: string };
    const envelope = {
      specversion: '1.0',
      source: 'job-executor-service',
      shkeptncontext: triggered['shkeptncontext'],
      triggeredid: triggered['id'],
      datacontenttype: 'application/json',
    };
    const common = { project: data.project, stage: data.stage, service: data.service };
    this.startedAnswers.push(
      (
        await this.send('/v1/events', {
          ...envelope,
          id: randomBytes(8).toString('hex'),
          type: 'sh.keptn.event.je-test.started',
          data: common,
        })
      ).status,
    );
    // --json prints the final stats to stdout (the CSV files are written on a timer and may lag behind).
    const args = [
      '-f',
      this.options.locustfile,
      '--headless',
      '-u',
      '2',
      '-r',
      '2',
      '-t',
      '5s',
      '--host',
      this.options.hostFor(data.project),
      '--only-summary',
      '--json',
    ];
    const { exitCode, stdout, output } = await new Promise<{ exitCode: number; stdout: string; output: string }>(
      (resolve) => {
        execFile(this.options.locust, args, { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 }, (err, out, stderr) =>
          resolve({
            exitCode: err ? (typeof err.code === 'number' ? err.code : 1) : 0,
            stdout: out,
            output: `${out.slice(0, 2000)}${stderr}`,
          }),
        );
      },
    );
    const summary = stats(stdout);
    const passed = exitCode === 0 && summary.requests > 0 && summary.failures === 0;
    const message = `locust: ${String(summary.requests)} requests, ${String(summary.failures)} failures (exit ${String(exitCode)})`;
    // Keptn's job-executor posted its events to Keptn's API with x-token.
    const answer = await this.send('/api/v1/event', {
      ...envelope,
      id: randomBytes(8).toString('hex'),
      type: 'sh.keptn.event.je-test.finished',
      data: { ...common, status: 'succeeded', result: passed ? 'pass' : 'fail', message },
    });
    this.finished.push({ at: Date.now(), status: answer.status, exitCode, summary: message, output });
  }

  private send(path: string, body: unknown): Promise<Response> {
    const { url, token } = this.options.controller();
    const headers = path.startsWith('/api/')
      ? { 'Content-Type': 'application/json', 'x-token': token }
      : { 'Content-Type': 'application/cloudevents+json', Authorization: `Bearer ${token}` };
    return fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  }

  triggered(project: string): Delivery[] {
    return this.deliveries.filter(
      (d) =>
        d.event['type'] === 'sh.keptn.event.je-test.triggered' &&
        (d.event['data'] as { project?: string }).project === project,
    );
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.runs);
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Requests and failures over every endpoint of locust's --json stats. */
function stats(json: string): { requests: number; failures: number } {
  let entries: unknown;
  try {
    entries = JSON.parse(json);
  } catch {
    return { requests: 0, failures: 0 };
  }
  const rows = Array.isArray(entries) ? (entries as { num_requests?: number; num_failures?: number }[]) : [];
  return {
    requests: rows.reduce((n, r) => n + (r.num_requests ?? 0), 0),
    failures: rows.reduce((n, r) => n + (r.num_failures ?? 0), 0),
  };
}

let git: GitServer;
let prometheus: LocalPrometheus;
let workload: SampleWorkload;
let controller: ControllerProcess | undefined;
let executor: LocustExecutor;
let scratch: string;
let webhookUrl = '';
let token = '';
let closedPort = 0;

const { waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller?.process.recentOutput() ?? '',
});

/** The tour's project: its shipyard on main, helloservice with the tour's remediation.yaml on qa and production. */
async function tourProject(name: string, objectiveMs: number): Promise<void> {
  const repo = await createProjectRepo(git, {
    project: name,
    service: SERVICE,
    stages: ['qa', 'production'],
    remediationStages: ['production'],
    shipyard: readFileSync(join(REPO_ROOT, 'examples', 'fulltour', 'shipyard.yaml'), 'utf8'),
    files: {
      'values.yaml': VALUES,
      'remediation.yaml': readFileSync(join(REPO_ROOT, 'examples', 'fulltour', SERVICE, 'remediation.yaml'), 'utf8'),
      'slo.yaml': sampleSlo(objectiveMs),
      'sli.yaml': SAMPLE_SLI,
    },
  });
  // As a Keptn user brings it: no spec.stages, the shipyard says which stages there are.
  await applyObjects(admin, [
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Project',
      metadata: { name, namespace: NAMESPACE },
      spec: { git: { url: repo.url, secretRef: { name: 'git' }, poll: '2s' } },
    },
  ]);
  for (const stage of ['qa', 'production']) {
    await deployService({
      kubeconfigPath: admin,
      repoDir: repo.dir,
      branch: stage,
      service: SERVICE,
      namespace: `${name}-${stage}`,
    });
    workload.addTarget({ project: name, stage, service: SERVICE, namespace: `${name}-${stage}` });
  }
}

/** The seed's remediation_trigger.json, sent as `keptn send event -f` sends it. */
async function sendSeedTrigger(project: string): Promise<string> {
  const event = {
    type: 'sh.keptn.event.production.remediation.triggered',
    specversion: '1.0',
    source: 'https://github.com/keptn/keptn/fake-problem',
    contenttype: 'application/json',
    data: {
      project,
      stage: 'production',
      service: SERVICE,
      problem: { problemTitle: 'http_response_time_seconds_main_page_sum' },
    },
  };
  const response = await fetch(`${webhookUrl}/api/v1/event`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'x-token': token },
    body: JSON.stringify(event),
  });
  expect(response.status).toBe(200);
  let name = '';
  await expect
    .poll(
      async () => {
        const names = (
          await kubectl(admin, [
            'get',
            'problemevents',
            '-n',
            NAMESPACE,
            '-o',
            `jsonpath={range .items[?(@.spec.project=="${project}")]}{.metadata.name}{"\\n"}{end}`,
          ])
        ).trim();
        name = names.split('\n')[0] ?? '';
        return name;
      },
      { timeout: 30_000, interval: 250 },
    )
    .not.toBe('');
  return name;
}

beforeAll(async () => {
  const locust = locustPath();
  await installControllerRbac(admin);
  git = await startE2eGitServer();
  ({ workload, prometheus } = await startScrapedWorkload(admin));
  await createNamespace(admin, NAMESPACE, [gitSecret(NAMESPACE, git)]);
  scratch = await mkdtemp(join(tmpdir(), 'rebound-locust-'));
  await writeFile(join(scratch, 'locustfile.py'), LOCUSTFILE);
  await writeFile(join(scratch, 'token'), `${(token = randomBytes(16).toString('hex'))}\n`);
  closedPort = await freePort();
  executor = new LocustExecutor({
    locust,
    locustfile: join(scratch, 'locustfile.py'),
    // The failing project's load test aims at a port nothing listens on: every request fails.
    hostFor: (project) =>
      project === PROJECT ? `http://${workload.address}` : `http://127.0.0.1:${String(closedPort)}`,
    controller: () => ({ url: webhookUrl, token }),
  });
  await executor.start();
  const port = await freePort();
  webhookUrl = `http://127.0.0.1:${String(port)}`;
  controller = await startControllerProcess({
    kubeconfigPath: cluster.controllerKubeconfigPath,
    prometheusUrl: prometheus.url,
    metricsPort: await freePort(),
    args: [
      '--namespace',
      NAMESPACE,
      '--no-leader-elect',
      '--webhook-address',
      `127.0.0.1:${String(port)}`,
      '--webhook-token-file',
      join(scratch, 'token'),
      '--problem-namespace',
      NAMESPACE,
      '--action-sink',
      `${executor.url}/events`,
      '--task-timeout',
      '2m',
      '--evaluation-wait=4s',
      '--turn-poll=500ms',
      '--evaluation-retry=1s',
      '--stalled-recheck=5s',
      '--log-level=debug',
    ],
  });
}, 180_000);

afterAll(async () => {
  await stopInOrder(controller, executor, prometheus, workload, git);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("seed 001: the full tour's remediation sequence with a locust load test", () => {
  it('scales production, runs je-test with locust, then evaluates: in that order, Resolved', async () => {
    await tourProject(PROJECT, 700);
    const name = await sendSeedTrigger(PROJECT);
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      name,
      phase('Resolved', 'Exhausted', 'Unhandled'),
      150_000,
    );
    expect(
      done.status?.phase,
      `${JSON.stringify(done.status?.attempts)}\nlocust:\n${executor.finished.map((f) => f.output).join('\n')}`,
    ).toBe('Resolved');
    expect(
      Number(
        await kubectl(admin, [
          'get',
          'deployment',
          SERVICE,
          '-n',
          `${PROJECT}-production`,
          '-o',
          'jsonpath={.spec.replicas}',
        ]),
      ),
    ).toBe(2);

    const [attempt] = done.status?.attempts ?? [];
    expect(attempt).toMatchObject({ index: 1, action: 'scale', value: '2', result: 'pass' });
    const task = attempt?.tasks?.[0];
    expect(attempt?.tasks).toHaveLength(1);
    expect(task).toMatchObject({
      name: 'je-test',
      state: 'Succeeded',
      executor: 'keptn',
      responseCode: 202,
      callbackStatus: 'succeeded',
    });
    expect(task?.callbackMessage).toMatch(
      /^locust: [1-9]\d* requests, 0 failures \(exit 0\); status succeeded; result pass$/,
    );

    // What the executor received: Keptn's je-test.triggered, with the action get-action chose and the task's properties.
    const [delivery] = executor.triggered(PROJECT);
    expect(executor.triggered(PROJECT)).toHaveLength(1);
    expect(delivery?.event).toMatchObject({
      specversion: '1.0',
      type: 'sh.keptn.event.je-test.triggered',
      id: task?.id,
      source: 'rebound',
      data: {
        project: PROJECT,
        stage: 'production',
        service: SERVICE,
        action: { action: 'scale', value: '2', name: 'scale' },
        problem: { problemTitle: 'http_response_time_seconds_main_page_sum' },
        'je-test': {},
      },
    });
    expect(executor.startedAnswers).toContain(202);
    expect(executor.finished[0]).toMatchObject({ status: 200, exitCode: 0 });

    // The order, from the recorded timestamps: applied < triggered < finished < evaluated.
    const applied = Date.parse(attempt?.appliedTime ?? '');
    const triggered = delivery?.at ?? Number.NaN;
    const finished = Date.parse(task?.finishedTime ?? '');
    const evaluated = Date.parse(attempt?.evaluationTime ?? '');
    expect(applied).toBeLessThanOrEqual(Date.parse(task?.startedTime ?? ''));
    expect(applied).toBeLessThan(triggered);
    expect(triggered).toBeLessThan(finished);
    expect(finished).toBeLessThan(evaluated);
    expect(executor.finished[0]?.at ?? Number.NaN).toBeLessThan(evaluated);
  });

  it('a load test that fails fails the attempt with its message, without an evaluation', async () => {
    const failing = `${PROJECT}-broken`;
    await tourProject(failing, 700);
    const name = await sendSeedTrigger(failing);
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      name,
      phase('Resolved', 'Exhausted', 'Unhandled'),
      150_000,
    );
    // The tour has one action: its failed task leaves nothing to escalate to.
    expect(done.status?.phase).toBe('Exhausted');
    const [attempt] = done.status?.attempts ?? [];
    expect(attempt).toMatchObject({ result: 'fail' });
    expect(attempt?.evaluationTime).toBeUndefined();
    expect(attempt?.message).toMatch(
      /^task je-test reported failure: locust: [1-9]\d* requests, [1-9]\d* failures \(exit 1\); status succeeded; result fail$/,
    );
    expect(attempt?.tasks?.[0]).toMatchObject({ name: 'je-test', state: 'Failed', callbackStatus: 'failed' });
  });
});
