// Bad input end to end on the real parts (kube-apiserver + etcd, git http-backend, helm, Prometheus
// scraping a workload that follows the live Deployment): every fault ends in a condition with a
// clear reason and message, the loop keeps running, and no problem is lost. Also the Project and
// Remediation controllers, a limit holding an action back, and the `kubernetes` applier.
//
// The controller watches only this file's namespace, so it never acts on another file's objects.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemEvent, Project, Remediation } from '../../src/api/index.ts';
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
  condition,
  createNamespace,
  gitSecret,
  hasCondition,
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
const NAMESPACE = `bad-input-${suffix()}`;

const VALUES = `# carts values
replicaCount: 1
image:
  repository: docker.io/keptnexamples/carts
  tag: "0.13.1"
featureFlags:
  EnablePromotion: true
`;
function policy(actions: [string, string][]): string {
  return `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
metadata:
  name: carts-remediation
spec:
  remediations:
    - problemType: Response time degradation
      actionsOnOpen:
${actions.map(([action, value], i) => `        - action: ${action}\n          name: step ${i + 1}\n          value: "${value}"`).join('\n')}
`;
}
const ESCALATING = policy([
  ['scale', '+1'],
  ['featuretoggle', 'EnablePromotion:off'],
]);

let git: GitServer;
let prometheus: LocalPrometheus;
let workload: SampleWorkload;
let controller: ControllerProcess;
let closedPortUrl: string;

interface Scenario {
  project: string;
  service: string;
  repoDir: string;
  url: string;
}

/** A project repository, its Project and Secret in this file's namespace; the service deployed unless told not to. */
async function scenario(options: {
  files: Record<string, string>;
  apply?: 'helm' | 'kubernetes';
  url?: string;
  poll?: string;
  deploy?: boolean;
}): Promise<Scenario> {
  const project = `p-${suffix()}`;
  const service = 'carts';
  const repo = await createProjectRepo(git, {
    project,
    service,
    stages: ['production'],
    remediationStages: ['production'],
    files: options.files,
  });
  await applyObjects(admin, [projectObject(project, options.url ?? repo.url, options.apply ?? 'helm', options.poll)]);
  if (options.deploy !== false) {
    await deployService({
      kubeconfigPath: admin,
      repoDir: repo.dir,
      branch: 'production',
      service,
      namespace: `${project}-production`,
    });
    workload.addTarget({ project, stage: 'production', service, namespace: `${project}-production` });
  }
  return { project, service, repoDir: repo.dir, url: repo.url };
}

function projectObject(
  project: string,
  url: string,
  apply: 'helm' | 'kubernetes',
  poll = '1s',
  secret = 'git',
): object {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Project',
    metadata: { name: project, namespace: NAMESPACE },
    spec: {
      git: { url, secretRef: { name: secret }, poll },
      stages: [{ name: 'production', remediation: 'automated', apply }],
    },
  };
}

async function createProblem(
  project: string,
  name: string,
  fields: { stage?: string; service?: string; problemTitle?: string } = {},
): Promise<void> {
  await openProblem(admin, { namespace: NAMESPACE, name, project, ...fields });
}

const { waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller.process.recentOutput(),
});

async function replicas(namespace: string): Promise<number> {
  return Number(
    await kubectl(admin, ['get', 'deployment', 'carts', '-n', namespace, '-o', 'jsonpath={.spec.replicas}']),
  );
}

beforeAll(async () => {
  await installControllerRbac(admin);
  git = await startE2eGitServer();
  ({ workload, prometheus } = await startScrapedWorkload(admin));
  closedPortUrl = `http://127.0.0.1:${await freePort()}/nothing-listens-here.git`;
  await createNamespace(admin, NAMESPACE, [gitSecret(NAMESPACE, git)]);
  controller = await startControllerProcess({
    kubeconfigPath: cluster.controllerKubeconfigPath,
    prometheusUrl: prometheus.url,
    metricsPort: await freePort(),
    args: [
      '--namespace',
      NAMESPACE,
      '--no-leader-elect',
      '--evaluation-wait=4s',
      '--turn-poll=500ms',
      '--evaluation-retry=1s',
      '--stalled-recheck=3s',
      '--log-level=debug',
    ],
  });
}, 180_000);

afterAll(() => stopInOrder(controller, prometheus, workload, git));

describe('Project and Remediation controllers', () => {
  it('report Git access, stage heads and the validity of a Remediation', async () => {
    const s = await scenario({ files: { 'values.yaml': VALUES, 'remediation.yaml': ESCALATING }, deploy: false });
    const ready = await waitFor<Project>('project', s.project, hasCondition('Ready', 'True', 'Succeeded'));
    expect(condition(ready, 'GitReachable')).toMatchObject({
      status: 'True',
      reason: 'GitFetched',
      observedGeneration: ready.metadata.generation,
    });
    expect(condition(ready, 'ConfigValid')).toMatchObject({ status: 'True', reason: 'ConfigValid' });
    const { stdout: head } = await runCommand('git', ['--git-dir', s.repoDir, 'rev-parse', 'production']);
    expect(ready.status?.stages).toEqual([
      {
        name: 'production',
        branch: 'production',
        commit: head.trim(),
        namespace: `${s.project}-production`,
        remediation: 'automated',
        apply: 'helm',
        remediationTasks: [{ name: 'get-action' }, { name: 'action' }, { name: 'evaluation' }],
      },
    ]);

    // Three ways a Project cannot reach its repository.
    const unreachable = `p-${suffix()}`;
    const noSecret = `p-${suffix()}`;
    const badPassword = `p-${suffix()}`;
    await applyObjects(admin, [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'wrong', namespace: NAMESPACE },
        stringData: { username: git.username, token: 'not-the-token' },
      },
      projectObject(unreachable, closedPortUrl, 'helm'),
      projectObject(noSecret, s.url, 'helm', '1s', 'missing'),
      projectObject(badPassword, s.url, 'helm', '1s', 'wrong'),
    ]);
    const down = await waitFor<Project>(
      'project',
      unreachable,
      hasCondition('GitReachable', 'False', 'GitUnreachable'),
    );
    expect(condition(down, 'GitReachable')?.message).toContain('127.0.0.1');
    expect(condition(down, 'Ready')).toMatchObject({ status: 'False', reason: 'GitUnreachable' });
    expect(condition(down, 'Stalled')).toMatchObject({ status: 'False' }); // retried on the poll interval
    const missing = await waitFor<Project>(
      'project',
      noSecret,
      hasCondition('GitReachable', 'False', 'SecretNotFound'),
    );
    expect(condition(missing, 'Stalled')).toMatchObject({ status: 'True', reason: 'SecretNotFound' });
    const refused = await waitFor<Project>(
      'project',
      badPassword,
      hasCondition('GitReachable', 'False', 'GitAuthFailed'),
    );
    expect(JSON.stringify(refused.status)).not.toContain('not-the-token');

    // Remediations: a good one, and one for each fault.
    const remediation = (name: string, spec: Partial<Remediation['spec']>): object => ({
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Remediation',
      metadata: { name, namespace: NAMESPACE },
      spec: {
        project: s.project,
        stage: 'production',
        service: 'carts',
        remediations: [{ problemType: 'default', actionsOnOpen: [{ name: 'up', action: 'scale', value: '+1' }] }],
        ...spec,
      },
    });
    await applyObjects(admin, [
      remediation('good', {}),
      remediation('no-project', { project: 'nowhere' }),
      remediation('no-stage', { stage: 'staging' }),
      remediation('bad-action', {
        service: 'orders',
        remediations: [
          { problemType: 'default', actionsOnOpen: [{ name: 'reboot', action: 'restart', value: 'now' }] },
        ],
      }),
    ]);
    const good = await waitFor<Remediation>('remediation', 'good', hasCondition('Ready', 'True', 'Succeeded'));
    expect(condition(good, 'ConfigValid')).toMatchObject({
      status: 'True',
      observedGeneration: good.metadata.generation,
    });
    const noProject = await waitFor<Remediation>(
      'remediation',
      'no-project',
      hasCondition('Ready', 'False', 'ProjectNotFound'),
    );
    expect(condition(noProject, 'Ready')?.message).toBe(`Project ${NAMESPACE}/nowhere does not exist`);
    const noStage = await waitFor<Remediation>(
      'remediation',
      'no-stage',
      hasCondition('Ready', 'False', 'StageNotFound'),
    );
    expect(condition(noStage, 'Ready')?.message).toBe(`Project ${s.project} has no stage "staging"`);
    const badAction = await waitFor<Remediation>(
      'remediation',
      'bad-action',
      hasCondition('ConfigValid', 'False', 'RemediationInvalid'),
    );
    expect(condition(badAction, 'ConfigValid')?.message).toContain(
      'remediations[0].actionsOnOpen[0]: unknown action "restart"',
    );
    await kubectl(admin, ['delete', 'remediation', 'good', 'no-project', 'no-stage', 'bad-action', '-n', NAMESPACE]);
  });
});

describe('bad input to the loop', () => {
  it('a problem for an unknown project, stage or service ends in a condition that names it', async () => {
    const s = await scenario({ files: { 'values.yaml': VALUES, 'remediation.yaml': ESCALATING }, deploy: false });
    await createProblem('nowhere', 'unknown-project');
    await createProblem(s.project, 'unknown-stage', { stage: 'staging' });
    await createProblem(s.project, 'unknown-service', { service: 'ghost' });
    const noProject = await waitFor<ProblemEvent>(
      'problemevent',
      'unknown-project',
      hasCondition('Stalled', 'True', 'ProjectNotFound'),
    );
    expect(condition(noProject, 'Stalled')?.message).toBe(`Project ${NAMESPACE}/nowhere does not exist`);
    expect(noProject.status?.phase).toBe('Pending');
    const noStage = await waitFor<ProblemEvent>(
      'problemevent',
      'unknown-stage',
      hasCondition('Stalled', 'True', 'StageNotFound'),
    );
    expect(condition(noStage, 'Stalled')?.message).toBe(`Project ${s.project} has no stage "staging"`);
    const noService = await waitFor<ProblemEvent>('problemevent', 'unknown-service', phase('Unhandled'));
    expect(condition(noService, 'Ready')).toMatchObject({ status: 'False', reason: 'NoPolicy' });
    expect(condition(noService, 'Ready')?.message).toContain('ghost/remediation.yaml');

    // Not lost: once the Project exists, the stalled problem goes on (its first action is committed).
    await applyObjects(admin, [projectObject('nowhere', s.url, 'kubernetes')]);
    const committed = await waitFor<ProblemEvent>(
      'problemevent',
      'unknown-project',
      (p) => (p.status?.attempts?.length ?? 0) > 0 || p.status?.phase === 'Unhandled',
    );
    expect(committed.status?.attempts?.[0]).toMatchObject({
      index: 1,
      action: 'scale',
      value: '+1',
      branch: 'production',
    });
    await kubectl(admin, ['delete', 'problemevent', 'unknown-project', 'unknown-stage', '-n', NAMESPACE]);
  });

  it('a values.yaml without the key the action needs stalls with the file and key named, and commits nothing', async () => {
    const s = await scenario({
      files: { 'values.yaml': 'image:\n  tag: "0.13.1"\n', 'remediation.yaml': ESCALATING },
      deploy: false,
    });
    await createProblem(s.project, 'no-replica-key');
    const stalled = await waitFor<ProblemEvent>(
      'problemevent',
      'no-replica-key',
      hasCondition('Stalled', 'True', 'ValuesFileInvalid'),
    );
    expect(condition(stalled, 'Stalled')?.message).toMatch(/carts\/values\.yaml/);
    expect(condition(stalled, 'Stalled')?.message).toContain('replicaCount');
    expect(stalled.status?.attempts ?? []).toHaveLength(0);
    const { stdout } = await runCommand('git', ['--git-dir', s.repoDir, 'log', '--format=%s', 'production']);
    expect(stdout).not.toContain('rebound:');
  });

  it("a chart that does not render stalls with Helm's error in the condition", async () => {
    const s = await scenario({
      files: {
        'values.yaml': VALUES,
        'remediation.yaml': ESCALATING,
        'slo.yaml': sampleSlo(700),
        'sli.yaml': SAMPLE_SLI,
      },
    });
    await push(
      s.repoDir,
      'production',
      { 'carts/chart/templates/broken.yaml': 'value: {{ .Values.nothing.here }}\n' },
      'a template that cannot render',
    );
    await createProblem(s.project, 'helm-fails');
    const stalled = await waitFor<ProblemEvent>(
      'problemevent',
      'helm-fails',
      hasCondition('Stalled', 'True', 'ApplyFailed'),
    );
    expect(condition(stalled, 'Stalled')?.message).toContain('nil pointer evaluating');
    // kstatus: stalled after the commit, with no stale Reconciling (ActionCommitted) beside it.
    expect(condition(stalled, 'Reconciling')).toBeUndefined();
    expect(condition(stalled, 'Ready')).toMatchObject({ status: 'False', reason: 'ApplyFailed' });
    expect(stalled.status?.attempts?.[0]).toMatchObject({ index: 1, action: 'scale' });
    expect(stalled.status?.attempts?.[0]?.appliedTime).toBeUndefined();
    expect(await replicas(`${s.project}-production`)).toBe(1);
    await kubectl(admin, ['delete', 'problemevent', 'helm-fails', '-n', NAMESPACE]);
  });

  it('an unreachable Git server is retried, never lost; the kubernetes applier scales and flips the flag once Git is back', async () => {
    const s = await scenario({
      files: {
        'values.yaml': VALUES,
        'remediation.yaml': ESCALATING,
        'slo.yaml': sampleSlo(600),
        'sli.yaml': SAMPLE_SLI,
      },
      apply: 'kubernetes',
      url: closedPortUrl,
    });
    await createProblem(s.project, 'git-down');
    const waiting = await waitFor<ProblemEvent>(
      'problemevent',
      'git-down',
      hasCondition('Reconciling', 'True', 'GitUnreachable'),
    );
    expect(waiting.status?.phase).toBe('Pending');
    expect(condition(waiting, 'Reconciling')?.message).toContain('127.0.0.1');
    expect(condition(waiting, 'Stalled')?.status).toBe('False');

    await kubectl(admin, [
      'patch',
      'project',
      s.project,
      '-n',
      NAMESPACE,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { git: { url: s.url } } }),
    ]);
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'git-down',
      phase('Resolved', 'Exhausted', 'Unhandled'),
      90_000,
    );
    expect(done.status?.phase).toBe('Resolved');
    expect(done.status?.attempts?.map((a) => [a.action, a.value, a.result])).toEqual([
      ['scale', '+1', 'fail'],
      ['featuretoggle', 'EnablePromotion:off', 'pass'],
    ]);
    const namespace = `${s.project}-production`;
    expect(await replicas(namespace)).toBe(2);
    // Through the scale subresource, by Rebound's field manager; the flag in the ConfigMap.
    const managers = await kubectl(admin, [
      'get',
      'deployment',
      'carts',
      '-n',
      namespace,
      '--show-managed-fields',
      '-o',
      'jsonpath={range .metadata.managedFields[*]}{.manager}/{.subresource}{"\\n"}{end}',
    ]);
    expect(managers.split('\n')).toContain('rebound/scale');
    expect(
      await kubectl(admin, [
        'get',
        'configmap',
        'carts-feature-flags',
        '-n',
        namespace,
        '-o',
        'jsonpath={.data.EnablePromotion}',
      ]),
    ).toBe('false');
    expect(done.status?.attempts?.[0]?.helmRevision).toBeUndefined();
  });

  it('a policy changed mid-remediation is used by the next attempt; a broken one leaves the last good in force', async () => {
    const s = await scenario({
      files: {
        'values.yaml': VALUES,
        'remediation.yaml': ESCALATING,
        'slo.yaml': sampleSlo(600),
        'sli.yaml': SAMPLE_SLI,
      },
      apply: 'kubernetes',
    });
    await createProblem(s.project, 'policy-moves');
    await waitFor<ProblemEvent>('problemevent', 'policy-moves', (p) => (p.status?.attempts?.length ?? 0) >= 1);
    // While attempt 1 waits for its evaluation, a person changes the policy.
    const changed = policy([
      ['featuretoggle', 'EnablePromotion:off'],
      ['scale', '+2'],
    ]);
    await push(s.repoDir, 'production', { 'carts/remediation.yaml': changed }, 'second thoughts on the carts policy');
    const first = await waitFor<ProblemEvent>('problemevent', 'policy-moves', phase('Resolved'), 90_000);
    expect(first.status?.attempts?.map((a) => [a.action, a.value, a.result])).toEqual([
      ['scale', '+1', 'fail'],
      ['scale', '+2', 'pass'],
    ]);
    expect(await replicas(`${s.project}-production`)).toBe(4);

    // A broken push: the Project says where; the last good policy stays in force.
    await push(
      s.repoDir,
      'production',
      { 'carts/remediation.yaml': `${changed}        - action: [unclosed\n` },
      'a typo',
    );
    const broken = await waitFor<Project>('project', s.project, hasCondition('ConfigValid', 'False', 'PolicyInvalid'));
    const message = condition(broken, 'ConfigValid')?.message ?? '';
    expect(message).toMatch(/carts\/remediation\.yaml:\d+:\d+: /);
    expect(message).toContain('keeping the version from');
    await createProblem(s.project, 'after-typo');
    const second = await waitFor<ProblemEvent>(
      'problemevent',
      'after-typo',
      (p) => (p.status?.attempts?.length ?? 0) >= 1,
    );
    expect(second.status?.attempts?.[0]).toMatchObject({ action: 'featuretoggle', value: 'EnablePromotion:off' });
    expect(condition(second, 'PolicyResolved')?.message).toMatch(
      /carts\/remediation\.yaml:\d+:\d+: .*keeping the version from/,
    );
  });

  it('a cooldown holds the next action back with a condition saying until when', async () => {
    const s = await scenario({
      files: { 'values.yaml': VALUES, 'slo.yaml': sampleSlo(600), 'sli.yaml': SAMPLE_SLI },
      apply: 'kubernetes',
    });
    await applyObjects(admin, [
      {
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'Remediation',
        metadata: { name: `${s.project}-carts`, namespace: NAMESPACE },
        spec: {
          project: s.project,
          stage: 'production',
          service: 'carts',
          evaluation: { wait: '2s' },
          limits: { cooldown: '1h' },
          remediations: [
            {
              problemType: 'Response time degradation',
              actionsOnOpen: [
                { name: 'up', action: 'scale', value: '+1' },
                { name: 'promotion off', action: 'featuretoggle', value: 'EnablePromotion:off' },
              ],
            },
          ],
        },
      },
    ]);
    await createProblem(s.project, 'cooling');
    const held = await waitFor<ProblemEvent>(
      'problemevent',
      'cooling',
      hasCondition('Reconciling', 'True', 'CoolingDown'),
      90_000,
    );
    const applied = Date.parse(held.status?.attempts?.[0]?.appliedTime ?? '');
    expect(held.status?.attempts?.map((a) => a.result)).toEqual(['fail']);
    const until = /until (\S+)$/.exec(condition(held, 'Reconciling')?.message ?? '')?.[1] ?? '';
    expect(condition(held, 'Reconciling')?.message).toContain(
      'cooldown between actions holds the next action back until',
    );
    expect(Date.parse(until) - applied).toBe(3_600_000);
    expect(held.status?.phase).toBe('Remediating');
  });
});
