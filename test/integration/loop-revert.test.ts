// Undo after resolve (issue 19, item 4) end to end on real parts: kube-apiserver, git http-backend,
// helm, Prometheus scraping the sample workload, and `rebound controller` with its ServiceAccount.
// A Remediation entry with revertAfter: the problem resolves (scale 1 → 2), stays Reverting for the
// period, then Rebound commits the revert (Rebound-Reverts trailer), applies it with helm and
// evaluates it. With a lenient SLO the service stays healthy at one replica: Reverted. With a strict
// one it does not: the remediated replicas are committed and applied again, and a person is told.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemEvent } from '../../src/api/index.ts';
import type { GitServer } from '../harness/git-server.ts';
import { laneCluster } from '../harness/lane.ts';
import { Recorder } from '../harness/notification-receivers.ts';
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
  condition,
  createNamespace,
  gitSecret,
  namespaceObjects,
  openProblem,
  phase,
  push,
  startE2eGitServer,
  startScrapedWorkload,
  stopInOrder,
} from './e2e-helpers.ts';

const cluster = laneCluster();
const admin = cluster.kubeconfigPath;

const suffix = (): string => randomBytes(3).toString('hex');
const NAMESPACE = `revert-${suffix()}`;

let git: GitServer;
let prometheus: LocalPrometheus;
let workload: SampleWorkload;
let controller: ControllerProcess | undefined;
/** A webhook Notification's receiver, routed the `reverted` step only: the person who is told. */
const told = new Recorder();

/** The `reverted` notifications the receiver got for a problem: severity and summary. */
function reverted(problem: string): { severity: string; summary: string }[] {
  return told.accepted
    .map((r) => r.json as { step: string; severity: string; summary: string; problem: { name: string } })
    .filter((b) => b.step === 'reverted' && b.problem.name === problem)
    .map((b) => ({ severity: b.severity, summary: b.summary }));
}

const { waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller?.process.recentOutput() ?? '',
});

interface Scenario {
  project: string;
  repoDir: string;
}

/**
 * A project whose carts service answers in 900 ms at one replica and 636 ms at two (the sample
 * workload, promotion on); `objectiveMs` decides whether one replica is healthy.
 */
async function scenario(objectiveMs: number, revertAfter = '5s'): Promise<Scenario> {
  const project = `p-${suffix()}`;
  const repo = await createProjectRepo(git, {
    project,
    service: 'carts',
    stages: ['production'],
    remediationStages: ['production'],
    files: {
      'values.yaml': 'replicaCount: 1\nfeatureFlags:\n  EnablePromotion: true\n',
      'slo.yaml': sampleSlo(objectiveMs),
      'sli.yaml': SAMPLE_SLI,
    },
  });
  await applyObjects(admin, [
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Project',
      metadata: { name: project, namespace: NAMESPACE },
      spec: {
        git: { url: repo.url, secretRef: { name: 'git' } },
        stages: [{ name: 'production', remediation: 'automated', apply: 'helm' }],
      },
    },
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Remediation',
      metadata: { name: `${project}-carts`, namespace: NAMESPACE },
      spec: {
        project,
        stage: 'production',
        service: 'carts',
        evaluation: { wait: '4s' },
        remediations: [
          {
            problemType: 'Response time degradation',
            actionsOnOpen: [{ name: 'Scale up', action: 'scale', value: '+1' }],
            revertAfter,
          },
        ],
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
  return { project, repoDir: repo.dir };
}

/** Rebound's commits on the stage branch, newest first: subject and trailers. */
async function commits(s: Scenario): Promise<string[]> {
  const { stdout } = await runCommand('git', ['--git-dir', s.repoDir, 'log', '--format=%H %s%n%b%x00', 'production']);
  return stdout
    .split('\0')
    .map((c) => c.trim())
    .filter((c) => c.includes('Rebound-Problem:'));
}

async function replicas(s: Scenario): Promise<number> {
  const out = await kubectl(admin, [
    'get',
    'deployment',
    'carts',
    '-n',
    `${s.project}-production`,
    '-o',
    'jsonpath={.spec.replicas}',
  ]);
  return Number(out.trim());
}

async function events(name: string): Promise<string> {
  return kubectl(admin, [
    'get',
    'events',
    '-n',
    NAMESPACE,
    '--field-selector',
    `involvedObject.name=${name}`,
    '-o',
    'jsonpath={range .items[*]}{.type} {.reason}: {.message}{"\\n"}{end}',
  ]);
}

beforeAll(async () => {
  await installControllerRbac(admin);
  git = await startE2eGitServer();
  ({ workload, prometheus } = await startScrapedWorkload(admin));
  await told.start();
  await createNamespace(admin, NAMESPACE, [gitSecret(NAMESPACE, git)]);
  await applyObjects(admin, [
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Notification',
      metadata: { name: 'reverts', namespace: NAMESPACE },
      spec: { sink: { type: 'webhook', url: `${told.url}/hook` }, steps: ['reverted'] },
    },
  ]);
  controller = await startControllerProcess({
    kubeconfigPath: cluster.controllerKubeconfigPath,
    prometheusUrl: prometheus.url,
    metricsPort: await freePort(),
    args: [
      '--namespace',
      NAMESPACE,
      '--evaluation-wait=4s',
      '--turn-poll=500ms',
      '--evaluation-retry=1s',
      '--stalled-recheck=5s',
      '--notification-allowed-hosts=127.0.0.1',
      '--log-level=debug',
    ],
  });
}, 150_000);

afterAll(async () => {
  await stopInOrder(controller, prometheus, workload, git, told);
});

describe('undo after resolve', () => {
  it('reverts the scale once the problem stayed resolved, applies and evaluates it: Reverted', async () => {
    const s = await scenario(1000);
    await openProblem(admin, { namespace: NAMESPACE, name: 'revert-passes', project: s.project });
    const resolved = await waitFor<ProblemEvent>(
      'problemevent',
      'revert-passes',
      phase('Reverting', 'Reverted'),
      90_000,
    );
    expect(resolved.status?.attempts?.[0]).toMatchObject({
      result: 'pass',
      edits: [{ key: 'replicaCount', from: '1', to: '2' }],
    });
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'revert-passes',
      phase('Reverted', 'Resolved', 'Exhausted'),
      90_000,
    );
    expect(done.status?.phase, JSON.stringify(done.status?.revert)).toBe('Reverted');
    const attemptCommit = done.status?.attempts?.[0]?.commit ?? '';
    expect(done.status?.revert).toMatchObject({
      state: 'Reverted',
      result: 'pass',
      reverts: [attemptCommit],
      edits: [{ key: 'replicaCount', from: '2', to: '1' }],
    });
    expect(condition(done, 'Reverted')).toMatchObject({ status: 'True', reason: 'Reverted' });
    // Applied is not live: the revert waited for its rollout as the attempt did, and was evaluated from then.
    expect(done.status?.attempts?.[0]?.rollout?.state).toBe('Complete');
    expect(done.status?.revert?.rollout?.state).toBe('Complete');
    expect(done.status?.revert?.liveTime).toBeDefined();
    const [revert, action] = await commits(s);
    expect(action).toContain(attemptCommit);
    expect(revert).toContain(`${done.status?.revert?.commit ?? 'missing'} rebound: revert replicaCount 2 → 1`);
    expect(revert).toContain(`Rebound-Reverts: ${attemptCommit}`);
    expect(revert).toContain('Rebound-Attempt: 2');
    expect(await replicas(s)).toBe(1);
    await expect.poll(() => events('revert-passes'), { timeout: 30_000 }).toContain('Normal Reverted');
    await expect.poll(() => reverted('revert-passes'), { timeout: 30_000 }).toHaveLength(1);
    expect(reverted('revert-passes')[0]?.severity).toBe('info');
  });

  it('restores the remediated replicas when the revert fails its evaluation, and says so', async () => {
    const s = await scenario(700);
    await openProblem(admin, { namespace: NAMESPACE, name: 'revert-fails', project: s.project });
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'revert-fails',
      (p) => p.status?.revert?.finishedTime !== undefined || p.status?.phase === 'Exhausted',
      150_000,
    );
    expect(done.status?.phase, JSON.stringify(done.status?.revert)).toBe('Resolved');
    expect(done.status?.revert).toMatchObject({ state: 'Restored', result: 'fail' });
    expect(condition(done, 'Reverted')).toMatchObject({ status: 'False', reason: 'RevertFailed' });
    expect(condition(done, 'Ready')?.status).toBe('True');
    const [restore, revert] = await commits(s);
    expect(restore).toContain(`${done.status?.revert?.restoreCommit ?? 'missing'} rebound: restore replicaCount 1 → 2`);
    expect(restore).toContain(`Rebound-Reverts: ${done.status?.revert?.commit ?? 'missing'}`);
    expect(revert).toContain('rebound: revert replicaCount 2 → 1');
    expect(await replicas(s)).toBe(2);
    await expect.poll(() => events('revert-fails'), { timeout: 30_000 }).toContain('Warning RevertFailed');
    // A person is told, once.
    await expect.poll(() => reverted('revert-fails'), { timeout: 30_000 }).toHaveLength(1);
    expect(reverted('revert-fails')[0]).toMatchObject({ severity: 'error' });
    expect(reverted('revert-fails')[0]?.summary).toContain('the remediated values were restored');
  });

  it('leaves replicas a person set after Rebound, naming their commit and author, and commits nothing', async () => {
    // revertAfter leaves the person's push (right after Rebound's commit) well ahead of the revert.
    const s = await scenario(1000, '20s');
    await openProblem(admin, { namespace: NAMESPACE, name: 'revert-conflicts', project: s.project });
    await waitFor<ProblemEvent>('problemevent', 'revert-conflicts', (p) => !!p.status?.attempts?.[0]?.commit, 90_000);
    await push(
      s.repoDir,
      'production',
      { 'carts/values.yaml': 'replicaCount: 3\nfeatureFlags:\n  EnablePromotion: true\n' },
      'carts: three replicas for the sale',
    );
    const theirs = (await runCommand('git', ['--git-dir', s.repoDir, 'rev-parse', 'production'])).stdout.trim();
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'revert-conflicts',
      (p) => p.status?.revert?.finishedTime !== undefined || p.status?.phase === 'Exhausted',
      120_000,
    );
    expect(done.status?.phase, JSON.stringify(done.status?.revert)).toBe('Resolved');
    expect(done.status?.revert).toMatchObject({
      state: 'Conflicted',
      conflicts: [
        { key: 'replicaCount', wrote: '2', found: '3', commit: theirs, author: 'Person <person@example.com>' },
      ],
    });
    expect(condition(done, 'Reverted')).toMatchObject({ status: 'False', reason: 'RevertConflict' });
    expect(condition(done, 'Reverted')?.message).toContain(
      `since ${theirs.slice(0, 12)} by Person <person@example.com>`,
    );
    await expect.poll(() => reverted('revert-conflicts'), { timeout: 30_000 }).toHaveLength(1);
    expect(reverted('revert-conflicts')[0]?.severity).toBe('warning');
    // Only the action's commit is Rebound's; the person's value stays.
    expect(await commits(s)).toHaveLength(1);
    const head = await runCommand('git', ['--git-dir', s.repoDir, 'rev-parse', 'production']);
    expect(head.stdout.trim()).toBe(theirs);
  });
});
