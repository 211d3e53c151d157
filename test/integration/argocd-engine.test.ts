// The real Argo CD of `apply: argocd` (application-controller, repo-server and redis-server on
// loopback, test/harness/argocd.ts) against the test cluster and the loopback Git server: an
// Application tracking a stage branch syncs the branch's commit, and a refresh request (the
// `argocd.argoproj.io/refresh` annotation, as `argocd app get --refresh` sets) makes it sync the
// next commit long before its own poll would; with the controller down nothing syncs, and it
// catches up once back. Then Rebound's applier (src/apply/argocd.ts) against it: it finds the
// Application by branch and path, asks for the refresh, and reports the commit synced only once the
// Application is Healthy too (the test cluster's controller-manager and simulated nodes roll the
// Deployment out).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ArgoCdClient } from '../../src/apply/argocd.ts';
import type { SyncState } from '../../src/apply/index.ts';
import { loadKubeConfig } from '../../src/kube/index.ts';
import { ARGOCD_NAMESPACE, startArgoCd } from '../harness/argocd.ts';
import type { LocalArgoCd } from '../harness/argocd.ts';
import type { GitServer } from '../harness/git-server.ts';
import { runCommand } from '../harness/process.ts';
import { applyObjects, createProjectRepo, kubectl } from '../harness/world.ts';
import { createNamespace, namespaceObjects, push, startE2eGitServer } from './e2e-helpers.ts';

const cluster = inject('cluster');
const admin = cluster.kubeconfigPath;
const NAMESPACE = `argocd-app-${randomBytes(3).toString('hex')}`;

const deployment = (replicas: number): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: carts
spec:
  replicas: ${String(replicas)}
  selector:
    matchLabels: { app: carts }
  template:
    metadata:
      labels: { app: carts }
    spec:
      containers:
        - name: carts
          image: docker.io/keptnexamples/carts:0.13.1
`;

interface Application {
  metadata: { annotations?: Record<string, string> };
  status?: { sync?: { status?: string; revision?: string }; operationState?: { phase?: string; message?: string } };
}

interface Scaled {
  spec: { replicas: number };
  status?: unknown;
}

let git: GitServer;
let argocd: LocalArgoCd;
let repoDir: string;
let repoUrl: string;

const apps = namespaceObjects({ kubeconfigPath: admin, namespace: ARGOCD_NAMESPACE, controllerOutput: () => '' });
const workloads = namespaceObjects({ kubeconfigPath: admin, namespace: NAMESPACE, controllerOutput: () => '' });

const head = async (): Promise<string> =>
  (await runCommand('git', ['--git-dir', repoDir, 'rev-parse', 'production'])).stdout.trim();

const syncedAt = (sha: string) => (app: Application) =>
  app.status?.sync?.status === 'Synced' && app.status.sync.revision === sha;

beforeAll(async () => {
  git = await startE2eGitServer();
  const repo = await createProjectRepo(git, {
    project: 'sockshop',
    service: 'carts',
    stages: ['production'],
    remediationStages: ['production'],
    files: { 'values.yaml': 'replicaCount: 1\n', 'deployment.yaml': deployment(1) },
  });
  repoDir = repo.dir;
  repoUrl = repo.url;
  await createNamespace(admin, NAMESPACE);
  // Argo CD's own poll is far away (an hour): only the refresh request can make it sync quickly.
  argocd = await startArgoCd({
    kubeconfigPath: admin,
    repositories: [{ url: repo.url, username: git.username, password: git.password }],
    resyncSeconds: 3600,
  });
  await applyObjects(admin, [
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'carts-production', namespace: ARGOCD_NAMESPACE },
      spec: {
        project: 'default',
        source: {
          repoURL: repo.url,
          targetRevision: 'production',
          path: 'carts',
          directory: { include: 'deployment.yaml' },
        },
        destination: { server: 'https://kubernetes.default.svc', namespace: NAMESPACE },
        syncPolicy: { automated: { selfHeal: true } },
      },
    },
  ]);
});

afterAll(async () => {
  // Later files of the run may start an Argo CD of their own on this cluster: leave them nothing to sync.
  await kubectl(admin, ['delete', 'application', 'carts-production', '-n', ARGOCD_NAMESPACE, '--ignore-not-found']);
  await argocd?.stop();
  await git?.stop();
});

const refresh = (): Promise<string> =>
  kubectl(admin, [
    'annotate',
    '--overwrite',
    '-n',
    ARGOCD_NAMESPACE,
    'application',
    'carts-production',
    'argocd.argoproj.io/refresh=normal',
  ]);

describe('Argo CD (application-controller + repo-server)', () => {
  it('syncs the branch head, then a pushed commit once asked to refresh', async () => {
    await apps.waitFor<Application>('application', 'carts-production', syncedAt(await head()), 90_000);
    expect((await workloads.get<{ spec: { replicas: number } }>('deployment', 'carts')).spec.replicas).toBe(1);

    await push(repoDir, 'production', { 'carts/deployment.yaml': deployment(3) }, 'carts: 3 replicas');
    const pushed = await head();
    await refresh();
    await apps.waitFor<Application>('application', 'carts-production', syncedAt(pushed), 60_000);
    await workloads.waitFor<Scaled>('deployment', 'carts', (d) => d.spec.replicas === 3);
  });

  it('syncs nothing while the application-controller is down, and catches up once it is back', async () => {
    await argocd.stopController();
    await push(repoDir, 'production', { 'carts/deployment.yaml': deployment(2) }, 'carts: 2 replicas');
    const pushed = await head();
    await refresh();
    // The annotation stays until a controller handles it: nothing else would.
    const waiting = await apps.get<Application>('application', 'carts-production');
    expect(waiting.metadata.annotations?.['argocd.argoproj.io/refresh']).toBe('normal');
    expect(waiting.status?.sync?.revision).not.toBe(pushed);

    await argocd.startController();
    await apps.waitFor<Application>('application', 'carts-production', syncedAt(pushed), 60_000);
    await workloads.waitFor<Scaled>('deployment', 'carts', (d) => d.spec.replicas === 2);
  });
});

describe('the argocd applier (ArgoCdClient) with the real Argo CD', () => {
  const client = new ArgoCdClient(loadKubeConfig({ kind: 'file', path: admin }));
  const request = (commit: string, branch = 'production') => ({
    project: 'sockshop',
    stage: 'production',
    service: 'carts',
    namespace: NAMESPACE,
    branch,
    commit,
    repoUrl,
    path: 'carts/deployment.yaml',
  });

  it('asks for a refresh of the tracking Application and reports the commit once synced and Healthy', async () => {
    await push(repoDir, 'production', { 'carts/deployment.yaml': deployment(4) }, 'carts: 4 replicas');
    const commit = await head();
    const result = await client.apply(request(commit));
    expect(result.sync).toMatchObject({ engine: 'argocd', objects: [`${ARGOCD_NAMESPACE}/carts-production`] });
    const target = { engine: 'argocd' as const, branch: 'production', commit, objects: result.sync?.objects ?? [] };
    const same = (a: string, d: string): Promise<boolean> => Promise.resolve(a === d);

    // The cluster's controller-manager and simulated nodes roll the Deployment out for real: Argo CD
    // reports it Healthy at the pushed commit, and only then is the commit synced.
    let state: SyncState | undefined;
    await expect
      .poll(async () => (state = await client.check(target, same)).kind, { timeout: 60_000, interval: 250 })
      .toBe('synced');
    expect(state).toMatchObject({ kind: 'synced', revision: commit });
  });

  it('refuses a branch no Application tracks', async () => {
    await expect(client.apply(request(await head(), 'staging'))).rejects.toMatchObject({ code: 'SyncTargetNotFound' });
  });
});
