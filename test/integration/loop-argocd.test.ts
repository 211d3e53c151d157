// `apply: argocd` end to end with the real Argo CD (application-controller, repo-server and
// redis-server, test/harness/argocd.ts): Rebound commits to the stage branch, asks Argo CD to refresh
// the Application tracking it, and evaluates only once Argo CD reports the commit synced and the
// Application Healthy. The test cluster has no controller-manager, so a stand-in below writes each
// Deployment's status the way it would once the replicas are available (without it, Argo CD keeps
// the Deployment Progressing). `rebound controller` runs with its ServiceAccount and manifests/rbac.yaml.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ProblemEvent } from '../../src/api/index.ts';
import { ARGOCD_NAMESPACE, startArgoCd } from '../harness/argocd.ts';
import type { LocalArgoCd } from '../harness/argocd.ts';
import type { GitServer } from '../harness/git-server.ts';
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
  startE2eGitServer,
  startScrapedWorkload,
  stopInOrder,
} from './e2e-helpers.ts';

const cluster = inject('cluster');
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
  history?: { revision?: string; deployedAt?: string }[];
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
async function scenario(timeout: string): Promise<Scenario> {
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
        project: 'default',
        source: {
          repoURL: repo.url,
          targetRevision: 'production',
          path: 'carts',
          directory: { include: 'deployment.yaml' },
        },
        destination: { server: 'https://kubernetes.default.svc', namespace: stageNamespace },
        syncPolicy: { automated: { selfHeal: true } },
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
    const deployed = (await applicationStatus(s.application)).history?.find((h) => h.revision === sha)?.deployedAt;
    expect(deployed).toBeDefined();
    const committed = new Date(attempt?.committedTime ?? 0);
    const applied = new Date(attempt?.appliedTime ?? 0);
    const evaluated = new Date(attempt?.evaluationTime ?? 0);
    expect(attempt?.sync?.syncedTime).toBe(attempt?.appliedTime);
    expect(applied.getTime()).toBeGreaterThanOrEqual(new Date(deployed ?? 0).getTime());
    expect(new Date(deployed ?? 0).getTime()).toBeGreaterThanOrEqual(Math.floor(committed.getTime() / 1000) * 1000);
    expect(evaluated.getTime() - applied.getTime()).toBeGreaterThanOrEqual(EVALUATION_WAIT_MS);
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
});
