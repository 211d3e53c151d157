// Holds (issue 19, item 5), end to end on real parts: kube-apiserver, git http-backend, helm,
// Prometheus and `rebound controller`. While a problem is open (its evaluation ten minutes away), a
// pipeline pushes the next deploy, which resets `replicaCount: 1`. The Project's branch watch sees the
// branch move; the problem names the commit and its author (condition HoldBroken, a Warning Event).
// With `hold: warn` nothing is committed; with `hold: reassert` Rebound commits and applies its value
// again, up to `maxReasserts` times, then only warns.
import { randomBytes } from 'node:crypto';
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
  push,
  startE2eGitServer,
  startScrapedWorkload,
  stopInOrder,
  SCALE_POLICY,
} from './e2e-helpers.ts';

const cluster = laneCluster();
const admin = cluster.kubeconfigPath;

const VALUES = 'replicaCount: 1 # the pipeline deploys one\nimage:\n  tag: 0.1.0\n';
const PIPELINE = { name: 'Deploy Pipeline', email: 'ci@example.com' };

const suffix = (): string => randomBytes(3).toString('hex');
const NAMESPACE = `holds-${suffix()}`;

let git: GitServer;
let prometheus: LocalPrometheus;
let workload: SampleWorkload;
let controller: ControllerProcess | undefined;

const { waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller?.process.recentOutput() ?? '',
});

interface Scenario {
  project: string;
  repoDir: string;
}

/** A project whose branch watch polls every second, and a Remediation with the hold policy and a long wait. */
async function scenario(hold: Record<string, unknown>): Promise<Scenario> {
  const project = `p-${suffix()}`;
  const repo = await createProjectRepo(git, {
    project,
    service: 'carts',
    stages: ['production'],
    remediationStages: ['production'],
    files: {
      'values.yaml': VALUES,
      'remediation.yaml': SCALE_POLICY,
      'slo.yaml': sampleSlo(700),
      'sli.yaml': SAMPLE_SLI,
    },
  });
  await applyObjects(admin, [
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Project',
      metadata: { name: project, namespace: NAMESPACE },
      spec: {
        git: { url: repo.url, secretRef: { name: 'git' }, poll: '1s' },
        stages: [{ name: 'production', remediation: 'automated', apply: 'helm' }],
      },
    },
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Remediation',
      metadata: { name: `carts-${project}`, namespace: NAMESPACE },
      spec: {
        project,
        stage: 'production',
        service: 'carts',
        remediations: [
          {
            problemType: 'Response time degradation',
            actionsOnOpen: [{ name: 'Scale up', action: 'scale', value: '+1' }],
          },
        ],
        // The problem stays open (Evaluating) while the pipeline pushes.
        evaluation: { wait: '10m' },
        hold,
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

async function show(s: Scenario, rev: string): Promise<string> {
  return (await runCommand('git', ['--git-dir', s.repoDir, 'show', rev])).stdout;
}

async function head(s: Scenario): Promise<string> {
  return (await runCommand('git', ['--git-dir', s.repoDir, 'rev-parse', 'production'])).stdout.trim();
}

async function reboundCommits(s: Scenario): Promise<string[]> {
  const { stdout } = await runCommand('git', ['--git-dir', s.repoDir, 'log', '--format=%H %s%n%b%x00', 'production']);
  return stdout
    .split('\0')
    .map((c) => c.trim())
    .filter((c) => c.includes('Rebound-Problem:'));
}

/** The next deploy: the pipeline's values file, one replica and a new image tag. */
async function deploy(s: Scenario, tag: string): Promise<string> {
  await push(
    s.repoDir,
    'production',
    { 'carts/values.yaml': VALUES.replace('0.1.0', tag) },
    `deploy carts ${tag}`,
    PIPELINE,
  );
  return head(s);
}

async function openAndApply(s: Scenario, name: string): Promise<ProblemEvent> {
  await openProblem(admin, { namespace: NAMESPACE, name, project: s.project, service: 'carts' });
  return waitFor<ProblemEvent>(
    'problemevent',
    name,
    (p) => p.status?.phase === 'Evaluating' && p.status.attempts?.[0]?.appliedTime !== undefined,
    90_000,
  );
}

async function eventsOf(name: string): Promise<string[]> {
  const out = await kubectl(admin, [
    'get',
    'events',
    '-n',
    NAMESPACE,
    '--field-selector',
    `involvedObject.name=${name}`,
    '-o',
    'jsonpath={range .items[*]}{.type} {.reason}: {.message}{"\\n"}{end}',
  ]);
  return out.split('\n').filter((l) => l !== '');
}

async function deployedReplicas(s: Scenario): Promise<number> {
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

beforeAll(async () => {
  await installControllerRbac(admin);
  git = await startE2eGitServer();
  ({ workload, prometheus } = await startScrapedWorkload(admin));
  await createNamespace(admin, NAMESPACE, [gitSecret(NAMESPACE, git)]);
  controller = await startControllerProcess({
    kubeconfigPath: cluster.controllerKubeconfigPath,
    prometheusUrl: prometheus.url,
    metricsPort: await freePort(),
    args: [
      '--namespace',
      NAMESPACE,
      '--turn-poll=500ms',
      '--evaluation-retry=1s',
      '--stalled-recheck=5s',
      '--log-level=debug',
    ],
  });
}, 150_000);

afterAll(async () => {
  await stopInOrder(controller, prometheus, workload, git);
});

describe('holds against the next deploy', () => {
  it('hold: warn names the pipeline commit that reset replicaCount, and commits nothing', async () => {
    const s = await scenario({ mode: 'warn' });
    await openAndApply(s, 'warned');
    expect(await reboundCommits(s)).toHaveLength(1);
    const pushed = await deploy(s, '0.2.0');
    const broken = await waitFor<ProblemEvent>(
      'problemevent',
      'warned',
      hasCondition('HoldBroken', 'True', 'HoldWarned'),
      60_000,
    );
    const message = condition(broken, 'HoldBroken')?.message ?? '';
    expect(message).toBe(
      `commit ${pushed.slice(0, 12)} by Deploy Pipeline <ci@example.com> set back replicaCount: 2 → 1 in carts/values.yaml; the policy (hold: warn) only warns, nothing is committed`,
    );
    expect(broken.status?.hold?.brokenBy).toMatchObject({ commit: pushed, author: 'Deploy Pipeline <ci@example.com>' });
    expect(broken.status?.phase).toBe('Evaluating');
    expect(await head(s)).toBe(pushed);
    expect(await reboundCommits(s)).toHaveLength(1);
    await expect.poll(() => eventsOf('warned'), { timeout: 10_000 }).toContain(`Warning HoldBroken: ${message}`);
    await kubectl(admin, ['annotate', 'problemevent', 'warned', '-n', NAMESPACE, 'rebound.dev/suspend=true']);
  });

  it('hold: reassert commits and applies the value again, once per push, until maxReasserts; then only warns', async () => {
    const s = await scenario({ mode: 'reassert', maxReasserts: 1 });
    await openAndApply(s, 'reasserted');
    const first = await deploy(s, '0.2.0');
    const fixed = await waitFor<ProblemEvent>(
      'problemevent',
      'reasserted',
      hasCondition('HoldBroken', 'True', 'HoldReasserted'),
      60_000,
    );
    const ours = fixed.status?.hold?.brokenBy?.reassertCommit ?? '';
    expect(await head(s)).toBe(ours);
    const commit = await show(s, ours);
    expect(commit).toContain(`Rebound-Reasserts: ${first}`);
    expect(commit).toContain('-replicaCount: 1 # the pipeline deploys one');
    expect(commit).toContain('+replicaCount: 2 # the pipeline deploys one');
    // The pipeline's own change stays.
    expect(
      (await runCommand('git', ['--git-dir', s.repoDir, 'show', 'production:carts/values.yaml'])).stdout,
    ).toContain('tag: 0.2.0');
    expect(fixed.status?.hold?.reasserts).toBe(1);
    expect(condition(fixed, 'HoldBroken')?.message).toContain(
      `commit ${first.slice(0, 12)} by Deploy Pipeline <ci@example.com>`,
    );
    expect(await deployedReplicas(s)).toBe(2);

    // The next deploy resets it again: the bound is reached, Rebound leaves it to a person.
    const second = await deploy(s, '0.3.0');
    const limited = await waitFor<ProblemEvent>(
      'problemevent',
      'reasserted',
      hasCondition('HoldBroken', 'True', 'ReassertLimitReached'),
      60_000,
    );
    expect(limited.status?.hold?.brokenBy?.commit).toBe(second);
    expect(limited.status?.hold?.reasserts).toBe(1);
    expect(await head(s)).toBe(second);
    expect((await reboundCommits(s)).filter((c) => c.includes('Rebound-Reasserts:'))).toHaveLength(1);
    await expect
      .poll(async () => (await eventsOf('reasserted')).filter((e) => e.startsWith('Warning HoldBroken:')).length, {
        timeout: 10_000,
      })
      .toBe(2);
    await kubectl(admin, ['annotate', 'problemevent', 'reasserted', '-n', NAMESPACE, 'rebound.dev/suspend=true']);
  });
});
