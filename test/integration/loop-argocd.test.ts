// `apply: argocd` end to end with the real Argo CD (application-controller, repo-server and
// redis-server, test/harness/argocd.ts): Rebound commits to the stage branch, asks Argo CD to refresh
// the Application tracking it, and evaluates only once Argo CD reports the commit synced and the
// Application Healthy. The test cluster has no controller-manager, so a stand-in below writes each
// Deployment's status the way it would once the replicas are available (without it, Argo CD keeps
// the Deployment Progressing). `rebound controller` runs with its ServiceAccount and manifests/rbac.yaml.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attempt, ProblemEvent } from '../../src/api/index.ts';
import { ARGOCD_NAMESPACE, startArgoCd } from '../harness/argocd.ts';
import type { LocalArgoCd } from '../harness/argocd.ts';
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
const NAMESPACE = `argo-${suffix()}`;
const EVALUATION_WAIT_MS = 4_000;

let git: GitServer;
let prometheus: LocalPrometheus;
let workload: SampleWorkload;
let argocd: LocalArgoCd;
let controller: ControllerProcess | undefined;
let standIn: { stop: () => Promise<void> } | undefined;

const { waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller?.process.recentOutput() ?? '',
});

interface Scenario {
  project: string;
  repoDir: string;
  stageNamespace: string;
  application: string;
}

interface ApplicationStatus {
  sync?: { status?: string; revision?: string };
  health?: { status?: string };
  history?: { revision?: string; deployStartedAt?: string; deployedAt?: string }[];
  operationState?: { phase?: string; message?: string; operation?: { sync?: { revision?: string } } };
}

/**
 * What the controller-manager would do for the stage namespaces: every Deployment whose status lags
 * its spec gets the status of all its replicas available. Polls until stopped.
 */
function startDeploymentStandIn(namespaces: () => readonly string[]): { stop: () => Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const ns of namespaces()) {
        const out = await kubectl(admin, ['get', 'deployments', '-n', ns, '-o', 'json']).catch(() => '{"items":[]}');
        const items = (
          JSON.parse(out) as {
            items: {
              metadata: { name: string; generation: number };
              spec: { replicas?: number };
              status?: { observedGeneration?: number };
            }[];
          }
        ).items;
        for (const d of items) {
          if (d.status?.observedGeneration === d.metadata.generation) continue;
          const n = d.spec.replicas ?? 1;
          await kubectl(admin, [
            'patch',
            'deployment',
            d.metadata.name,
            '-n',
            ns,
            '--subresource=status',
            '--type=merge',
            '-p',
            JSON.stringify({
              status: {
                observedGeneration: d.metadata.generation,
                replicas: n,
                updatedReplicas: n,
                readyReplicas: n,
                availableReplicas: n,
                conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }],
              },
            }),
          ]).catch(() => undefined);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

const stageNamespaces: string[] = [];

/**
 * A project whose production branch Argo CD syncs: the repository, the Project (`apply: argocd`), a
 * Remediation that scales through deployment.yaml, and the Application, synced once before the test
 * goes on. Argo CD's own poll is an hour: only Rebound's refresh request makes it act soon.
 */
async function scenario(
  timeout: string,
  options: { appProject?: boolean; retry?: Record<string, unknown> } = {},
): Promise<Scenario> {
  const project = `p-${suffix()}`;
  const stageNamespace = `${project}-production`;
  const repo = await createProjectRepo(git, {
    project,
    service: 'carts',
    stages: ['production'],
    remediationStages: ['production'],
    files: {
      'values.yaml': 'replicaCount: 1\n',
      'deployment.yaml': cartsDeployment(1),
      'slo.yaml': sampleSlo(700),
      'sli.yaml': SAMPLE_SLI,
    },
  });
  const application = project;
  await kubectl(admin, ['create', 'namespace', stageNamespace]);
  stageNamespaces.push(stageNamespace);
  await applyObjects(admin, [
    // An AppProject of its own when the test gives it sync windows; `default` otherwise.
    ...(options.appProject
      ? [
          {
            apiVersion: 'argoproj.io/v1alpha1',
            kind: 'AppProject',
            metadata: { name: project, namespace: ARGOCD_NAMESPACE },
            spec: {
              sourceRepos: ['*'],
              destinations: [{ server: '*', namespace: '*' }],
              clusterResourceWhitelist: [{ group: '*', kind: '*' }],
            },
          },
        ]
      : []),
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: `repo-${project}`,
        namespace: ARGOCD_NAMESPACE,
        labels: { 'argocd.argoproj.io/secret-type': 'repository' },
      },
      stringData: { type: 'git', url: repo.url, username: git.username, password: git.password },
    },
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: application, namespace: ARGOCD_NAMESPACE },
      spec: {
        project: options.appProject ? project : 'default',
        source: {
          repoURL: repo.url,
          targetRevision: 'production',
          path: 'carts',
          // extra.yaml: where a person's push can break the sync (the sync-failure case).
          directory: { include: '{deployment.yaml,extra.yaml}' },
        },
        destination: { server: 'https://kubernetes.default.svc', namespace: stageNamespace },
        syncPolicy: { automated: { selfHeal: true }, ...(options.retry ? { retry: options.retry } : {}) },
      },
    },
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Project',
      metadata: { name: project, namespace: NAMESPACE },
      spec: {
        git: { url: repo.url, secretRef: { name: 'git' }, author: { name: 'Rebound', email: 'rebound@example.com' } },
        stages: [{ name: 'production', remediation: 'automated', apply: 'argocd', gitops: { timeout } }],
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
        remediations: [{ problemType: 'default', actionsOnOpen: [{ name: 'scale up', action: 'scale', value: '+1' }] }],
        values: { file: 'carts/deployment.yaml', replicaCountKey: 'spec.replicas' },
        evaluation: { wait: `${String(EVALUATION_WAIT_MS / 1000)}s` },
      },
    },
  ]);
  await waitForApplication(application, (s) => s.sync?.status === 'Synced' && s.health?.status === 'Healthy');
  workload.addTarget({ project, stage: 'production', service: 'carts', namespace: stageNamespace });
  return { project, repoDir: repo.dir, stageNamespace, application };
}

async function applicationStatus(name: string): Promise<ApplicationStatus> {
  return JSON.parse(
    await kubectl(admin, ['get', 'application', name, '-n', ARGOCD_NAMESPACE, '-o', 'jsonpath={.status}']),
  ) as ApplicationStatus;
}

async function waitForApplication(
  name: string,
  check: (s: ApplicationStatus) => boolean,
  timeoutMs = 90_000,
): Promise<ApplicationStatus> {
  let last: ApplicationStatus | undefined;
  await expect
    .poll(async () => check((last = await applicationStatus(name).catch(() => ({})))), {
      timeout: timeoutMs,
      interval: 250,
    })
    .toBe(true)
    .catch((err: unknown) => {
      throw new Error(`Application ${name}: not reached: ${JSON.stringify(last, null, 2)}`, { cause: err });
    });
  return last ?? {};
}

async function createProblem(s: Scenario, name: string): Promise<void> {
  await openProblem(admin, { namespace: NAMESPACE, name, project: s.project });
}

async function liveReplicas(s: Scenario): Promise<number> {
  return Number(
    await kubectl(admin, ['get', 'deployment', 'carts', '-n', s.stageNamespace, '-o', 'jsonpath={.spec.replicas}']),
  );
}

async function head(s: Scenario): Promise<string> {
  return (await runCommand('git', ['--git-dir', s.repoDir, 'rev-parse', 'production'])).stdout.trim();
}

/** What a person does with `argocd app get --refresh`: Argo CD compares with the branch now. */
async function personRefreshes(s: Scenario): Promise<void> {
  await kubectl(admin, [
    'annotate',
    'application',
    s.application,
    '-n',
    ARGOCD_NAMESPACE,
    'argocd.argoproj.io/refresh=normal',
    '--overwrite',
  ]);
}

/**
 * The recorded timeline of a resolved attempt, from Argo CD's history of `revision` (whole seconds)
 * and the attempt: Argo CD started deploying it no earlier than the push; Rebound counted it applied
 * no earlier than that start (Argo CD reports the Application Synced and Healthy while the operation
 * finishes, so its `deployedAt` may come a moment after Rebound saw the report); the evaluation's
 * window starts no earlier than that, and the evaluation ran after Argo CD's deploy had completed.
 */
async function expectEvaluatedAfterDeployed(
  s: Scenario,
  attempt: Attempt | undefined,
  revision: string,
): Promise<void> {
  const entry = (await applicationStatus(s.application)).history?.find((h) => h.revision === revision);
  expect(entry?.deployStartedAt).toBeDefined();
  expect(entry?.deployedAt).toBeDefined();
  const started = new Date(entry?.deployStartedAt ?? 0).getTime();
  const deployed = new Date(entry?.deployedAt ?? 0).getTime();
  const committed = new Date(attempt?.committedTime ?? 0).getTime();
  const applied = new Date(attempt?.appliedTime ?? 0).getTime();
  const windowStart = new Date(attempt?.evaluationStart ?? 0).getTime();
  const evaluated = new Date(attempt?.evaluationTime ?? 0).getTime();
  expect(attempt?.sync?.syncedTime).toBe(attempt?.appliedTime);
  expect(started).toBeGreaterThanOrEqual(Math.floor(committed / 1000) * 1000);
  expect(applied).toBeGreaterThanOrEqual(started);
  expect(windowStart).toBeGreaterThanOrEqual(applied);
  expect(evaluated - applied).toBeGreaterThanOrEqual(EVALUATION_WAIT_MS);
  expect(evaluated).toBeGreaterThanOrEqual(deployed);
}

beforeAll(async () => {
  await installControllerRbac(admin);
  git = await startE2eGitServer();
  argocd = await startArgoCd({ kubeconfigPath: admin, resyncSeconds: 3600 });
  standIn = startDeploymentStandIn(() => stageNamespaces);
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

afterAll(() => stopInOrder(controller, prometheus, workload, standIn, argocd, git));

describe('apply: argocd with the real Argo CD', () => {
  it('(a) problem → commit → Argo CD syncs → evaluation → Resolved, never evaluating before Argo CD deployed the commit', async () => {
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
      engine: 'argocd',
      objects: [`${ARGOCD_NAMESPACE}/${s.application}`],
      revision: sha,
    });
    expect(await liveReplicas(s)).toBe(2);

    // The timeline: pushed, then Argo CD deployed the commit (its history, to the second), then the evaluation.
    await expectEvaluatedAfterDeployed(s, attempt, sha);
  });

  it('(b) Argo CD down: the problem stalls with SyncTimedOut, and resolves once the application-controller is back', async () => {
    const s = await scenario('3s');
    await argocd.stopController();
    try {
      await createProblem(s, 'engine-down');
      const stalled = await waitFor<ProblemEvent>(
        'problemevent',
        'engine-down',
        hasCondition('Stalled', 'True', 'SyncTimedOut'),
        60_000,
      );
      expect(condition(stalled, 'Stalled')?.message).toMatch(/has not handled the refresh request/);
      expect(stalled.status?.attempts?.[0]?.appliedTime).toBeUndefined();
      expect(stalled.status?.attempts?.[0]?.evaluationTime).toBeUndefined();
      expect(await liveReplicas(s)).toBe(1);
    } finally {
      await argocd.startController();
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

  it("(c) a person's push on top of Rebound's commit: Argo CD syncs theirs, which holds ours, and that counts", async () => {
    const s = await scenario('2m');
    // The application-controller is down while the person pushes: its first sync afterwards is theirs.
    await argocd.stopController();
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
    } finally {
      await argocd.startController();
    }
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'pushed-on-top',
      phase('Resolved', 'Exhausted', 'Unhandled'),
      120_000,
    );
    expect(done.status?.phase).toBe('Resolved');
    const attempt = done.status?.attempts?.[0];
    expect(attempt?.sync?.revision).toBe(theirs);
    expect(await liveReplicas(s)).toBe(2);
    await expectEvaluatedAfterDeployed(s, attempt, theirs);
  });

  it("(d) a sync that fails stalls with SyncFailed and Argo CD's message; a fix pushed on top resolves it", async () => {
    // One retry a second later (Argo CD's default is five, backing off to minutes).
    const s = await scenario('2m', { retry: { limit: 1, backoff: { duration: '1s', factor: 1, maxDuration: '1s' } } });
    // A person breaks the branch first (a ConfigMap name the API server refuses): Argo CD's sync of
    // every later commit, Rebound's too, fails.
    await push(s.repoDir, 'production', { 'carts/extra.yaml': configMap('Not_A_Valid_Name') }, 'add a ConfigMap');
    await createProblem(s, 'sync-fails');
    const stalled = await waitFor<ProblemEvent>(
      'problemevent',
      'sync-fails',
      hasCondition('Stalled', 'True', 'SyncFailed'),
      90_000,
    );
    const ours = stalled.status?.attempts?.[0]?.commit ?? '';
    expect(ours).toBe(await head(s));
    // Argo CD's own words, quoted in the condition: while it retries (its message is then the failure
    // and when it retries, or only "Retrying operation. Attempt #1" while the retry runs), then once
    // it gave up.
    expect(condition(stalled, 'Stalled')?.message).toContain(
      `Application ${ARGOCD_NAMESPACE}/${s.application} failed to sync`,
    );
    const failed = await waitForApplication(s.application, (a) => a.operationState?.phase === 'Failed');
    expect(failed.operationState?.operation?.sync?.revision).toBe(ours);
    const gaveUp = await waitFor<ProblemEvent>('problemevent', 'sync-fails', (p) =>
      (condition(p, 'Stalled')?.message ?? '').includes('failed to sync: Failed: '),
    );
    expect(condition(gaveUp, 'Stalled')?.message).toContain(failed.operationState?.message ?? 'no message');
    expect(condition(gaveUp, 'Stalled')?.message).toMatch(/ConfigMap "Not_A_Valid_Name" is invalid/);
    expect(gaveUp.status?.attempts?.[0]?.appliedTime).toBeUndefined();
    // Not evaluated: Argo CD did apply what it could of the commit (the Deployment), but it reports the
    // sync failed, so the commit is not live as a whole.
    expect(gaveUp.status?.attempts?.[0]?.evaluationTime).toBeUndefined();

    await push(s.repoDir, 'production', { 'carts/extra.yaml': configMap('carts-notes') }, 'a valid ConfigMap name');
    const fix = await head(s);
    // Argo CD's own poll is an hour here: the person asks it to refresh, as `argocd app get --refresh` does.
    await personRefreshes(s);
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'sync-fails',
      phase('Resolved', 'Exhausted', 'Unhandled'),
      120_000,
    );
    expect(done.status?.phase).toBe('Resolved');
    const attempt = done.status?.attempts?.[0];
    expect(attempt?.sync?.revision).toBe(fix);
    expect(condition(done, 'Stalled')?.status).toBe('False');
    expect(await liveReplicas(s)).toBe(2);
    await expectEvaluatedAfterDeployed(s, attempt, fix);
  });

  it('(e) a deny sync window: WaitingForSync then SyncTimedOut naming the window, nothing lost, synced once it ends', async () => {
    // Long enough to see WaitingForSync with the window's name first, also on a busy machine.
    const s = await scenario('8s', { appProject: true });
    // Denies every sync of the Application from every minute on for an hour: always active.
    await kubectl(admin, [
      'patch',
      'appproject',
      s.project,
      '-n',
      ARGOCD_NAMESPACE,
      '--type=merge',
      '-p',
      JSON.stringify({
        spec: {
          syncWindows: [
            { kind: 'deny', schedule: '* * * * *', duration: '1h', applications: [s.application], manualSync: false },
          ],
        },
      }),
    ]);
    await createProblem(s, 'windowed');
    const waiting = await waitFor<ProblemEvent>(
      'problemevent',
      'windowed',
      (p) =>
        hasCondition('Reconciling', 'True', 'WaitingForSync')(p) &&
        /sync window/.test(condition(p, 'Reconciling')?.message ?? ''),
      60_000,
    );
    const ours = waiting.status?.attempts?.[0]?.commit ?? '';
    expect(ours).toBe(await head(s));
    expect(condition(waiting, 'Reconciling')?.message).toContain(
      `a deny sync window of AppProject ${s.project} is active: deny '* * * * *' for 1h`,
    );
    const stalled = await waitFor<ProblemEvent>(
      'problemevent',
      'windowed',
      hasCondition('Stalled', 'True', 'SyncTimedOut'),
      60_000,
    );
    expect(condition(stalled, 'Stalled')?.message).toMatch(/deny sync window of AppProject/);
    // Argo CD compared the commit (the window does not stop that) and left it unsynced.
    const compared = await applicationStatus(s.application);
    expect(compared.sync).toMatchObject({ status: 'OutOfSync', revision: ours });
    expect(stalled.status?.attempts?.[0]?.appliedTime).toBeUndefined();
    expect(stalled.status?.attempts?.[0]?.evaluationTime).toBeUndefined();
    expect(stalled.status?.attempts).toHaveLength(1);
    expect(await liveReplicas(s)).toBe(1);

    // The window ends (a person removes it): Rebound asks for the refresh again and Argo CD syncs.
    await kubectl(admin, [
      'patch',
      'appproject',
      s.project,
      '-n',
      ARGOCD_NAMESPACE,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { syncWindows: null } }),
    ]);
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'windowed',
      phase('Resolved', 'Exhausted', 'Unhandled'),
      120_000,
    );
    expect(done.status?.phase).toBe('Resolved');
    const attempt = done.status?.attempts?.[0];
    expect(attempt?.sync?.revision).toBe(ours);
    expect(await liveReplicas(s)).toBe(2);
    await expectEvaluatedAfterDeployed(s, attempt, ours);
  });
});

function configMap(name: string): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
data:
  note: scaled by hand once
`;
}
