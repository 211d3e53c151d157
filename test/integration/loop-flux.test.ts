// `apply: flux` end to end with the real Flux controllers: Rebound commits to the stage branch, asks
// Flux to reconcile, and evaluates only once Flux reports the commit. source-controller fetches from
// the loopback Git server, kustomize-controller applies the service's plain manifests (a Keptn-layout
// repository for the kustomize case: replicas in carts/deployment.yaml, edited through the
// Remediation's values.file and replicaCountKey), and the sample workload's metrics follow the
// Deployment Flux applied. `rebound controller` runs with its ServiceAccount and manifests/rbac.yaml.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attempt, ProblemEvent } from '../../src/api/index.ts';
import { FLUX_NAMESPACE, startFlux } from '../harness/flux.ts';
import type { LocalFlux } from '../harness/flux.ts';
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
  installControllerRbac,
  kubectl,
  startControllerProcess,
} from '../harness/world.ts';
import type { ControllerProcess } from '../harness/world.ts';
import {
  cartsDeployment,
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
const NAMESPACE = `flux-${suffix()}`;
const EVALUATION_WAIT_MS = 4_000;

const KUSTOMIZATION =
  'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n';
const BROKEN_KUSTOMIZATION =
  'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n  - missing.yaml\n';

let git: GitServer;
let prometheus: LocalPrometheus;
let workload: SampleWorkload;
let flux: LocalFlux;
let controller: ControllerProcess | undefined;

const { get, waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller?.process.recentOutput() ?? '',
});

interface Scenario {
  project: string;
  repoDir: string;
  stageNamespace: string;
  /** The Kustomization (and GitRepository) in flux-system that syncs the stage. */
  kustomization: string;
}

interface FluxStatus {
  lastAppliedRevision?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  history?: { firstReconciled?: string; lastReconciledStatus?: string; metadata?: { revision?: string } }[];
}

/**
 * A project whose production branch Flux syncs: the repository, the Project (`apply: flux`), a
 * Remediation that scales through deployment.yaml, and Flux's GitRepository and Kustomization, synced
 * once before the test goes on. Flux's own poll is 1h: only Rebound's request makes it act soon.
 */
async function scenario(
  timeout: string,
  options: { revertAfter?: string; objectiveMs?: number } = {},
): Promise<Scenario> {
  const project = `p-${suffix()}`;
  const stageNamespace = `${project}-production`;
  const repo = await createProjectRepo(git, {
    project,
    service: 'carts',
    stages: ['production'],
    remediationStages: ['production'],
    // values.yaml only marks the directory as the service's for the repository seeder; Flux reads kustomization.yaml.
    files: {
      'values.yaml': 'replicaCount: 1\n',
      'deployment.yaml': cartsDeployment(1),
      'kustomization.yaml': KUSTOMIZATION,
      'slo.yaml': sampleSlo(options.objectiveMs ?? 700),
      'sli.yaml': SAMPLE_SLI,
    },
  });
  const kustomization = project;
  await kubectl(admin, ['create', 'namespace', stageNamespace]);
  await applyObjects(admin, [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `git-${project}`, namespace: FLUX_NAMESPACE },
      stringData: { username: git.username, password: git.password },
    },
    {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name: kustomization, namespace: FLUX_NAMESPACE },
      spec: { url: repo.url, ref: { branch: 'production' }, interval: '1h', secretRef: { name: `git-${project}` } },
    },
    {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: kustomization, namespace: FLUX_NAMESPACE },
      spec: {
        interval: '1h',
        retryInterval: '2s',
        path: './carts',
        prune: false,
        targetNamespace: stageNamespace,
        sourceRef: { kind: 'GitRepository', name: kustomization },
      },
    },
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Project',
      metadata: { name: project, namespace: NAMESPACE },
      spec: {
        git: { url: repo.url, secretRef: { name: 'git' }, author: { name: 'Rebound', email: 'rebound@example.com' } },
        stages: [{ name: 'production', remediation: 'automated', apply: 'flux', gitops: { timeout } }],
      },
    },
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Remediation',
      metadata: { name: project, namespace: NAMESPACE },
      spec: {
        project,
        stage: 'production',
        service: 'carts',
        remediations: [
          {
            problemType: 'default',
            actionsOnOpen: [{ name: 'scale up', action: 'scale', value: '+1' }],
            ...(options.revertAfter ? { revertAfter: options.revertAfter } : {}),
          },
        ],
        values: { file: 'carts/deployment.yaml', replicaCountKey: 'spec.replicas' },
        evaluation: { wait: `${String(EVALUATION_WAIT_MS / 1000)}s` },
      },
    },
  ]);
  await waitForFlux(
    kustomization,
    (s) => s.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
  );
  workload.addTarget({ project, stage: 'production', service: 'carts', namespace: stageNamespace });
  return { project, repoDir: repo.dir, stageNamespace, kustomization };
}

async function fluxStatus(name: string): Promise<FluxStatus> {
  return JSON.parse(
    await kubectl(admin, ['get', 'kustomization', name, '-n', FLUX_NAMESPACE, '-o', 'jsonpath={.status}']),
  ) as FluxStatus;
}

async function waitForFlux(name: string, check: (s: FluxStatus) => boolean, timeoutMs = 90_000): Promise<FluxStatus> {
  let last: FluxStatus | undefined;
  await expect
    .poll(async () => check((last = await fluxStatus(name).catch(() => ({})))), { timeout: timeoutMs, interval: 250 })
    .toBe(true)
    .catch((err: unknown) => {
      throw new Error(`Kustomization ${name}: not reached: ${JSON.stringify(last, null, 2)}`, { cause: err });
    });
  return last ?? {};
}

async function createProblem(s: Scenario, name: string): Promise<void> {
  await openProblem(admin, { namespace: NAMESPACE, name, project: s.project });
}

/** `flux reconcile source git NAME`: the annotation source-controller acts on at once. */
async function reconcileSource(s: Scenario): Promise<void> {
  await kubectl(admin, [
    'annotate',
    '--overwrite',
    'gitrepository',
    s.kustomization,
    '-n',
    FLUX_NAMESPACE,
    `reconcile.fluxcd.io/requestedAt=${new Date().toISOString()}`,
  ]);
}

async function waitForSource(s: Scenario, sha: string): Promise<void> {
  await expect
    .poll(
      () =>
        kubectl(admin, [
          'get',
          'gitrepository',
          s.kustomization,
          '-n',
          FLUX_NAMESPACE,
          '-o',
          'jsonpath={.status.artifact.revision}',
        ]),
      { timeout: 60_000, interval: 250 },
    )
    .toBe(`production@sha1:${sha}`);
}

async function liveReplicas(s: Scenario): Promise<number> {
  return Number(
    await kubectl(admin, ['get', 'deployment', 'carts', '-n', s.stageNamespace, '-o', 'jsonpath={.spec.replicas}']),
  );
}

async function head(s: Scenario): Promise<string> {
  return (await runCommand('git', ['--git-dir', s.repoDir, 'rev-parse', 'production'])).stdout.trim();
}

/** When Flux first reconciled a revision successfully (its history records it, to the second). */
function firstReconciled(status: FluxStatus, sha: string): Date {
  const entry = status.history?.find(
    (h) => h.metadata?.revision === `production@sha1:${sha}` && h.lastReconciledStatus === 'ReconciliationSucceeded',
  );
  if (!entry?.firstReconciled)
    throw new Error(`Flux's history has no successful reconcile of ${sha}: ${JSON.stringify(status.history)}`);
  return new Date(entry.firstReconciled);
}

/**
 * The recorded timeline of a resolved attempt: Flux first reconciled `sha` (its history) no earlier
 * than the push, Rebound counted it applied no earlier than that, and the evaluation started the
 * wait later.
 */
async function expectEvaluatedAfterReported(s: Scenario, attempt: Attempt | undefined, sha: string): Promise<void> {
  const reported = firstReconciled(await fluxStatus(s.kustomization), sha);
  const committed = new Date(attempt?.committedTime ?? 0);
  const applied = new Date(attempt?.appliedTime ?? 0);
  const evaluated = new Date(attempt?.evaluationTime ?? 0);
  expect(attempt?.sync?.syncedTime).toBe(attempt?.appliedTime);
  // Flux's time is whole seconds: its report happened within the second it names.
  expect(applied.getTime()).toBeGreaterThanOrEqual(reported.getTime());
  expect(reported.getTime()).toBeGreaterThanOrEqual(Math.floor(committed.getTime() / 1000) * 1000);
  expect(evaluated.getTime() - applied.getTime()).toBeGreaterThanOrEqual(EVALUATION_WAIT_MS);
}

beforeAll(async () => {
  await installControllerRbac(admin);
  git = await startE2eGitServer();
  flux = await startFlux({ kubeconfigPath: admin });
  await kubectl(admin, ['create', 'namespace', FLUX_NAMESPACE]).catch(() => undefined); // shared by later files of the run
  ({ workload, prometheus } = await startScrapedWorkload(admin));
  await createNamespace(admin, NAMESPACE, [gitSecret(NAMESPACE, git)]);
  controller = await startControllerProcess({
    kubeconfigPath: cluster.controllerKubeconfigPath,
    prometheusUrl: prometheus.url,
    metricsPort: await freePort(),
    args: [
      '--namespace',
      NAMESPACE,
      '--sync-poll=250ms',
      '--evaluation-retry=1s',
      '--stalled-recheck=2s',
      '--lease-duration=3s',
      '--log-level=debug',
    ],
  });
}, 180_000);

afterAll(() => stopInOrder(controller, prometheus, workload, flux, git));

describe('apply: flux with the real Flux controllers', () => {
  it('(a) problem → commit → Flux syncs → evaluation → Resolved, never evaluating before Flux reported the commit', async () => {
    const s = await scenario('2m');
    await createProblem(s, 'slow');
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'slow',
      phase('Resolved', 'Exhausted', 'Unhandled'),
      120_000,
    );
    expect(done.status?.phase).toBe('Resolved');
    const attempt = done.status?.attempts?.[0];
    const sha = attempt?.commit ?? '';
    expect(sha).toBe(await head(s));
    expect(attempt?.sync).toMatchObject({
      engine: 'flux',
      objects: [`${FLUX_NAMESPACE}/${s.kustomization}`],
      revision: `production@sha1:${sha}`,
    });
    expect(await liveReplicas(s)).toBe(2);

    // The timeline: pushed, then Flux reported the commit, then (the wait later) the evaluation.
    await expectEvaluatedAfterReported(s, attempt, sha);
  });

  it('(b) Flux down: the problem stalls with SyncTimedOut, and resolves once kustomize-controller is back', async () => {
    const s = await scenario('3s');
    await flux.stopKustomizeController();
    try {
      await createProblem(s, 'engine-down');
      const stalled = await waitFor<ProblemEvent>(
        'problemevent',
        'engine-down',
        hasCondition('Stalled', 'True', 'SyncTimedOut'),
        60_000,
      );
      expect(condition(stalled, 'Stalled')?.message).toMatch(/has not handled the reconcile request/);
      expect(stalled.status?.attempts?.[0]?.appliedTime).toBeUndefined();
      expect(stalled.status?.attempts?.[0]?.evaluationTime).toBeUndefined();
      expect(await liveReplicas(s)).toBe(1);
    } finally {
      await flux.startKustomizeController();
    }
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'engine-down',
      phase('Resolved', 'Exhausted', 'Unhandled'),
      120_000,
    );
    expect(done.status?.phase).toBe('Resolved');
    expect(condition(done, 'Stalled')?.status).toBe('False');
    expect(await liveReplicas(s)).toBe(2);
  });

  it("(c) a person's push on top of Rebound's commit: Flux applies theirs, which holds ours, and that counts", async () => {
    const s = await scenario('2m');
    // Only kustomize-controller is stopped: the source still fetches, so Flux's next apply is theirs.
    await flux.stopKustomizeController();
    let theirs: string;
    try {
      await createProblem(s, 'pushed-on-top');
      const waiting = await waitFor<ProblemEvent>(
        'problemevent',
        'pushed-on-top',
        hasCondition('Reconciling', 'True', 'WaitingForSync'),
        60_000,
      );
      const ours = waiting.status?.attempts?.[0]?.commit ?? '';
      expect(ours).toBe(await head(s));
      await push(
        s.repoDir,
        'production',
        { 'carts/NOTES.md': 'scaled by Rebound; noted by a person\n' },
        'notes on the scale-up',
      );
      theirs = await head(s);
      expect(theirs).not.toBe(ours);
      await reconcileSource(s);
      await waitForSource(s, theirs);
    } finally {
      await flux.startKustomizeController();
    }
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'pushed-on-top',
      phase('Resolved', 'Exhausted', 'Unhandled'),
      120_000,
    );
    expect(done.status?.phase).toBe('Resolved');
    expect(done.status?.attempts?.[0]?.sync?.revision).toBe(`production@sha1:${theirs}`);
    expect(await liveReplicas(s)).toBe(2);
    await expectEvaluatedAfterReported(s, done.status?.attempts?.[0], theirs);
  });

  it("(d) a sync that fails stalls with SyncFailed and Flux's message; a fix pushed on top resolves it", async () => {
    const s = await scenario('2m');
    // A person breaks the branch first: every later commit, Rebound's too, fails to build.
    await push(
      s.repoDir,
      'production',
      { 'carts/kustomization.yaml': BROKEN_KUSTOMIZATION },
      'add a resource (forgot the file)',
    );
    await createProblem(s, 'sync-fails');
    const stalled = await waitFor<ProblemEvent>(
      'problemevent',
      'sync-fails',
      hasCondition('Stalled', 'True', 'SyncFailed'),
      60_000,
    );
    const message = condition(stalled, 'Stalled')?.message ?? '';
    expect(message).toContain(
      `Kustomization ${FLUX_NAMESPACE}/${s.kustomization} failed at production@sha1:${stalled.status?.attempts?.[0]?.commit ?? ''}`,
    );
    expect(message).toMatch(/missing\.yaml/);
    expect(stalled.status?.attempts?.[0]?.evaluationTime).toBeUndefined();

    await push(s.repoDir, 'production', { 'carts/kustomization.yaml': KUSTOMIZATION }, 'drop the missing resource');
    const fix = await head(s);
    // The person asks Flux to fetch now, as `flux reconcile source git` does (its own poll is 1h here).
    await reconcileSource(s);
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'sync-fails',
      phase('Resolved', 'Exhausted', 'Unhandled'),
      120_000,
    );
    expect(done.status?.phase).toBe('Resolved');
    expect(done.status?.attempts?.[0]?.sync?.revision).toBe(`production@sha1:${fix}`);
    expect(await liveReplicas(s)).toBe(2);
    await expectEvaluatedAfterReported(s, done.status?.attempts?.[0], fix);
  });

  it('(e) a stage whose branch no Kustomization tracks stalls with SyncTargetNotFound', async () => {
    const s = await scenario('2m');
    await kubectl(admin, ['delete', 'kustomization', s.kustomization, '-n', FLUX_NAMESPACE]);
    await createProblem(s, 'untracked');
    const stalled = await waitFor<ProblemEvent>(
      'problemevent',
      'untracked',
      hasCondition('Stalled', 'True', 'SyncTargetNotFound'),
      60_000,
    );
    expect(condition(stalled, 'Stalled')?.message).toContain('no Flux Kustomization tracks branch production');
    expect(stalled.status?.attempts?.[0]?.commit).toBe(await head(s));
    const again = await get<ProblemEvent>('problemevent', 'untracked');
    expect(again.status?.attempts).toHaveLength(1);
  });
  it('(f) undo after resolve: the revert is evaluated only after Flux reported the revert commit', async () => {
    // 900 ms at one replica meets a 1000 ms objective: the revert passes once it is live.
    const s = await scenario('2m', { revertAfter: '2s', objectiveMs: 1000 });
    await createProblem(s, 'undo');
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'undo',
      phase('Reverted', 'Resolved', 'Exhausted', 'Unhandled'),
      180_000,
    );
    expect(done.status?.phase).toBe('Reverted');
    const revert = done.status?.revert;
    const sha = revert?.commit ?? '';
    expect(sha).toBe(await head(s));
    expect(revert?.sync).toMatchObject({ engine: 'flux', revision: `production@sha1:${sha}` });
    expect(revert?.sync?.syncedTime).toBe(revert?.appliedTime);
    expect(await liveReplicas(s)).toBe(1);
    // Flux reported the revert commit before Rebound counted it applied, and the evaluation came later.
    const reported = firstReconciled(await fluxStatus(s.kustomization), sha);
    const applied = new Date(revert?.appliedTime ?? 0);
    expect(applied.getTime()).toBeGreaterThanOrEqual(reported.getTime());
    expect(new Date(revert?.evaluationTime ?? 0).getTime() - applied.getTime()).toBeGreaterThanOrEqual(
      EVALUATION_WAIT_MS,
    );
  });
});
