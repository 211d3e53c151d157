// The forge end to end on real parts (issues 19 and 21): kube-apiserver, a real Gitea (the Project's
// repository and forge: Rebound fetches and pushes over HTTP like any remote), Prometheus scraping the
// sample workload, and `rebound controller`. Commit statuses on remediation commits (pending, then the
// verdict) and merge as approval: a proposal branch with a pull request, merged or closed by a person
// through Gitea's API.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemEvent, Project } from '../../src/api/index.ts';
import { startGitea } from '../harness/gitea.ts';
import type { LocalGitea } from '../harness/gitea.ts';
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
  ESCALATING_POLICY,
  hasCondition,
  namespaceObjects,
  openProblem,
  phase,
  startScrapedWorkload,
  stopInOrder,
  SCALE_POLICY,
} from './e2e-helpers.ts';

const cluster = laneCluster();
const admin = cluster.kubeconfigPath;

const VALUES = 'replicaCount: 1\nfeatureFlags:\n  EnablePromotion: true\n';

const suffix = (): string => randomBytes(3).toString('hex');
const NAMESPACE = `forge-${suffix()}`;
const LINK = 'https://rebound.example/problems/{namespace}/{name}/{attempt}';

let gitea: LocalGitea;
let prometheus: LocalPrometheus;
let workload: SampleWorkload;
let controller: ControllerProcess | undefined;
let seeds: string;

const { waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller?.process.recentOutput() ?? '',
});

interface Scenario {
  project: string;
  /** `<owner>/<name>` in Gitea. */
  repository: string;
}

/** A Keptn-layout repository pushed into Gitea with the git CLI, a Project naming Gitea as its forge, the service deployed. */
async function scenario(
  files: Record<string, string>,
  spec: Record<string, unknown>,
  forgeSecret = 'forge',
): Promise<Scenario> {
  const project = `p-${suffix()}`;
  const repo = await createProjectRepo(
    {
      createRepo: async (name, seed) => {
        const dir = join(seeds, `${name}.git`);
        await runCommand('git', ['init', '--quiet', '--bare', dir]);
        if (typeof seed === 'function') await seed(dir);
        const url = await gitea.createRepository(name, { empty: true });
        await runCommand('git', ['--git-dir', dir, 'push', '--quiet', '--all', gitea.authedUrl(url)]);
        return { url, dir };
      },
    },
    { project, service: 'carts', stages: ['production'], remediationStages: ['production'], files },
  );
  await applyObjects(admin, [
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Project',
      metadata: { name: project, namespace: NAMESPACE },
      spec: {
        git: { url: repo.url, secretRef: { name: 'git' }, poll: '2s' },
        forge: {
          type: 'gitea',
          url: gitea.url,
          repository: `${gitea.user}/${project}`,
          secretRef: { name: forgeSecret },
          link: LINK,
        },
        ...spec,
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
  return { project, repository: `${gitea.user}/${project}` };
}

async function problem(s: Scenario, name: string): Promise<void> {
  await openProblem(admin, { namespace: NAMESPACE, name, project: s.project });
}

async function head(s: Scenario, branch: string): Promise<string | undefined> {
  const found = await gitea.api<{ commit: { id: string } }>('GET', `/repos/${s.repository}/branches/${branch}`);
  return found.status === 200 ? found.json.commit.id : undefined;
}

interface GiteaStatus {
  status: string;
  context: string;
  description: string;
  target_url: string;
}

async function statuses(s: Scenario, sha: string): Promise<GiteaStatus[]> {
  return (await gitea.api<GiteaStatus[]>('GET', `/repos/${s.repository}/commits/${sha}/statuses?sort=oldest`)).json;
}

/** Statuses are delivered off the loop: wait until the commit has `count` of them. */
async function statusesWhen(s: Scenario, sha: string, count: number): Promise<GiteaStatus[]> {
  let seen: GiteaStatus[] = [];
  await expect.poll(async () => (seen = await statuses(s, sha)).length, { timeout: 30_000, interval: 250 }).toBe(count);
  return seen;
}

async function comments(s: Scenario, number: number): Promise<string[]> {
  const found = await gitea.api<{ body: string }[]>('GET', `/repos/${s.repository}/issues/${String(number)}/comments`);
  return found.json.map((c) => c.body);
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
  return Number(out);
}

const proposalOpen = (p: ProblemEvent): boolean =>
  p.status?.phase === 'AwaitingApproval' && p.status.attempts?.[0]?.approval?.proposal?.number !== undefined;

beforeAll(async () => {
  await installControllerRbac(admin);
  seeds = await mkdtemp(join(tmpdir(), 'rebound-forge-seeds-'));
  gitea = await startGitea();
  ({ workload, prometheus } = await startScrapedWorkload(admin));
  await createNamespace(admin, NAMESPACE, [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git', namespace: NAMESPACE },
      stringData: { username: gitea.user, token: gitea.token },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'forge', namespace: NAMESPACE },
      stringData: { token: gitea.token },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'forge-revoked', namespace: NAMESPACE },
      stringData: { token: 'a0'.repeat(20) },
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
      '--sync-poll=1s',
      '--log-level=debug',
    ],
  });
}, 240_000);

afterAll(async () => {
  await stopInOrder(controller, prometheus, workload, gitea);
  if (seeds) await rm(seeds, { recursive: true, force: true });
});

describe('commit statuses', () => {
  it('pending then failure on the first commit, pending then success on the second, with the link', async () => {
    // At 600 ms, scaling (636 ms) fails its evaluation and the promotion flag (212 ms) passes.
    const s = await scenario(
      {
        'values.yaml': VALUES,
        'remediation.yaml': ESCALATING_POLICY,
        'slo.yaml': sampleSlo(600),
        'sli.yaml': SAMPLE_SLI,
      },
      { stages: [{ name: 'production', remediation: 'automated', apply: 'helm' }] },
    );
    await problem(s, 'slow-carts');
    const done = await waitFor<ProblemEvent>('problemevent', 'slow-carts', phase('Resolved'), 150_000);
    const [first, second] = (done.status?.attempts ?? []).map((a) => a.commit ?? '');
    expect(first).toMatch(/^[0-9a-f]{40}$/);
    expect(second).toMatch(/^[0-9a-f]{40}$/);

    const one = await statusesWhen(s, first ?? '', 2);
    expect(one.map((x) => [x.status, x.context])).toEqual([
      ['pending', 'rebound/production'],
      ['failure', 'rebound/production'],
    ]);
    expect(one[1]?.description).toMatch(/attempt 1 \(scale \+1\) evaluated fail with score 0%, escalating$/);
    expect(one[1]?.target_url).toBe(`https://rebound.example/problems/${NAMESPACE}/slow-carts/1`);
    const two = await statusesWhen(s, second ?? '', 2);
    expect(two.map((x) => x.status)).toEqual(['pending', 'success']);
    expect(two[1]?.description).toMatch(/attempt 2 \(featuretoggle EnablePromotion:off\) evaluated pass/);
    expect(two[1]?.target_url).toBe(`https://rebound.example/problems/${NAMESPACE}/slow-carts/2`);
    await waitFor<Project>('project', s.project, hasCondition('ForgeReachable', 'True', 'ForgeDelivered'));
  });

  it('a token the forge refuses: the Project says so, and the remediation goes on without its statuses', async () => {
    const s = await scenario(
      { 'values.yaml': VALUES, 'remediation.yaml': SCALE_POLICY, 'slo.yaml': sampleSlo(5000), 'sli.yaml': SAMPLE_SLI },
      { stages: [{ name: 'production', remediation: 'automated', apply: 'helm' }] },
      'forge-revoked',
    );
    await problem(s, 'refused-forge');
    const done = await waitFor<ProblemEvent>('problemevent', 'refused-forge', phase('Resolved'), 150_000);
    expect(await statuses(s, done.status?.attempts?.[0]?.commit ?? '')).toEqual([]);
    const project = await waitFor<Project>(
      'project',
      s.project,
      hasCondition('ForgeReachable', 'False', 'ForgeMisconfigured'),
    );
    expect(condition(project, 'ForgeReachable')?.message).toMatch(/answered 401.*spec\.forge\.secretRef/);
    expect(condition(project, 'ForgeReachable')?.message).not.toContain('a0a0a0');
    expect(condition(project, 'Ready')).toMatchObject({ status: 'True' });
  });
});

describe('merge as approval', () => {
  const merging = {
    stages: [{ name: 'production', remediation: 'manual', apply: 'helm' }],
    approval: { mode: 'merge' },
  };
  const files = {
    'values.yaml': VALUES,
    'remediation.yaml': SCALE_POLICY,
    'slo.yaml': sampleSlo(700),
    'sli.yaml': SAMPLE_SLI,
  };

  it('opens a pull request with the plan; a person merging it approves, and the verdict comes back to it', async () => {
    const s = await scenario(files, merging);
    const before = await head(s, 'production');
    await problem(s, 'merge-me');
    const waiting = await waitFor<ProblemEvent>('problemevent', 'merge-me', proposalOpen, 90_000);
    const proposal = waiting.status?.attempts?.[0]?.approval?.proposal;
    expect(proposal).toMatchObject({ branch: 'rebound/merge-me/1', state: 'Open' });
    expect(condition(waiting, 'Reconciling')).toMatchObject({ status: 'True', reason: 'AwaitingApproval' });
    // The proposal is on its own branch; the stage branch has not moved and nothing was applied.
    expect(await head(s, 'rebound/merge-me/1')).toBe(proposal?.commit);
    expect(await head(s, 'production')).toBe(before);
    expect(await replicas(s)).toBe(1);
    const number = proposal?.number ?? 0;
    const pull = await gitea.api<{ title: string; body: string; state: string; html_url: string }>(
      'GET',
      `/repos/${s.repository}/pulls/${String(number)}`,
    );
    expect(pull.json.state).toBe('open');
    expect(pull.json.html_url).toBe(proposal?.url);
    expect(pull.json.title).toBe('rebound: scale carts in production to 2 replicas (Response time degradation)');
    expect(pull.json.body).toContain('+replicaCount: 2');
    await expect.poll(() => comments(s, number), { timeout: 30_000 }).toHaveLength(1);
    expect((await comments(s, number))[0]).toContain('Rebound proposes attempt 1');
    expect((await statusesWhen(s, proposal?.commit ?? '', 1))[0]?.status).toBe('pending');

    // A person merges it in Gitea.
    const merged = await gitea.api('POST', `/repos/${s.repository}/pulls/${String(number)}/merge`, { Do: 'merge' });
    expect(merged.status).toBe(200);
    const mergeCommit = await head(s, 'production');
    const done = await waitFor<ProblemEvent>('problemevent', 'merge-me', phase('Resolved'), 120_000);
    const attempt = done.status?.attempts?.[0];
    expect(attempt?.commit).toBe(mergeCommit);
    expect(attempt?.approval?.state).toBe('Approved');
    expect(attempt?.approval?.approvers?.map((a) => a.user)).toEqual([gitea.user]);
    expect(attempt?.approval?.proposal?.state).toBe('Merged');
    expect(await replicas(s)).toBe(2);
    const verdict = await statusesWhen(s, mergeCommit ?? '', 2);
    expect(verdict.map((x) => x.status)).toEqual(['pending', 'success']);
    await expect.poll(() => comments(s, number), { timeout: 30_000 }).toHaveLength(2);
    expect((await comments(s, number))[1]).toMatch(/evaluated pass with score 100%: the problem is resolved/);
  });

  it('closing the pull request rejects: nothing reaches the stage branch or the cluster', async () => {
    const s = await scenario(files, merging);
    const before = await head(s, 'production');
    await problem(s, 'close-me');
    const waiting = await waitFor<ProblemEvent>('problemevent', 'close-me', proposalOpen, 90_000);
    const number = waiting.status?.attempts?.[0]?.approval?.proposal?.number ?? 0;
    const closed = await gitea.api('PATCH', `/repos/${s.repository}/pulls/${String(number)}`, { state: 'closed' });
    expect(closed.status).toBe(201);
    const done = await waitFor<ProblemEvent>('problemevent', 'close-me', phase('Unhandled'), 60_000);
    expect(condition(done, 'Stalled')).toMatchObject({ status: 'True', reason: 'ApprovalRejected' });
    expect(done.status?.attempts?.[0]?.approval?.proposal?.state).toBe('Closed');
    expect(done.status?.attempts?.[0]?.commit).toBeUndefined();
    expect(await head(s, 'production')).toBe(before);
    expect(await replicas(s)).toBe(1);
  });
});
