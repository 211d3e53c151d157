// Issue 14's bad day, the deterministic part, end to end on the real parts: `rebound controller` is
// SIGKILLed (with its helm child, as a container kill does) between each pair of the loop's steps
// and restarted on the same work dir; and Prometheus is stopped while an evaluation is due.
//
// The kills land at known moments, not after guessed sleeps: `helm upgrade` runs through a gate the
// test holds (so "committed, not applied" is a state the test waits for, not a race with helm), and
// the controller reaches Prometheus through a proxy the test can hold (an evaluation in flight)
// and take down (connection refused, as from a stopped server) while Prometheus restarts on its data.
import { randomBytes } from 'node:crypto';
import { access, chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemEvent } from '../../src/api/index.ts';
import { startGateProxy } from '../harness/gate-proxy.ts';
import type { GateProxy } from '../harness/gate-proxy.ts';
import type { GitServer } from '../harness/git-server.ts';
import { laneCluster } from '../harness/lane.ts';
import { freePort } from '../harness/ports.ts';
import { runCommand } from '../harness/process.ts';
import { startPrometheus } from '../harness/prometheus.ts';
import type { LocalPrometheus } from '../harness/prometheus.ts';
import { SAMPLE_SLI, sampleSlo } from '../harness/sample-workload.ts';
import type { SampleWorkload } from '../harness/sample-workload.ts';
import { toolPath } from '../harness/tools.ts';
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
  hasCondition,
  namespaceObjects,
  openProblem,
  phase,
  startE2eGitServer,
  startScrapedWorkload,
  stopInOrder,
} from './e2e-helpers.ts';

const cluster = laneCluster();
const admin = cluster.kubeconfigPath;
const suffix = (): string => randomBytes(3).toString('hex');
const NAMESPACE = `faults-${suffix()}`;

const VALUES = `# carts values
replicaCount: 1
image:
  repository: docker.io/keptnexamples/carts
  tag: "0.13.1"
featureFlags:
  EnablePromotion: true
`;

let git: GitServer;
let prometheus: LocalPrometheus;
let workload: SampleWorkload;
let promGate: GateProxy;
let controller: ControllerProcess | undefined;
let work: string;
let helmGate: HelmGate;

const { get, waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller?.process.recentOutput() ?? '',
});

/**
 * A `helm` for the controller that holds `helm upgrade` while the gate is closed (writing a marker
 * once it waits there), then runs the real helm with the same arguments. Killed with the controller.
 */
interface HelmGate {
  path: string;
  close(): Promise<void>;
  open(): Promise<void>;
  /** Resolves once an upgrade waits at the closed gate. */
  waiting(): Promise<void>;
}

async function helmGateIn(dir: string): Promise<HelmGate> {
  const path = join(dir, 'helm');
  const gate = join(dir, 'gate-closed');
  const marker = join(dir, 'upgrade-waiting');
  // Paths from mkdtemp: no quotes or spaces in them.
  await writeFile(
    path,
    [
      '#!/bin/sh',
      `if [ "$1" = upgrade ] && [ -e '${gate}' ]; then`,
      `  : > '${marker}'`,
      `  while [ -e '${gate}' ]; do /usr/bin/sleep 0.05; done`,
      'fi',
      `exec '${toolPath('helm')}' "$@"`,
      '',
    ].join('\n'),
  );
  await chmod(path, 0o755);
  return {
    path,
    close: () => writeFile(gate, ''),
    open: async () => {
      await rm(gate, { force: true });
      await rm(marker, { force: true });
    },
    waiting: () =>
      expect
        .poll(
          () =>
            access(marker).then(
              () => true,
              () => false,
            ),
          { timeout: 90_000, interval: 50 },
        )
        .toBe(true)
        .then(() => undefined),
  };
}

async function startController(): Promise<ControllerProcess> {
  return startControllerProcess({
    kubeconfigPath: cluster.controllerKubeconfigPath,
    prometheusUrl: promGate.url,
    metricsPort: await freePort(),
    // The same work dir on every start: a container restarted in its pod after an OOM kill.
    workDir: join(work, 'controller'),
    // The evaluation wait leaves a wide window between "applied" and "evaluated" for a kill.
    args: [
      '--namespace',
      NAMESPACE,
      '--helm',
      helmGate.path,
      '--evaluation-wait=6s',
      '--turn-poll=500ms',
      '--evaluation-retry=1s',
      '--stalled-recheck=5s',
      '--lease-duration=3s',
      '--log-level=debug',
    ],
  });
}

/** SIGKILL to the controller's process group (its helm too), no graceful anything, as the kernel's OOM killer or a node loss does. */
async function killController(): Promise<void> {
  const running = controller;
  if (!running) throw new Error('no controller to kill');
  process.kill(-running.process.pid, 'SIGKILL');
  await running.process.exited;
  await running.stop();
  controller = undefined;
}

interface Scenario {
  project: string;
  repoDir: string;
  releaseNamespace: string;
}

async function scenario(sloMs: number): Promise<Scenario> {
  const project = `p-${suffix()}`;
  const repo = await createProjectRepo(git, {
    project,
    service: 'carts',
    stages: ['production'],
    remediationStages: ['production'],
    files: {
      'values.yaml': VALUES,
      'remediation.yaml': ESCALATING_POLICY,
      'slo.yaml': sampleSlo(sloMs),
      'sli.yaml': SAMPLE_SLI,
    },
  });
  await applyObjects(admin, [
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
  const releaseNamespace = `${project}-production`;
  await deployService({
    kubeconfigPath: admin,
    repoDir: repo.dir,
    branch: 'production',
    service: 'carts',
    namespace: releaseNamespace,
  });
  workload.addTarget({ project, stage: 'production', service: 'carts', namespace: releaseNamespace });
  return { project, repoDir: repo.dir, releaseNamespace };
}

async function createProblem(s: Scenario, name: string): Promise<void> {
  await openProblem(admin, { namespace: NAMESPACE, name, project: s.project });
}

/** Rebound's commits on the stage branch, oldest first: their sha and Rebound-Attempt trailer. */
async function reboundCommits(s: Scenario): Promise<{ sha: string; problem: string; attempt: string }[]> {
  const { stdout } = await runCommand('git', [
    '--git-dir',
    s.repoDir,
    'log',
    '--reverse',
    '--format=%H%x00%(trailers:key=Rebound-Problem,valueonly,separator=)%x00%(trailers:key=Rebound-Attempt,valueonly,separator=)%x1e',
    'production',
  ]);
  return stdout
    .split('\x1e')
    .map((c) => c.trim())
    .filter((c) => c !== '')
    .map((c) => c.split('\0').map((f) => f.trim()))
    .filter(([, problem]) => problem !== '')
    .map(([sha = '', problem = '', attempt = '']) => ({ sha, problem, attempt }));
}

/** The release's revisions and their statuses, oldest first. */
async function helmHistory(s: Scenario): Promise<string[]> {
  const { stdout } = await runCommand(
    toolPath('helm'),
    ['history', 'carts', '-n', s.releaseNamespace, '-o', 'json', '--kubeconfig', admin],
    {
      env: {
        ...process.env,
        HELM_CACHE_HOME: join(work, 'helm-home'),
        HELM_CONFIG_HOME: join(work, 'helm-home'),
        HELM_DATA_HOME: join(work, 'helm-home'),
      },
      timeoutMs: 60_000,
    },
  );
  return (JSON.parse(stdout) as { revision: number; status: string }[]).map((r) => `${r.revision} ${r.status}`);
}

async function eventReasons(name: string): Promise<string[]> {
  const out = await kubectl(admin, [
    'get',
    'events',
    '-n',
    NAMESPACE,
    '--field-selector',
    `involvedObject.name=${name}`,
    '-o',
    'jsonpath={range .items[*]}{.reason}{"\\n"}{end}',
  ]);
  return out.split('\n').filter((r) => r !== '');
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'rebound-loop-faults-'));
  helmGate = await helmGateIn(work);
  await installControllerRbac(admin);
  git = await startE2eGitServer();
  ({ workload, prometheus } = await startScrapedWorkload(admin, { dataDir: join(work, 'prometheus-data') }));
  promGate = await startGateProxy(prometheus.url);
  await createNamespace(admin, NAMESPACE, [gitSecret(NAMESPACE, git)]);
}, 120_000);

afterAll(async () => {
  await stopInOrder(controller, promGate, prometheus, workload, git);
  await rm(work, { recursive: true, force: true });
});

describe('the loop through kills and outages', () => {
  it('SIGKILLed between each pair of steps: one commit per attempt, no apply or evaluation repeated or skipped', async () => {
    const s = await scenario(600);
    const problem = 'killed';
    const attempts = async (): Promise<NonNullable<NonNullable<ProblemEvent['status']>['attempts']>> =>
      (await get<ProblemEvent>('problemevent', problem)).status?.attempts ?? [];

    // 1. Attempt 1 committed and pushed, not applied: its helm upgrade waits at the gate.
    await helmGate.close();
    controller = await startController();
    await createProblem(s, problem);
    await helmGate.waiting();
    await killController();
    expect(await attempts()).toMatchObject([{ index: 1, action: 'scale', commit: expect.any(String) as string }]);
    expect((await attempts())[0]?.appliedTime).toBeUndefined();
    expect(await reboundCommits(s)).toHaveLength(1);
    expect(await helmHistory(s)).toEqual(['1 deployed']);

    // 2. Applied and recorded, the evaluation not: Prometheus is held from here on, so however slow
    //    this machine, no evaluation can be recorded before the kill.
    await helmGate.open();
    promGate.hold();
    controller = await startController();
    await waitFor<ProblemEvent>(
      'problemevent',
      problem,
      (p) => p.status?.attempts?.[0]?.appliedTime !== undefined,
      90_000,
    );
    await killController();
    promGate.drop();
    expect(await attempts()).toMatchObject([{ index: 1, helmRevision: 2 }]);
    expect((await attempts())[0]?.result).toBeUndefined();
    expect(await helmHistory(s)).toEqual(['1 superseded', '2 deployed']);

    // 3. The restarted controller waits for the evaluation, then queries Prometheus: killed with
    //    its query in flight, its answer never seen.
    controller = await startController();
    await promGate.held();
    await killController();
    promGate.drop();
    promGate.release();
    expect((await attempts())[0]?.result).toBeUndefined();
    expect(await helmHistory(s)).toEqual(['1 superseded', '2 deployed']);

    // 4. Evaluated fail, escalated, attempt 2 committed: killed before its apply.
    await helmGate.close();
    controller = await startController();
    await helmGate.waiting();
    await killController();
    expect(await attempts()).toMatchObject([
      { index: 1, result: 'fail' },
      { index: 2, action: 'featuretoggle', commit: expect.any(String) as string },
    ]);
    expect((await attempts())[1]?.appliedTime).toBeUndefined();
    expect(await reboundCommits(s)).toHaveLength(2);

    // 5. Left alone: attempt 2 applied once, evaluated once, resolved.
    await helmGate.open();
    controller = await startController();
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      problem,
      phase('Resolved', 'Exhausted', 'Unhandled'),
      90_000,
    );
    expect(done.status?.phase).toBe('Resolved');
    const finalAttempts = done.status?.attempts ?? [];
    expect(finalAttempts.map((a) => [a.index, a.action, a.value, a.result, a.helmRevision])).toEqual([
      [1, 'scale', '+1', 'fail', 2],
      [2, 'featuretoggle', 'EnablePromotion:off', 'pass', 3],
    ]);
    expect(await helmHistory(s)).toEqual(['1 superseded', '2 superseded', '3 deployed']);
    const uid = done.metadata.uid ?? '';
    expect(await reboundCommits(s)).toEqual([
      { sha: finalAttempts[0]?.commit, problem: `${NAMESPACE}/${problem} ${uid}`, attempt: '1' },
      { sha: finalAttempts[1]?.commit, problem: `${NAMESPACE}/${problem} ${uid}`, attempt: '2' },
    ]);
    expect(
      await kubectl(admin, [
        'get',
        'configmap',
        'carts-feature-flags',
        '-n',
        s.releaseNamespace,
        '-o',
        'jsonpath={.data.EnablePromotion}',
      ]),
    ).toBe('false');
  });

  it('Prometheus stopped when an evaluation is due: postponed as PrometheusUnavailable, never escalated; resolved once it is back', async () => {
    const s = await scenario(700);
    const problem = 'no-metrics';
    // Whatever the test before left: no gate closed, no request held.
    await helmGate.open();
    promGate.release();
    controller ??= await startController();
    await createProblem(s, problem);
    // Live and its evaluation scheduled: an applied attempt whose rollout is still under way has no
    // evaluation time yet (it is set once the rollout finishes).
    const applied = await waitFor<ProblemEvent>(
      'problemevent',
      problem,
      (p) => p.status?.attempts?.[0]?.appliedTime !== undefined && p.status.nextEvaluationTime !== undefined,
      90_000,
    );
    // Prometheus has scraped the action's effect: the data the evaluation needs is there, only the
    // server will not be. Then stopped before the evaluation is due: the 6 s wait is the window.
    const replicas = new URL('/api/v1/query', prometheus.url);
    replicas.searchParams.set('query', `rebound_sample_replicas{project="${s.project}"}`);
    await expect
      .poll(
        async () =>
          ((await (await fetch(replicas)).json()) as { data: { result: { value: [number, string] }[] } }).data.result[0]
            ?.value[1],
        { timeout: 30_000, interval: 100 },
      )
      .toBe('2');
    await promGate.down();
    await prometheus.stop();
    expect(Date.now()).toBeLessThan(Date.parse(applied.status?.nextEvaluationTime ?? ''));

    await waitFor<ProblemEvent>(
      'problemevent',
      problem,
      hasCondition('Reconciling', 'True', 'PrometheusUnavailable'),
      60_000,
    );
    // Several evaluations were tried and refused (one a second), none counted against the attempt.
    const metricsUrl = controller.metricsUrl;
    const evaluationErrors = async (): Promise<number> =>
      Number(
        /^rebound_evaluations_total\{result="error"\} (\d+)/m.exec(
          await (await fetch(`${metricsUrl}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    await expect.poll(evaluationErrors, { timeout: 30_000, interval: 250 }).toBeGreaterThanOrEqual(3);
    const waiting = await get<ProblemEvent>('problemevent', problem);
    expect(waiting.status?.phase).toBe('Evaluating');
    expect(waiting.status?.attempts?.map((a) => a.result)).toEqual([undefined]);
    expect(await eventReasons(problem)).not.toContain('Escalated');

    // Started again on its data, reached at the same address.
    prometheus = await startPrometheus({
      scrapeTargets: [workload.address],
      scrapeInterval: '1s',
      dataDir: join(work, 'prometheus-data'),
    });
    promGate.upstream = prometheus.url;
    await promGate.up();

    const done = await waitFor<ProblemEvent>(
      'problemevent',
      problem,
      phase('Resolved', 'Exhausted', 'Unhandled'),
      60_000,
    );
    expect(done.status?.phase).toBe('Resolved');
    expect(done.status?.attempts?.map((a) => [a.index, a.action, a.result])).toEqual([[1, 'scale', 'pass']]);
    expect(await reboundCommits(s)).toHaveLength(1);
    const reasons = await eventReasons(problem);
    expect(reasons).toEqual(expect.arrayContaining(['Evaluated', 'Resolved']));
    expect(reasons).not.toContain('Escalated');
  });
});
