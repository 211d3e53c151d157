// "Applied" means live, end to end on a cluster whose workloads roll out: kube-controller-manager
// (deployment, replicaset and HPA controllers), kube-scheduler and KWOK's simulated nodes, started by
// the global set-up. The loop waits for the rollout after helm or kubernetes applied an attempt, the
// evaluation counts from the live time, a rollout that never finishes fails the attempt and
// escalates, and with a HorizontalPodAutoscaler `scale` raises its minimum and the real HPA
// controller scales the Deployment.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attempt, ProblemEvent } from '../../src/api/index.ts';
import { UNSCHEDULABLE_NODE_SELECTOR } from '../harness/cluster.ts';
import type { GitServer } from '../harness/git-server.ts';
import { laneCluster } from '../harness/lane.ts';
import { freePort } from '../harness/ports.ts';
import { runCommand } from '../harness/process.ts';
import type { LocalPrometheus } from '../harness/prometheus.ts';
import { SAMPLE_SLI, sampleSlo } from '../harness/sample-workload.ts';
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
import {
  createNamespace,
  ESCALATING_POLICY,
  gitSecret,
  namespaceObjects,
  openProblem,
  phase,
  startE2eGitServer,
  startScrapedWorkload,
  stopInOrder,
} from './e2e-helpers.ts';

const cluster = laneCluster();
const admin = cluster.kubeconfigPath;

const EVALUATION_WAIT_MS = 4_000;
const ROLLOUT_TIMEOUT_S = 15;

const VALUES = `replicaCount: 1
image:
  repository: docker.io/keptnexamples/carts
  tag: "0.13.1"
featureFlags:
  EnablePromotion: true
`;

const SCALE_TO_TWO = `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
metadata:
  name: remediation
spec:
  remediations:
    - problemType: Response time degradation
      actionsOnOpen:
        - action: scale
          name: Scale to two
          value: "2"
`;

let git: GitServer;
let prometheus: LocalPrometheus;
let workload: SampleWorkload;
let controller: ControllerProcess | undefined;

const suffix = (): string => randomBytes(3).toString('hex');
const NAMESPACE = `rollout-${suffix()}`;

interface Scenario {
  project: string;
  service: string;
  repoDir: string;
}

async function scenario(options: {
  service: string;
  stages: string[];
  files: Record<string, string>;
  apply: 'helm' | 'kubernetes';
}): Promise<Scenario> {
  const project = `p-${suffix()}`;
  const repo = await createProjectRepo(git, {
    project,
    service: options.service,
    stages: options.stages,
    remediationStages: ['production'],
    files: options.files,
  });
  await applyObjects(admin, [
    gitSecret(NAMESPACE, git),
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Project',
      metadata: { name: project, namespace: NAMESPACE },
      spec: {
        git: { url: repo.url, secretRef: { name: 'git' }, author: { name: 'Rebound', email: 'rebound@example.com' } },
        stages: options.stages.map((name) => ({
          name,
          remediation: name === 'production' ? 'automated' : 'disabled',
          apply: options.apply,
        })),
      },
    },
  ]);
  for (const stage of options.stages) {
    await deployService({
      kubeconfigPath: admin,
      repoDir: repo.dir,
      branch: stage,
      service: options.service,
      namespace: `${project}-${stage}`,
    });
    workload.addTarget({ project, stage, service: options.service, namespace: `${project}-${stage}` });
  }
  return { project, service: options.service, repoDir: repo.dir };
}

async function createProblem(s: Scenario, name: string): Promise<void> {
  await openProblem(admin, { namespace: NAMESPACE, name, project: s.project, service: s.service });
}

const { waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller?.process.recentOutput() ?? '',
});

function finished(name: string, timeoutMs = 120_000): Promise<ProblemEvent> {
  return waitFor<ProblemEvent>('problemevent', name, phase('Resolved', 'Exhausted', 'Unhandled'), timeoutMs);
}

/** The service's pods as `phase/Ready`, e.g. `Running/True`. */
async function pods(namespace: string, service: string): Promise<string[]> {
  const out = await kubectl(admin, [
    'get',
    'pods',
    '-n',
    namespace,
    '-l',
    `app.kubernetes.io/instance=${service}`,
    '-o',
    'jsonpath={range .items[*]}{.status.phase}/{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
  ]);
  return out.split('\n').filter((l) => l !== '');
}

function time(value: string | undefined): number {
  expect(value).toBeDefined();
  return Date.parse(value ?? '');
}

/** The recorded timestamps in order: committed ≤ applied ≤ live, and the evaluation a full wait after live. */
function expectLiveBeforeEvaluation(attempt: Attempt | undefined): void {
  const applied = time(attempt?.appliedTime);
  const live = time(attempt?.liveTime);
  const evaluated = time(attempt?.evaluationTime);
  expect(time(attempt?.committedTime)).toBeLessThanOrEqual(applied);
  expect(live).toBeGreaterThanOrEqual(applied);
  expect(evaluated - live).toBeGreaterThanOrEqual(EVALUATION_WAIT_MS);
}

beforeAll(async () => {
  await installControllerRbac(admin);
  git = await startE2eGitServer();
  ({ workload, prometheus } = await startScrapedWorkload(admin));
  await createNamespace(admin, NAMESPACE);
  controller = await startControllerProcess({
    kubeconfigPath: cluster.controllerKubeconfigPath,
    prometheusUrl: prometheus.url,
    metricsPort: await freePort(),
    args: [
      '--namespace',
      NAMESPACE,
      `--evaluation-wait=${String(EVALUATION_WAIT_MS / 1000)}s`,
      '--turn-poll=500ms',
      '--evaluation-retry=1s',
      '--stalled-recheck=5s',
      '--lease-duration=3s',
      `--rollout-timeout=${String(ROLLOUT_TIMEOUT_S)}s`,
      '--rollout-poll=250ms',
      '--log-level=debug',
    ],
  });
}, 120_000);

afterAll(() => stopInOrder(controller, prometheus, workload, git));

describe('applied means live, on a cluster whose workloads roll out', () => {
  it.each(['helm', 'kubernetes'] as const)(
    '(a) %s: production rolls out to 2 Ready pods, qa keeps 1, the evaluation starts from the live time',
    async (apply) => {
      const s = await scenario({
        service: 'carts',
        stages: ['qa', 'production'],
        apply,
        files: {
          'values.yaml': VALUES,
          'remediation.yaml': SCALE_TO_TWO,
          'slo.yaml': sampleSlo(700),
          'sli.yaml': SAMPLE_SLI,
        },
      });
      const name = `scale-${apply}`;
      await createProblem(s, name);
      const done = await finished(name);
      expect(done.status?.phase, JSON.stringify(done.status?.attempts)).toBe('Resolved');
      const [attempt] = done.status?.attempts ?? [];
      expect(attempt).toMatchObject({
        action: 'scale',
        value: '2',
        result: 'pass',
        rollout: {
          state: 'Complete',
          workloads: ['Deployment/carts'],
          replicas: 2,
          updatedReplicas: 2,
          readyReplicas: 2,
          availableReplicas: 2,
        },
      });
      expectLiveBeforeEvaluation(attempt);
      // The SLI window starts at the live time: 2 ready pods answer in 900/√2 ≈ 636 ms.
      expect(attempt?.indicatorResults?.[0]).toMatchObject({ value: 636, status: 'pass' });
      expect(await pods(`${s.project}-production`, 'carts')).toEqual(['Running/True', 'Running/True']);
      expect(await pods(`${s.project}-qa`, 'carts')).toEqual(['Running/True']);
      const events = await kubectl(admin, [
        'get',
        'events',
        '-n',
        NAMESPACE,
        '--field-selector',
        `involvedObject.name=${name}`,
        '-o',
        'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}',
      ]);
      expect(events).toMatch(/RolledOut: attempt 1 live: Deployment\/carts rolled out in [\d.]+s \(2\/2 ready\)/);
    },
  );

  it('(b) a rollout that never finishes (no node fits the pods) times out, fails the attempt and escalates', async () => {
    const selector = Object.entries(UNSCHEDULABLE_NODE_SELECTOR)
      .map(([k, v]) => `  ${k}: "${v}"\n`)
      .join('');
    const s = await scenario({
      service: 'carts',
      stages: ['production'],
      apply: 'helm',
      files: {
        'values.yaml': `${VALUES}nodeSelector:\n${selector}`,
        'remediation.yaml': ESCALATING_POLICY,
        'slo.yaml': sampleSlo(600),
        'sli.yaml': SAMPLE_SLI,
      },
    });
    await createProblem(s, 'never-live');
    const done = await finished('never-live', 180_000);
    expect(done.status?.phase, JSON.stringify(done.status?.attempts)).toBe('Exhausted');
    const attempts = done.status?.attempts ?? [];
    expect(attempts.map((a) => [a.action, a.result, a.rollout?.state])).toEqual([
      ['scale', 'fail', 'TimedOut'],
      ['featuretoggle', 'fail', 'TimedOut'],
    ]);
    for (const a of attempts) {
      expect(a.liveTime).toBeUndefined();
      expect(a.evaluationTime).toBeUndefined();
      expect(a.message).toContain(
        `the rollout did not finish within ${String(ROLLOUT_TIMEOUT_S)}s (--rollout-timeout)`,
      );
    }
    expect(attempts[0]?.rollout).toMatchObject({ workloads: ['Deployment/carts'], replicas: 2, readyReplicas: 0 });
    expect(await pods(`${s.project}-production`, 'carts')).toEqual(expect.arrayContaining(['Pending/']));
  });

  it('(c) with a HorizontalPodAutoscaler, scale raises its minimum and the HPA controller scales the Deployment', async () => {
    const s = await scenario({
      service: 'carts',
      stages: ['production'],
      apply: 'helm',
      files: {
        'values.yaml': `${VALUES}autoscaling:\n  enabled: true\n  minReplicas: 1\n  maxReplicas: 2\n`,
        'remediation.yaml': ESCALATING_POLICY,
        'slo.yaml': sampleSlo(700),
        'sli.yaml': SAMPLE_SLI,
      },
    });
    await createProblem(s, 'autoscaled');
    const done = await finished('autoscaled');
    expect(done.status?.phase, JSON.stringify(done.status?.attempts)).toBe('Resolved');
    const [attempt] = done.status?.attempts ?? [];
    expect(attempt).toMatchObject({
      action: 'scale',
      value: '+1',
      result: 'pass',
      rollout: { state: 'Complete', readyReplicas: 2, availableReplicas: 2 },
    });
    expectLiveBeforeEvaluation(attempt);
    const namespace = `${s.project}-production`;
    expect(await kubectl(admin, ['get', 'hpa', 'carts', '-n', namespace, '-o', 'jsonpath={.spec.minReplicas}'])).toBe(
      '2',
    );
    expect(
      await kubectl(admin, ['get', 'deployment', 'carts', '-n', namespace, '-o', 'jsonpath={.spec.replicas}']),
    ).toBe('2');
    expect(await pods(namespace, 'carts')).toEqual(['Running/True', 'Running/True']);
    const { stdout: log } = await runCommand('git', ['--git-dir', s.repoDir, 'log', '-1', '--format=%s', 'production']);
    expect(log.trim()).toBe('rebound: raise the autoscaler minimum of carts in production to 2 replicas');
  });
});
