// Who decides, and when (issue 19), end to end on real parts: kube-apiserver with RBAC and the
// Approval admission policy, git http-backend, helm, Prometheus and `rebound controller` running
// with its ServiceAccount. People are ServiceAccounts with tokens from the API server (TokenRequest):
// their user name and groups are the API server's, so RBAC and the admission policy judge them for
// real. Approvals are made with `rebound approve|reject`, as a person would.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval, ProblemEvent, Project } from '../../src/api/index.ts';
import { kubeconfigYaml } from '../harness/cluster.ts';
import type { GitServer } from '../harness/git-server.ts';
import { laneCluster } from '../harness/lane.ts';
import { freePort } from '../harness/ports.ts';
import { runCommand } from '../harness/process.ts';
import type { LocalPrometheus } from '../harness/prometheus.ts';
import { SAMPLE_SLI, sampleSlo } from '../harness/sample-workload.ts';
import type { SampleWorkload } from '../harness/sample-workload.ts';
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
  condition,
  createNamespace,
  gitSecret,
  hasCondition,
  namespaceObjects,
  openProblem,
  phase,
  startE2eGitServer,
  startScrapedWorkload,
  stopInOrder,
  SCALE_POLICY,
} from './e2e-helpers.ts';

const cluster = laneCluster();
const admin = cluster.kubeconfigPath;

const VALUES = 'replicaCount: 1\nfeatureFlags:\n  EnablePromotion: true\n';

const suffix = (): string => randomBytes(3).toString('hex');
const NAMESPACE = `rules-${suffix()}`;
const SRE = `sre-${suffix()}`;
const DEV = `dev-${suffix()}`;

let git: GitServer;
let prometheus: LocalPrometheus;
let workload: SampleWorkload;
let controller: ControllerProcess | undefined;
let people: string;

const { get, waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller?.process.recentOutput() ?? '',
});

/** A person: a ServiceAccount in `team`'s namespace (group system:serviceaccounts:<team>), with a kubeconfig of their own. */
async function person(team: string, name: string): Promise<string> {
  await kubectl(admin, ['create', 'serviceaccount', name, '-n', team]);
  const token = (await kubectl(admin, ['create', 'token', name, '-n', team, '--duration=1h'])).trim();
  const path = join(people, `${team}-${name}.yaml`);
  await writeFile(
    path,
    kubeconfigYaml({ server: cluster.server, caData: cluster.caData, token, userName: name, namespace: NAMESPACE }),
    { mode: 0o600 },
  );
  return path;
}

/** `rebound approve|reject` as that person; resolves with the exit code and output (never rejects). */
function answer(
  kubeconfig: string,
  verb: 'approve' | 'reject',
  problem: string,
  ...more: string[]
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'rebound.js'), verb, problem, '--kubeconfig', kubeconfig, ...more],
      { timeout: 30_000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, out: `${stdout}${stderr}` });
      },
    );
  });
}

interface Scenario {
  project: string;
  service: string;
  repoDir: string;
}

async function scenario(
  service: string,
  spec: Record<string, unknown> = {},
  files: Record<string, string> = {},
  shipyard?: string,
): Promise<Scenario> {
  const project = `p-${suffix()}`;
  const repo = await createProjectRepo(git, {
    project,
    service,
    stages: ['production'],
    remediationStages: ['production'],
    ...(shipyard ? { shipyard } : {}),
    files: {
      'values.yaml': VALUES,
      'remediation.yaml': SCALE_POLICY,
      'slo.yaml': sampleSlo(700),
      'sli.yaml': SAMPLE_SLI,
      ...files,
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
        ...spec,
      },
    },
  ]);
  await deployService({
    kubeconfigPath: admin,
    repoDir: repo.dir,
    branch: 'production',
    service,
    namespace: `${project}-production`,
  });
  workload.addTarget({ project, stage: 'production', service, namespace: `${project}-production` });
  return { project, service, repoDir: repo.dir };
}

async function problem(s: Scenario, name: string, extra: Record<string, unknown> = {}): Promise<void> {
  await openProblem(admin, { namespace: NAMESPACE, name, project: s.project, service: s.service, extra });
}

async function commits(s: Scenario): Promise<string[]> {
  const { stdout } = await runCommand('git', ['--git-dir', s.repoDir, 'log', '--format=%H %s%n%b%x00', 'production']);
  return stdout
    .split('\0')
    .map((c) => c.trim())
    .filter((c) => c.includes('Rebound-Problem:'));
}

const approvalState =
  (attempt: number, state: string) =>
  (p: ProblemEvent): boolean =>
    p.status?.attempts?.find((a) => a.index === attempt)?.approval?.state === state;

async function approvalsOf(name: string): Promise<Approval[]> {
  const list = JSON.parse(await kubectl(admin, ['get', 'approvals', '-n', NAMESPACE, '-o', 'json'])) as {
    items: Approval[];
  };
  return list.items.filter((a) => a.spec.problem === name);
}

let alice: string;
let bob: string;
let mallory: string;
let eve: string;

beforeAll(async () => {
  await installControllerRbac(admin);
  await kubectl(admin, [
    'apply',
    '--server-side',
    '--force-conflicts',
    '-f',
    join(REPO_ROOT, 'manifests', 'approver-role.yaml'),
  ]);
  git = await startE2eGitServer();
  ({ workload, prometheus } = await startScrapedWorkload(admin));
  await createNamespace(admin, NAMESPACE, [gitSecret(NAMESPACE, git)]);
  await createNamespace(admin, SRE);
  await createNamespace(admin, DEV);
  people = await mkdtemp(join(tmpdir(), 'rebound-people-'));
  // alice and bob (SRE) and mallory (dev) may create Approvals here; eve may not.
  [alice, bob, mallory, eve] = await Promise.all([
    person(SRE, 'alice'),
    person(SRE, 'bob'),
    person(DEV, 'mallory'),
    person(DEV, 'eve'),
  ]);
  await applyObjects(admin, [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'approvers', namespace: NAMESPACE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'rebound-approver' },
      subjects: [
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `system:serviceaccounts:${SRE}` },
        { kind: 'ServiceAccount', name: 'mallory', namespace: DEV },
      ],
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
      '--log-level=debug',
    ],
  });
}, 150_000);

afterAll(async () => {
  await stopInOrder(controller, prometheus, workload, git);
  if (people) await rm(people, { recursive: true, force: true });
});

describe('approvals', () => {
  it('an Approval naming someone else is refused by the API server', async () => {
    const forged = JSON.stringify({
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Approval',
      metadata: { generateName: 'forged-', namespace: NAMESPACE },
      spec: { problem: 'any', attempt: 1, decision: 'Approve', user: `system:serviceaccount:${SRE}:alice` },
    });
    // The policy is effective a moment after it is created (the harness installs it at start).
    const create = (): Promise<string> =>
      kubectl(admin, ['create', '-f', '-'], forged).then(
        () => 'created',
        (err: unknown) => String(err),
      );
    await expect.poll(create, { timeout: 30_000, interval: 500 }).toContain('spec.user must be your own user name');
    expect(await create()).toContain('spec.user must be your own user name');
  });

  it('minApprovals 2 from the SRE group: a dev and an outsider do not count, two SREs approve, the commit says who', async () => {
    const s = await scenario('carts', {
      stages: [{ name: 'production', remediation: 'manual', apply: 'helm' }],
      approval: { minApprovals: 2, groups: [`system:serviceaccounts:${SRE}`] },
    });
    await problem(s, 'two-approvers');
    const waiting = await waitFor<ProblemEvent>('problemevent', 'two-approvers', phase('AwaitingApproval'), 90_000);
    const request = waiting.status?.attempts?.[0]?.approval;
    expect(request).toMatchObject({
      state: 'Pending',
      minApprovals: 2,
      groups: [`system:serviceaccounts:${SRE}`],
      file: 'carts/values.yaml',
    });
    expect(request?.diff).toContain('-replicaCount: 1\n+replicaCount: 2');
    expect(condition(waiting, 'Reconciling')).toMatchObject({ status: 'True', reason: 'AwaitingApproval' });
    expect(await commits(s)).toHaveLength(0);

    // Not allowed by RBAC: refused, recorded nowhere.
    const refused = await answer(eve, 'approve', 'two-approvers');
    expect(refused.code, refused.out).toBe(1);
    expect(refused.out).toMatch(/forbidden/i);
    expect(await approvalsOf('two-approvers')).toEqual([]);

    // Allowed by RBAC but outside the approving group: made, not counted.
    expect((await answer(mallory, 'approve', 'two-approvers')).code).toBe(0);
    const one = await answer(alice, 'approve', 'two-approvers', '--message', 'looks right');
    expect(one.code, one.out).toBe(0);
    const counted = await waitFor<ProblemEvent>(
      'problemevent',
      'two-approvers',
      (p) =>
        (p.status?.attempts?.[0]?.approval?.approvers ?? []).length === 1 &&
        (p.status?.attempts?.[0]?.approval?.notCounted ?? []).length === 1,
    );
    expect(counted.status?.phase).toBe('AwaitingApproval');
    expect(counted.status?.attempts?.[0]?.approval?.approvers?.[0]).toMatchObject({
      user: `system:serviceaccount:${SRE}:alice`,
      decision: 'Approve',
      message: 'looks right',
    });
    expect(counted.status?.attempts?.[0]?.approval?.notCounted?.[0]?.why).toContain('in none of the approving groups');
    expect(await commits(s)).toHaveLength(0);

    expect((await answer(bob, 'approve', 'two-approvers')).code).toBe(0);
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'two-approvers',
      phase('Resolved', 'Exhausted', 'Unhandled'),
      90_000,
    );
    expect(done.status?.phase).toBe('Resolved');
    expect(done.status?.attempts?.[0]?.approval?.state).toBe('Approved');
    const [commit] = await commits(s);
    expect(commit).toContain(
      `Rebound-Approved-By: system:serviceaccount:${SRE}:alice, system:serviceaccount:${SRE}:bob`,
    );

    // A finished problem cannot be answered.
    const late = await answer(alice, 'approve', 'two-approvers');
    expect(late.code).toBe(1);
    expect(late.out).toContain('is finished (Resolved)');
    const unknown = await answer(alice, 'approve', 'no-such-problem');
    expect(unknown.out).toContain('does not exist');
  });

  it("the shipyard's approval task before the action waits as a manual stage does; an approval carries it out", async () => {
    const shipyard = `apiVersion: spec.keptn.sh/0.2.2
kind: Shipyard
metadata:
  name: gated
spec:
  stages:
    - name: production
      sequences:
        - name: remediation
          tasks:
            - name: get-action
            - name: approval
              properties:
                pass: manual
                warning: automatic
            - name: action
            - name: evaluation
`;
    const s = await scenario('carts', {}, {}, shipyard);
    // The Project controller records the sequence the loop follows: wait for it before the problem.
    await waitFor<Project>('project', s.project, (p) =>
      (p.status?.stages ?? []).some((st) => st.remediationTasks?.some((t) => t.name === 'approval')),
    );
    await problem(s, 'gated');
    const waiting = await waitFor<ProblemEvent>('problemevent', 'gated', phase('AwaitingApproval'), 90_000);
    expect(waiting.status?.attempts?.[0]?.approval).toMatchObject({
      state: 'Pending',
      why: 'the remediation sequence of stage production has an approval task (pass: manual)',
    });
    expect(waiting.status?.attempts?.[0]?.approval?.diff).toContain('+replicaCount: 2');
    // kubectl's wide view shows the latest attempt's approval and how many must say yes.
    const [header, row] = (await kubectl(admin, ['get', 'problemevent', 'gated', '-n', NAMESPACE, '-o', 'wide'])).split(
      '\n',
    );
    expect(header).toMatch(/WAITING-FOR\s+APPROVAL\s+NEEDED\s+REVERT\s+REVERT-AT\s+AGE$/);
    // No revert is planned: its two columns are empty.
    expect(row).toMatch(/AwaitingApproval\s+Pending\s+1\s+\S+$/);
    expect(await commits(s)).toHaveLength(0);
    expect((await answer(alice, 'approve', 'gated')).code).toBe(0);
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'gated',
      phase('Resolved', 'Exhausted', 'Unhandled'),
      90_000,
    );
    expect(done.status?.phase).toBe('Resolved');
    const [commit] = await commits(s);
    expect(commit).toContain(`Rebound-Approved-By: system:serviceaccount:${SRE}:alice`);
  });

  it("a Remediation entry's approval: required holds an automated stage's action until approved", async () => {
    const s = await scenario('carts');
    await applyObjects(admin, [
      {
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'Remediation',
        metadata: { name: `carts-${s.project}`, namespace: NAMESPACE },
        spec: {
          project: s.project,
          stage: 'production',
          service: 'carts',
          remediations: [
            {
              problemType: 'Response time degradation',
              actionsOnOpen: [{ name: 'Scale up', action: 'scale', value: '+1', approval: 'required' }],
            },
          ],
        },
      },
    ]);
    await problem(s, 'entry-gated');
    const waiting = await waitFor<ProblemEvent>('problemevent', 'entry-gated', phase('AwaitingApproval'), 90_000);
    expect(waiting.status?.attempts?.[0]?.approval).toMatchObject({
      state: 'Pending',
      why: 'action 1 of the policy requires approval',
      minApprovals: 1,
    });
    expect(await commits(s)).toHaveLength(0);
    expect((await answer(bob, 'approve', 'entry-gated')).code).toBe(0);
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'entry-gated',
      phase('Resolved', 'Exhausted', 'Unhandled'),
      90_000,
    );
    expect(done.status?.phase).toBe('Resolved');
    const [commit] = await commits(s);
    expect(commit).toContain(`Rebound-Approved-By: system:serviceaccount:${SRE}:bob`);
  });

  it('a rejection ends the problem and commits nothing', async () => {
    const s = await scenario('carts', { stages: [{ name: 'production', remediation: 'manual', apply: 'helm' }] });
    await problem(s, 'rejected');
    await waitFor<ProblemEvent>('problemevent', 'rejected', phase('AwaitingApproval'), 90_000);
    expect((await answer(bob, 'reject', 'rejected', '-m', 'not during the sale')).code).toBe(0);
    const done = await waitFor<ProblemEvent>('problemevent', 'rejected', phase('Unhandled'));
    expect(condition(done, 'Stalled')).toMatchObject({ status: 'True', reason: 'ApprovalRejected' });
    expect(condition(done, 'Ready')?.message).toContain('not during the sale');
    expect(done.status?.attempts?.[0]?.approval?.state).toBe('Rejected');
    expect(await commits(s)).toHaveLength(0);
  });

  it('an approval nobody gives in time times out: nothing is committed', async () => {
    const s = await scenario(
      'carts',
      { approval: { timeout: '3s' } },
      {
        'remediation.yaml': SCALE_POLICY.replace(
          '          value: "+1"\n',
          '          value: "+1"\n          approval: required\n',
        ),
      },
    );
    await problem(s, 'unanswered');
    await waitFor<ProblemEvent>('problemevent', 'unanswered', approvalState(1, 'Pending'), 90_000);
    const done = await waitFor<ProblemEvent>('problemevent', 'unanswered', phase('Unhandled'));
    expect(condition(done, 'Ready')).toMatchObject({ status: 'False', reason: 'ApprovalTimedOut' });
    expect(done.status?.attempts?.[0]?.approval?.state).toBe('TimedOut');
    expect(await commits(s)).toHaveLength(0);
  });
});

describe('deny windows, budgets and the circuit breaker', () => {
  const always = [{ name: 'freeze', schedule: '* * * * *', duration: '1h', timeZone: 'Europe/Berlin' }];

  it('a deny window holds an action back; a policy entry breaks the glass for a critical problem', async () => {
    const s = await scenario('carts', { windows: always });
    await applyObjects(admin, [
      {
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'Remediation',
        metadata: { name: `carts-${s.project}`, namespace: NAMESPACE },
        spec: {
          project: s.project,
          stage: 'production',
          service: 'carts',
          remediations: [
            {
              problemType: 'Response time degradation',
              breakGlass: { severities: ['critical'] },
              actionsOnOpen: [{ name: 'Scale up', action: 'scale', value: '+1' }],
            },
          ],
        },
      },
    ]);
    await problem(s, 'frozen', { details: { labels: { severity: 'warning' } } });
    const held = await waitFor<ProblemEvent>(
      'problemevent',
      'frozen',
      hasCondition('Reconciling', 'True', 'DenyWindow'),
    );
    expect(condition(held, 'Reconciling')?.message).toMatch(
      /deny window freeze \(since .*, until .*\) holds automated actions back/,
    );
    expect(await commits(s)).toHaveLength(0);
    // The warning one is still held (suspend it so the service's turn is free for the critical one).
    await kubectl(admin, ['annotate', 'problemevent', 'frozen', '-n', NAMESPACE, 'rebound.dev/suspend=true']);

    await problem(s, 'critical', { details: { labels: { severity: 'critical' } } });
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'critical',
      phase('Resolved', 'Exhausted', 'Unhandled'),
      90_000,
    );
    expect(done.status?.phase).toBe('Resolved');
    expect(done.status?.attempts?.[0]?.breakGlass).toContain('break-glass by entry "Response time degradation"');
    const [commit] = await commits(s);
    expect(commit).toMatch(/Rebound-Break-Glass: deny window freeze .* \(severity critical\)/);
    const events = await kubectl(admin, [
      'get',
      'events',
      '-n',
      NAMESPACE,
      '--field-selector',
      'involvedObject.name=critical',
      '-o',
      'jsonpath={range .items[*]}{.reason}{"\\n"}{end}',
    ]);
    expect(events.split('\n')).toContain('BreakGlass');
  });

  it('a malformed window holds everything back with a condition naming it', async () => {
    const s = await scenario('carts', { windows: [{ name: 'typo', schedule: '0 25 * * *', duration: '1h' }] });
    await problem(s, 'typo');
    const held = await waitFor<ProblemEvent>(
      'problemevent',
      'typo',
      hasCondition('Reconciling', 'True', 'WindowInvalid'),
    );
    expect(condition(held, 'Reconciling')?.message).toContain('deny window typo: schedule: hour 25 is outside 0-23');
    await kubectl(admin, ['delete', 'problemevent', 'typo', '-n', NAMESPACE]);
  });

  it('the Project budget holds a second remediation back until the first finishes', async () => {
    const s = await scenario('carts', { budgets: { maxInFlight: 1 } });
    await applyObjects(admin, [
      {
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'Remediation',
        metadata: { name: `slow-${s.project}`, namespace: NAMESPACE },
        spec: {
          project: s.project,
          stage: 'production',
          service: 'carts',
          evaluation: { wait: '10m' },
          remediations: [
            {
              problemType: 'Response time degradation',
              actionsOnOpen: [{ name: 'Scale up', action: 'scale', value: '+1' }],
            },
          ],
        },
      },
    ]);
    await problem(s, 'budget-first');
    await waitFor<ProblemEvent>('problemevent', 'budget-first', phase('Evaluating'), 90_000);
    await problem({ ...s, service: 'orders' }, 'budget-second');
    const held = await waitFor<ProblemEvent>(
      'problemevent',
      'budget-second',
      hasCondition('Reconciling', 'True', 'InFlightLimitReached'),
    );
    expect(condition(held, 'Reconciling')?.message).toContain(
      `budgets.maxInFlight: 1 of 1 remediation(s) in flight in Project ${s.project}`,
    );
    expect(held.status?.attempts ?? []).toHaveLength(0);
    await kubectl(admin, [
      'patch',
      'problemevent',
      'budget-first',
      '-n',
      NAMESPACE,
      '--type=merge',
      '-p',
      '{"spec":{"state":"RESOLVED"}}',
    ]);
    // Freed at once (a finished problem wakes its Project): the held one goes on to its policy, which
    // this repository does not have for orders.
    const freed = await waitFor<ProblemEvent>('problemevent', 'budget-second', phase('Unhandled'));
    expect(condition(freed, 'Ready')?.reason).toBe('NoPolicy');
  });

  it('the circuit breaker opens after an Exhausted problem and closes when a person resets it', async () => {
    const s = await scenario(
      'carts',
      { circuitBreaker: { maxExhausted: 1, window: '1h' } },
      { 'slo.yaml': sampleSlo(100) },
    );
    await problem(s, 'hopeless');
    await waitFor<ProblemEvent>('problemevent', 'hopeless', phase('Exhausted'), 90_000);
    await problem(s, 'after-trip');
    const held = await waitFor<ProblemEvent>(
      'problemevent',
      'after-trip',
      hasCondition('Reconciling', 'True', 'CircuitOpen'),
    );
    expect(condition(held, 'Reconciling')?.message).toContain('no automatic action until a person resets it');
    await kubectl(admin, [
      'annotate',
      'project',
      s.project,
      '-n',
      NAMESPACE,
      `rebound.dev/circuit-reset=${new Date().toISOString()}`,
    ]);
    const moving = await waitFor<ProblemEvent>(
      'problemevent',
      'after-trip',
      (p) => (p.status?.attempts ?? []).length > 0,
      90_000,
    );
    expect(moving.status?.attempts?.[0]?.action).toBe('scale');
    expect((await get<ProblemEvent>('problemevent', 'hopeless')).status?.phase).toBe('Exhausted');
  });
});
