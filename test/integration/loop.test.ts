// The remediation loop end to end on real parts: kube-apiserver + etcd, git http-backend, the helm
// CLI, Prometheus scraping a workload whose metrics follow the live Deployment and flag ConfigMap,
// and `rebound controller` as a child process running with its ServiceAccount's RBAC.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemEvent } from '../../src/api/index.ts';
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

const VALUES = `# carts values: Rebound edits replicaCount and featureFlags in place.
replicaCount: 1
image:
  repository: docker.io/keptnexamples/carts
  tag: "0.13.1"
featureFlags:
  EnablePromotion: true   # the slow promotion campaign
`;

let git: GitServer;
let prometheus: LocalPrometheus;
let workload: SampleWorkload;
let controller: ControllerProcess | undefined;

const suffix = (): string => randomBytes(3).toString('hex');
/** Every object of this file lives here, and its controllers watch only this namespace. */
const NAMESPACE = `loop-${suffix()}`;

interface Scenario {
  namespace: string;
  project: string;
  service: string;
  repoDir: string;
}

/** A project repo, its Project resource and Secret, and the service deployed in every stage. */
async function scenario(options: {
  service: string;
  stages: string[];
  files: Record<string, string>;
  apply?: 'helm' | 'kubernetes';
}): Promise<Scenario> {
  const project = `p-${suffix()}`;
  const namespace = NAMESPACE;
  const repo = await createProjectRepo(git, {
    project,
    service: options.service,
    stages: options.stages,
    remediationStages: ['production'],
    files: options.files,
  });
  await applyObjects(admin, [
    gitSecret(namespace, git),
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Project',
      metadata: { name: project, namespace },
      spec: {
        git: { url: repo.url, secretRef: { name: 'git' }, author: { name: 'Rebound', email: 'rebound@example.com' } },
        stages: options.stages.map((name) => ({
          name,
          remediation: name === 'production' ? 'automated' : 'disabled',
          apply: options.apply ?? 'helm',
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
  return { namespace, project, service: options.service, repoDir: repo.dir };
}

async function createProblem(s: Scenario, name: string, problemTitle: string, service = s.service): Promise<void> {
  await openProblem(admin, { namespace: s.namespace, name, project: s.project, service, problemTitle });
}

// `controller` is replaced mid-file (a restart) and unset while (g)'s two replicas run.
const { get, waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller?.process.recentOutput() ?? '',
});

async function waitForPhase(name: string, phases: string[]): Promise<ProblemEvent> {
  return waitFor<ProblemEvent>('problemevent', name, phase(...phases), 90_000);
}

async function replicas(namespace: string, deployment: string): Promise<number> {
  return Number(
    await kubectl(admin, ['get', 'deployment', deployment, '-n', namespace, '-o', 'jsonpath={.spec.replicas}']),
  );
}

/** Rebound's commits on a branch of the server's repository, newest first, with their trailers. */
async function reboundCommits(s: Scenario, branch: string): Promise<string[]> {
  const { stdout } = await runCommand('git', ['--git-dir', s.repoDir, 'log', '--format=%H %s%n%b%x00', branch]);
  return stdout
    .split('\0')
    .map((c) => c.trim())
    .filter((c) => c.includes('Rebound-Problem:'));
}

async function startSharedController(): Promise<ControllerProcess> {
  return startControllerProcess({
    kubeconfigPath: cluster.controllerKubeconfigPath,
    prometheusUrl: prometheus.url,
    metricsPort: await freePort(),
    // The wait covers Prometheus's 1 s scrape of the workload's new state with room for a loaded CI machine.
    args: [
      '--namespace',
      NAMESPACE,
      '--evaluation-wait=4s',
      '--turn-poll=500ms',
      '--evaluation-retry=1s',
      '--stalled-recheck=5s',
      '--lease-duration=3s',
      '--log-level=debug',
    ],
  });
}

beforeAll(async () => {
  await installControllerRbac(admin);
  git = await startE2eGitServer();
  ({ workload, prometheus } = await startScrapedWorkload(admin));
  await createNamespace(admin, NAMESPACE);
  controller = await startSharedController();
}, 120_000);

afterAll(() => stopInOrder(controller, prometheus, workload, git));

describe('the remediation loop on real parts', () => {
  it('(a) the tutorial: production scales to 2 replicas through Helm, qa stays at 1, the problem ends Resolved', async () => {
    const tutorial = readFileSync(join(REPO_ROOT, 'examples', 'fulltour', 'helloservice', 'remediation.yaml'), 'utf8');
    const s = await scenario({
      service: 'helloservice',
      stages: ['qa', 'production'],
      files: {
        'values.yaml': VALUES,
        'remediation.yaml': tutorial,
        'slo.yaml': sampleSlo(700),
        'sli.yaml': SAMPLE_SLI,
      },
    });
    await createProblem(s, 'response-time', 'http_response_time_seconds_main_page_sum');

    const done = await waitForPhase('response-time', ['Resolved', 'Exhausted', 'Unhandled']);
    expect(done.status?.phase, JSON.stringify(done.status?.attempts)).toBe('Resolved');
    expect(await replicas(`${s.project}-production`, 'helloservice')).toBe(2);
    expect(await replicas(`${s.project}-qa`, 'helloservice')).toBe(1);
    const [attempt] = done.status?.attempts ?? [];
    expect(attempt).toMatchObject({
      index: 1,
      action: 'scale',
      value: '2',
      branch: 'production',
      result: 'pass',
      helmRevision: 2,
    });
    expect(attempt?.indicatorResults?.[0]).toMatchObject({ metric: 'response_time_p95', value: 636, status: 'pass' });
    expect(done.status?.policySource).toMatchObject({
      kind: 'Git',
      branch: 'production',
      path: 'helloservice/remediation.yaml',
      match: 'problemTitle',
    });

    const commits = await reboundCommits(s, 'production');
    expect(commits).toHaveLength(1);
    expect(commits[0]).toContain(`rebound: scale helloservice in production to 2 replicas`);
    expect(commits[0]).toContain(`Rebound-Problem: ${s.namespace}/response-time ${done.metadata.uid ?? ''}`);
    expect(commits[0]).toContain('Rebound-Attempt: 1');
    expect(commits[0]).toContain('Rebound-Action: scale 2');
    expect(await reboundCommits(s, 'qa')).toHaveLength(0);
    // The commit's diff is the one changed line.
    const { stdout: diff } = await runCommand('git', [
      '--git-dir',
      s.repoDir,
      'show',
      '--format=',
      '--unified=0',
      'production',
    ]);
    expect(diff.split('\n').filter((l) => /^[-+][^-+]/.test(l))).toEqual(['-replicaCount: 1', '+replicaCount: 2']);

    const events = await kubectl(admin, [
      'get',
      'events',
      '-n',
      s.namespace,
      '--field-selector',
      'involvedObject.name=response-time',
      '-o',
      'jsonpath={range .items[*]}{.reason}{"\\n"}{end}',
    ]);
    expect(events.split('\n')).toEqual(expect.arrayContaining(['Committed', 'Applied', 'Evaluated', 'Resolved']));
  });

  it('(b) escalation: scale +1 fails its evaluation, the feature flag comes next and passes', async () => {
    const s = await scenario({
      service: 'carts',
      stages: ['production'],
      files: {
        'values.yaml': VALUES,
        'remediation.yaml': ESCALATING_POLICY,
        'slo.yaml': sampleSlo(600),
        'sli.yaml': SAMPLE_SLI,
      },
    });
    await createProblem(s, 'slow-carts', 'Response time degradation');
    const done = await waitForPhase('slow-carts', ['Resolved', 'Exhausted', 'Unhandled']);
    expect(done.status?.phase, JSON.stringify(done.status?.attempts)).toBe('Resolved');
    expect(done.status?.attempts?.map((a) => [a.index, a.action, a.value, a.result])).toEqual([
      [1, 'scale', '+1', 'fail'],
      [2, 'featuretoggle', 'EnablePromotion:off', 'pass'],
    ]);
    expect(done.status?.attempts?.map((a) => a.indicatorResults?.[0]?.value)).toEqual([636, 212]);
    const flags = await kubectl(admin, [
      'get',
      'configmap',
      'carts-feature-flags',
      '-n',
      `${s.project}-production`,
      '-o',
      'jsonpath={.data.EnablePromotion}',
    ]);
    expect(flags).toBe('false');
    expect(await reboundCommits(s, 'production')).toHaveLength(2);
  });

  it('(c) every action fails its evaluation: Exhausted', async () => {
    const s = await scenario({
      service: 'carts',
      stages: ['production'],
      files: {
        'values.yaml': VALUES,
        'remediation.yaml': ESCALATING_POLICY,
        'slo.yaml': sampleSlo(100),
        'sli.yaml': SAMPLE_SLI,
      },
    });
    await createProblem(s, 'hopeless', 'Response time degradation');
    const done = await waitForPhase('hopeless', ['Resolved', 'Exhausted', 'Unhandled']);
    expect(done.status?.phase).toBe('Exhausted');
    expect(done.status?.attempts?.map((a) => a.result)).toEqual(['fail', 'fail']);
    expect(condition(done, 'Ready')).toMatchObject({ status: 'False', reason: 'ActionsExhausted' });
  });

  it('(d) the source resolves the problem mid-way: the remediation stops', async () => {
    const s = await scenario({
      service: 'carts',
      stages: ['production'],
      files: {
        'values.yaml': VALUES,
        'remediation.yaml': ESCALATING_POLICY,
        'slo.yaml': sampleSlo(600),
        'sli.yaml': SAMPLE_SLI,
      },
    });
    // A long wait keeps the first attempt in Evaluating while the alert clears.
    await applyObjects(admin, [
      {
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'Remediation',
        metadata: { name: 'carts', namespace: s.namespace },
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
    await createProblem(s, 'clears', 'Response time degradation');
    await waitForPhase('clears', ['Evaluating']);
    await kubectl(admin, [
      'patch',
      'problemevent',
      'clears',
      '-n',
      s.namespace,
      '--type=merge',
      '-p',
      '{"spec":{"state":"RESOLVED"}}',
    ]);
    const done = await waitForPhase('clears', ['Resolved']);
    expect(condition(done, 'Ready')).toMatchObject({ status: 'True', reason: 'ProblemResolved' });
    expect(done.status?.attempts).toHaveLength(1);
    expect(done.status?.attempts?.[0]?.result).toBeUndefined();
    expect(done.status?.policySource).toMatchObject({ kind: 'Remediation', name: 'carts' });
  });

  it('(f) two problems of one service take turns; problems of two services run in parallel', async () => {
    const s = await scenario({
      service: 'carts',
      stages: ['production'],
      files: {
        'values.yaml': VALUES,
        'remediation.yaml': ESCALATING_POLICY,
        'slo.yaml': sampleSlo(700),
        'sli.yaml': SAMPLE_SLI,
      },
    });
    const other = await scenario({
      service: 'orders',
      stages: ['production'],
      files: {
        'values.yaml': VALUES,
        'remediation.yaml': ESCALATING_POLICY.replace('carts-remediation', 'orders-remediation'),
        'slo.yaml': sampleSlo(700),
        'sli.yaml': SAMPLE_SLI,
      },
    });
    await createProblem(s, 'first', 'Response time degradation');
    await createProblem(s, 'second', 'Response time degradation');
    await createProblem(other, 'elsewhere', 'Response time degradation');
    const first = await waitForPhase('first', ['Resolved']);
    const second = await waitForPhase('second', ['Resolved']);
    const elsewhere = await waitForPhase('elsewhere', ['Resolved']);
    const committed = (p: ProblemEvent): number => Date.parse(p.status?.attempts?.[0]?.committedTime ?? '');
    const completed = (p: ProblemEvent): number => Date.parse(p.status?.completionTime ?? '');
    expect(committed(second)).toBeGreaterThanOrEqual(completed(first));
    // The other service did not wait for carts: its action went out before carts' first problem ended.
    expect(committed(elsewhere)).toBeLessThan(completed(first));
  });
});

describe('crash safety and replicas', () => {
  it('(e) killed between push and status write, the controller continues after restart with exactly one commit', async () => {
    const s = await scenario({
      service: 'carts',
      stages: ['production'],
      files: {
        'values.yaml': VALUES,
        'remediation.yaml': ESCALATING_POLICY,
        'slo.yaml': sampleSlo(700),
        'sli.yaml': SAMPLE_SLI,
      },
    });
    await controller?.stop();
    controller = undefined;
    // Without the status permission, every status write after the push fails, as if the process died there.
    const rbac = readFileSync(join(REPO_ROOT, 'manifests', 'rbac.yaml'), 'utf8');
    await kubectl(admin, ['apply', '-f', '-'], withoutProblemStatus(rbac));
    const crashing = await startSharedController();
    try {
      await createProblem(s, 'crash', 'Response time degradation');
      await expect.poll(() => reboundCommits(s, 'production'), { timeout: 60_000, interval: 100 }).toHaveLength(1);
      await crashing.process.stop(0); // SIGKILL at once: no graceful anything
    } finally {
      await crashing.stop();
      await installControllerRbac(admin);
    }
    expect((await get<ProblemEvent>('problemevent', 'crash')).status?.attempts ?? []).toHaveLength(0);
    controller = await startSharedController();
    const done = await waitForPhase('crash', ['Resolved']);
    expect(done.status?.attempts).toHaveLength(1);
    const commits = await reboundCommits(s, 'production');
    expect(commits).toHaveLength(1);
    expect(commits[0]?.split(' ')[0]).toBe(done.status?.attempts?.[0]?.commit);
  });

  it('(g) with two replicas only the leader acts, and the other takes over when it stops', async () => {
    await controller?.stop();
    controller = undefined;
    const one = await startSharedController();
    const two = await startSharedController();
    try {
      const s = await scenario({
        service: 'carts',
        stages: ['production'],
        files: {
          'values.yaml': VALUES,
          'remediation.yaml': ESCALATING_POLICY,
          'slo.yaml': sampleSlo(700),
          'sli.yaml': SAMPLE_SLI,
        },
      });
      await createProblem(s, 'led', 'Response time degradation');
      const led = await waitForPhase('led', ['Resolved']);
      // On a mismatch, the commits' trailers and the attempts tell a second action from a second leader.
      const ledCommits = await reboundCommits(s, 'production');
      expect(ledCommits, `${ledCommits.join('\n---\n')}\n${JSON.stringify(led.status?.attempts)}`).toHaveLength(1);
      const holder = await kubectl(admin, [
        'get',
        'lease',
        'rebound-controller',
        '-n',
        'rebound-system',
        '-o',
        'jsonpath={.spec.holderIdentity}',
      ]);
      const leaderMetrics = async (c: ControllerProcess): Promise<number> => {
        const text = await (await fetch(`${c.metricsUrl}/metrics`)).text();
        return Number(/^rebound_leader (\d)/m.exec(text)?.[1]);
      };
      const leaders = [await leaderMetrics(one), await leaderMetrics(two)];
      expect([...leaders].sort()).toEqual([0, 1]);
      const [leader, follower] = leaders[0] === 1 ? [one, two] : [two, one];
      expect(holder).toContain(String(leader.process.pid));

      await leader.stop();
      await expect.poll(() => leaderMetrics(follower), { timeout: 30_000, interval: 200 }).toBe(1);
      await createProblem(s, 'after-failover', 'Response time degradation');
      const after = await waitForPhase('after-failover', ['Resolved']);
      const allCommits = await reboundCommits(s, 'production');
      expect(allCommits, `${allCommits.join('\n---\n')}\n${JSON.stringify(after.status?.attempts)}`).toHaveLength(2);
    } finally {
      await one.stop();
      await two.stop();
    }
  });
});

/** The controller's RBAC without `problemevents/status`; fails loudly if the manifest's shape changed. */
function withoutProblemStatus(rbac: string): string {
  const edited = rbac.replace('"problemevents/status", ', '');
  if (edited === rbac) throw new Error('manifests/rbac.yaml no longer grants "problemevents/status" as expected');
  return edited;
}
