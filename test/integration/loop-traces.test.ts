// Traces end to end: `rebound controller` exporting OTLP/HTTP to a real Jaeger (test/harness/jaeger.ts)
// while it remediates on the real API server, Git server, Helm and Prometheus. The escalation's steps
// are read back through Jaeger's query API as spans of one trace, named by the ProblemEvent's
// traceparent annotation, and a controller restarted in the middle continues that same trace.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemEvent } from '../../src/api/index.ts';
import { parseTraceparent } from '../../src/observability/tracing/traceparent.ts';
import type { GitServer } from '../harness/git-server.ts';
import { startJaeger, tag } from '../harness/jaeger.ts';
import type { JaegerSpan, JaegerTrace, LocalJaeger } from '../harness/jaeger.ts';
import { laneCluster } from '../harness/lane.ts';
import { freePort } from '../harness/ports.ts';
import type { LocalPrometheus } from '../harness/prometheus.ts';
import { SAMPLE_SLI, sampleSlo } from '../harness/sample-workload.ts';
import type { SampleWorkload } from '../harness/sample-workload.ts';
import {
  applyObjects,
  createProjectRepo,
  deployService,
  installControllerRbac,
  startControllerProcess,
} from '../harness/world.ts';
import type { ControllerProcess } from '../harness/world.ts';
import {
  ESCALATING_POLICY,
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
const NAMESPACE = `traces-${randomBytes(3).toString('hex')}`;

const VALUES = `replicaCount: 1
image:
  repository: docker.io/keptnexamples/carts
  tag: "0.13.1"
featureFlags:
  EnablePromotion: true
`;

let git: GitServer;
let prometheus: LocalPrometheus;
let workload: SampleWorkload;
let jaeger: LocalJaeger;
let controller: ControllerProcess | undefined;

const { waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller?.process.recentOutput() ?? '',
});

async function startTracedController(): Promise<ControllerProcess> {
  return startControllerProcess({
    kubeconfigPath: cluster.controllerKubeconfigPath,
    prometheusUrl: prometheus.url,
    metricsPort: await freePort(),
    args: [
      '--namespace',
      NAMESPACE,
      '--evaluation-wait=4s',
      '--turn-poll=500ms',
      '--evaluation-retry=1s',
      '--lease-duration=3s',
      `--otlp-endpoint=${jaeger.otlpEndpoint}`,
    ],
  });
}

beforeAll(async () => {
  await installControllerRbac(admin);
  jaeger = await startJaeger();
  git = await startE2eGitServer();
  ({ workload, prometheus } = await startScrapedWorkload(admin));
  await createNamespace(admin, NAMESPACE);
  controller = await startTracedController();
}, 120_000);

afterAll(() => stopInOrder(controller, prometheus, workload, git, jaeger));

/** The trace once Jaeger holds its problem span (recorded when the problem finished), with every span. */
async function finishedTrace(traceId: string): Promise<JaegerTrace> {
  let trace: JaegerTrace | undefined;
  await expect
    .poll(
      async () => {
        trace = await jaeger.trace(traceId);
        return trace?.spans.some((s) => s.operationName === 'problem') ?? false;
      },
      { timeout: 30_000, interval: 250 },
    )
    .toBe(true);
  return trace as JaegerTrace;
}

describe('traces of the remediation loop in Jaeger', () => {
  it('shows an escalation as one trace of step spans with the problem’s attributes, across a restart', async () => {
    const project = `p-${randomBytes(3).toString('hex')}`;
    const repo = await createProjectRepo(git, {
      project,
      service: 'carts',
      stages: ['production'],
      remediationStages: ['production'],
      files: {
        'values.yaml': VALUES,
        'remediation.yaml': ESCALATING_POLICY,
        'slo.yaml': sampleSlo(600),
        'sli.yaml': SAMPLE_SLI,
      },
    });
    await applyObjects(admin, [
      gitSecret(NAMESPACE, git),
      {
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'Project',
        metadata: { name: project, namespace: NAMESPACE },
        spec: {
          git: { url: repo.url, secretRef: { name: 'git' }, author: { name: 'Rebound', email: 'rebound@example.com' } },
          stages: [{ name: 'production', remediation: 'automated', apply: 'helm' }],
        },
      },
    ]);
    await deployService({
      kubeconfigPath: admin,
      repoDir: repo.dir,
      branch: 'production',
      service: 'carts',
      namespace: `${project}-production`,
    });
    workload.addTarget({ project, stage: 'production', service: 'carts', namespace: `${project}-production` });
    await applyObjects(admin, [
      {
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'ProblemEvent',
        metadata: { name: 'slow-carts', namespace: NAMESPACE },
        spec: {
          project,
          stage: 'production',
          service: 'carts',
          problemTitle: 'Response time degradation',
          state: 'OPEN',
          source: 'e2e',
        },
      },
    ]);

    // The first attempt is applied and waits for its evaluation: the controller restarts there.
    const applied = await waitFor<ProblemEvent>(
      'problemevent',
      'slow-carts',
      (p) => p.status?.attempts?.[0]?.appliedTime !== undefined && p.status.attempts.length === 1,
      90_000,
    );
    const traceparent = applied.metadata.annotations?.['rebound.dev/traceparent'];
    const context = parseTraceparent(traceparent);
    expect(context?.sampled, `annotation ${String(traceparent)}`).toBe(true);
    await controller?.stop();
    controller = await startTracedController();

    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'slow-carts',
      phase('Resolved', 'Exhausted', 'Unhandled'),
      90_000,
    );
    expect(done.status?.phase, JSON.stringify(done.status?.attempts)).toBe('Resolved');
    // Written once: the restarted controller kept it.
    expect(done.metadata.annotations?.['rebound.dev/traceparent']).toBe(traceparent);

    const trace = await finishedTrace(context?.traceId ?? '');
    const spans = trace.spans;
    const named = (name: string): JaegerSpan[] =>
      spans.filter((s) => s.operationName === name).sort((a, b) => a.startTime - b.startTime);
    // A step cut short (the first controller stopping mid-step, a conflicting write) is in the trace
    // too, as an ERROR span, and so is an evaluation postponed until Prometheus has scraped the new
    // state: both are done again. The steps that went through are the others.
    const completed = (name: string): JaegerSpan[] =>
      named(name).filter((s) => tag(s, 'error') !== true && tag(s, 'rebound.evaluation.postponed') === undefined);
    const parentOf = (s: JaegerSpan): string | undefined => s.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
    const show = (list: JaegerSpan[]): string => JSON.stringify(list.map((s) => [s.operationName, s.tags]));

    // The problem's span has the id the annotation named, and every step and wait hangs under it.
    const [problemSpan] = named('problem');
    expect(problemSpan?.spanID).toBe(context?.spanId);
    expect(problemSpan?.references).toEqual([]);
    expect(tag(problemSpan as JaegerSpan, 'rebound.phase')).toBe('Resolved');
    for (const step of ['start-attempt', 'apply-attempt', 'evaluate', 'evaluation wait']) {
      expect(new Set(named(step).map(parentOf)), step).toEqual(new Set([context?.spanId]));
      expect(completed(step), show(named(step))).toHaveLength(2);
    }
    const attributes = (s: JaegerSpan): unknown[] =>
      [
        'rebound.project',
        'rebound.stage',
        'rebound.service',
        'rebound.attempt',
        'rebound.action',
        'rebound.result',
      ].map((key) => tag(s, key));
    expect(completed('evaluate').map(attributes)).toEqual([
      [project, 'production', 'carts', 1, 'scale +1', 'fail'],
      [project, 'production', 'carts', 2, 'featuretoggle EnablePromotion:off', 'pass'],
    ]);
    expect(completed('apply-attempt').map((s) => [tag(s, 'rebound.attempt'), tag(s, 'rebound.action')])).toEqual([
      [1, 'scale +1'],
      [2, 'featuretoggle EnablePromotion:off'],
    ]);

    // Each step's parts are its children: the commit, the apply, the evaluation and its queries.
    const children = (parent: JaegerSpan | undefined, name: string): JaegerSpan[] =>
      named(name).filter((s) => parentOf(s) === parent?.spanID);
    expect(
      completed('start-attempt').map((s) => children(s, 'commit and push').map((c) => tag(c, 'git.commit'))),
    ).toEqual([[done.status?.attempts?.[0]?.commit], [done.status?.attempts?.[1]?.commit]]);
    for (const apply of completed('apply-attempt')) {
      expect(children(apply, 'apply').map((s) => tag(s, 'rebound.apply'))).toEqual(['helm']);
    }
    for (const evaluate of completed('evaluate')) {
      const [evaluation] = children(evaluate, 'evaluation');
      const queries = children(evaluation, 'prometheus query');
      expect(queries.map((q) => tag(q, 'rebound.sli'))).toEqual(['response_time_p95']);
      expect(String(tag(queries[0] as JaegerSpan, 'db.query.text'))).toContain(`project="${project}"`);
    }

    // Two processes wrote this trace: the one before the restart and the one after.
    const instances = new Set(
      spans.map((s) => trace.processes[s.processID]?.tags.find((t) => t.key === 'service.instance.id')?.value),
    );
    expect(instances.size).toBe(2);
    // And Jaeger's search finds it under the controller's service name.
    const found = await jaeger.traces('rebound');
    expect(found.map((t) => t.traceID)).toContain(context?.traceId);
  });
});
