// Argo CD (v3.2.11, built from its Go module by `make setup`) on loopback against a local cluster:
// the GitOps engine of `apply: argocd`. Three processes: Debian's redis-server (Argo CD's cache, no
// persistence), the repo-server (renders manifests from Git; plaintext gRPC on loopback) and the
// application-controller (syncs Applications into the cluster it reaches through the admin
// kubeconfig: ARGOCD_FAKE_IN_CLUSTER makes `https://kubernetes.default.svc` mean that cluster). No
// API server, UI or Dex: Applications are read and annotated through the Kubernetes API, as Rebound
// does. The namespace gets what Argo CD's install manifests would create: argocd-cm, argocd-secret
// and the `default` AppProject. Repository credentials are a Secret labelled
// `argocd.argoproj.io/secret-type: repository`; git gets them from the repo-server through the
// askpass helper (the same binary, found on PATH), never on a command line.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { installCrds } from './cluster.ts';
import { LOOPBACK, freePorts, retryOnAddressInUse } from './ports.ts';
import { type ManagedProcess, httpOk, registerTempDir, removeTempDir, startProcess, waitUntil } from './process.ts';
import { toolPath, toolsDir } from './tools.ts';
import { applyObjects } from './world.ts';

export const ARGOCD_NAMESPACE = 'argocd';

export function argocdCrdsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(toolsDir(env), 'argocd-crds');
}

export interface StartArgoCdOptions {
  kubeconfigPath: string;
  /** Repositories Argo CD may fetch, with the Git server's credentials. */
  repositories?: { url: string; username: string; password: string }[];
  /** Seconds between the controller's own polls of Git (Argo CD's default is 180). */
  resyncSeconds?: number;
  startTimeoutMs?: number;
}

export interface LocalArgoCd {
  namespace: string;
  /** Stops the application-controller only: Applications are no longer synced. */
  stopController(): Promise<void>;
  startController(): Promise<void>;
  /** Stops everything and removes its files. Idempotent. */
  stop(): Promise<void>;
}

const part = { 'app.kubernetes.io/part-of': 'argocd' };

export async function startArgoCd(options: StartArgoCdOptions): Promise<LocalArgoCd> {
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const kubeconfig = options.kubeconfigPath;
  await installCrds(kubeconfig, argocdCrdsDir(), timeoutMs);
  await applyObjects(kubeconfig, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ARGOCD_NAMESPACE } },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'argocd-cm', namespace: ARGOCD_NAMESPACE, labels: part },
      data: { 'timeout.reconciliation': `${String(options.resyncSeconds ?? 180)}s` },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'argocd-secret', namespace: ARGOCD_NAMESPACE, labels: part },
      stringData: { 'server.secretkey': randomBytes(24).toString('base64') },
    },
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AppProject',
      metadata: { name: 'default', namespace: ARGOCD_NAMESPACE },
      spec: {
        sourceRepos: ['*'],
        destinations: [{ server: '*', namespace: '*' }],
        clusterResourceWhitelist: [{ group: '*', kind: '*' }],
      },
    },
    ...(options.repositories ?? []).map((repo, i) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: `repo-${String(i)}`,
        namespace: ARGOCD_NAMESPACE,
        labels: { 'argocd.argoproj.io/secret-type': 'repository' },
      },
      stringData: { type: 'git', url: repo.url, username: repo.username, password: repo.password },
    })),
  ]);

  const dir = await mkdtemp(join(tmpdir(), 'rebound-argocd-'));
  registerTempDir(dir);
  const argocd = toolPath('argocd');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    HOME: dir,
    TMPDIR: dir,
    // git runs `argocd` as its askpass helper: the tools directory first on PATH.
    PATH: [toolsDir(), process.env['PATH'] ?? ''].join(delimiter),
    ARGOCD_FAKE_IN_CLUSTER: 'true',
    // What Argo CD's install manifests pass every part from argocd-cm's timeout.reconciliation. The
    // repo-server takes it as how long it keeps a branch's resolved commit (--revision-cache-expiration,
    // 3m without it): a poll more often than that would compare with the commit it cached.
    ARGOCD_RECONCILIATION_TIMEOUT: `${String(options.resyncSeconds ?? 180)}s`,
    // No signature verification; everything Argo CD would read from /app/config lives in `dir`.
    ARGOCD_GPG_ENABLED: 'false',
    ARGOCD_GNUPGHOME: join(dir, 'gpg'),
    ARGOCD_TLS_DATA_PATH: join(dir, 'tls'),
    ARGOCD_SSH_DATA_PATH: join(dir, 'ssh'),
  };
  const running = new Map<string, ManagedProcess>();
  let redisPort = 0;
  let repoPort = 0;

  const startOne = (
    name: string,
    build: (ports: { main: number; metrics: number }) => { command: string; args: string[]; env?: NodeJS.ProcessEnv },
    ready: (ports: { main: number; metrics: number }) => Promise<boolean>,
    onPorts: (ports: { main: number; metrics: number }) => void,
  ): Promise<void> =>
    retryOnAddressInUse(async () => {
      const [main = 0, metrics = 0] = await freePorts(2);
      const ports = { main, metrics };
      const spec = build(ports);
      const workDir = join(dir, name);
      await mkdir(workDir, { recursive: true });
      const proc = await startProcess({
        name,
        command: spec.command,
        args: spec.args,
        env: spec.env ?? env,
        cwd: workDir,
      });
      try {
        await waitUntil(`${name} ready`, () => ready(ports), { timeoutMs, intervalMs: 200, process: proc });
      } catch (err) {
        await proc.stop();
        throw err;
      }
      onPorts(ports);
      running.set(name, proc);
    });

  const startRedis = (): Promise<void> =>
    startOne(
      'redis-server',
      ({ main }) => ({
        command: toolPath('redis-server'),
        args: ['--bind', LOOPBACK, '--port', String(main), '--save', '', '--appendonly', 'no', '--dir', dir],
      }),
      ({ main }) => tcpOpen(main),
      ({ main }) => (redisPort = main),
    );
  const startRepoServer = (): Promise<void> =>
    startOne(
      'argocd-repo-server',
      ({ main, metrics }) => ({
        command: argocd,
        args: [
          `--address=${LOOPBACK}`,
          `--port=${String(main)}`,
          `--metrics-address=${LOOPBACK}`,
          `--metrics-port=${String(metrics)}`,
          '--disable-tls',
          `--redis=${LOOPBACK}:${String(redisPort)}`,
          '--loglevel=info',
        ],
        env: { ...env, ARGOCD_BINARY_NAME: 'argocd-repo-server' },
      }),
      ({ metrics }) => httpOk(`http://${LOOPBACK}:${String(metrics)}/metrics`),
      ({ main }) => (repoPort = main),
    );
  const startController = (): Promise<void> =>
    startOne(
      'argocd-application-controller',
      ({ metrics }) => ({
        command: argocd,
        args: [
          `--kubeconfig=${kubeconfig}`,
          `--namespace=${ARGOCD_NAMESPACE}`,
          `--repo-server=${LOOPBACK}:${String(repoPort)}`,
          '--repo-server-plaintext',
          `--redis=${LOOPBACK}:${String(redisPort)}`,
          `--metrics-port=${String(metrics)}`,
          `--app-resync=${String(options.resyncSeconds ?? 180)}`,
          // No jitter: the poll interval is the one asked for (Argo CD's default adds up to 60s).
          '--app-resync-jitter=0',
          '--status-processors=2',
          '--operation-processors=2',
          '--loglevel=info',
        ],
        env: { ...env, ARGOCD_BINARY_NAME: 'argocd-application-controller' },
      }),
      ({ metrics }) => httpOk(`http://${LOOPBACK}:${String(metrics)}/metrics`),
      () => undefined,
    );

  const stopOne = async (name: string): Promise<void> => {
    const proc = running.get(name);
    running.delete(name);
    await proc?.stop();
  };
  let stopping: Promise<void> | undefined;
  const stopAll = async (): Promise<void> => {
    await stopOne('argocd-application-controller');
    await stopOne('argocd-repo-server');
    await stopOne('redis-server');
    await removeTempDir(dir);
  };
  try {
    await startRedis();
    await startRepoServer();
    await startController();
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    namespace: ARGOCD_NAMESPACE,
    stopController: () => stopOne('argocd-application-controller'),
    startController,
    stop: () => (stopping ??= stopAll()),
  };
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: LOOPBACK, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
