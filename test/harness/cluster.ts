// A real Kubernetes control plane on loopback: etcd and kube-apiserver (built from the upstream Go
// modules by `make setup`), with TLS from a throw-away CA, token authentication and RBAC.
//
// Two identities are issued: an admin (group system:masters) and the controller's ServiceAccount
// (system:serviceaccount:rebound-system:rebound-controller with the groups a real ServiceAccount token
// carries), so RBAC manifests written for that ServiceAccount are enforced exactly as in a cluster.
// With `workloads`, workloads roll out: kube-controller-manager (the controllers that matter for a
// rollout: deployment, replicaset, statefulset, horizontal-pod-autoscaler, namespace and garbage
// collector), kube-scheduler, and KWOK (Kubernetes WithOut Kubelet) simulating nodes: pods are
// scheduled onto them and become Running and Ready, so Deployment status is real. Without it there
// is no controller-manager, scheduler or kubelet: objects are stored, validated, defaulted and
// watched, but Deployments get no Pods, namespaces never finish deleting and nothing is garbage
// collected (see docs/testing.md).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LOOPBACK, freePorts, retryOnAddressInUse } from './ports.ts';
import {
  type ManagedProcess,
  httpOk,
  registerTempDir,
  removeTempDir,
  runCommand,
  startProcess,
  waitUntil,
} from './process.ts';
import { toolPath, toolsDir } from './tools.ts';

export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

export const CONTROLLER_SERVICE_ACCOUNT: ServiceAccountRef = {
  namespace: 'rebound-system',
  name: 'rebound-controller',
};

export interface StartClusterOptions {
  /** Apply every *.yaml here (CRDs) and wait until each CRD is Established. */
  crdsDir?: string;
  /** The ServiceAccount whose identity `controllerToken` carries. */
  controllerServiceAccount?: ServiceAccountRef;
  /** Upper bound for each start-up step (default 90 s: two busy cores can be slow). */
  startTimeoutMs?: number;
  /** Where the cluster's temporary directory is created (default: the OS temporary directory). */
  parentDir?: string;
  /**
   * Workloads that roll out: kube-controller-manager, kube-scheduler and KWOK with `nodes` simulated
   * nodes (default 1). `true` is `{ nodes: 1 }`.
   */
  workloads?: boolean | { nodes?: number };
}

/** Pods whose node selector asks for this label stay Pending: no simulated node has it. */
export const UNSCHEDULABLE_NODE_SELECTOR = { 'rebound.dev/no-such-node': 'true' } as const;

export interface LocalCluster {
  /** https://127.0.0.1:PORT */
  server: string;
  /** kubeconfig with the admin token and the CA; current context set. */
  kubeconfigPath: string;
  /** kubeconfig with the controller's ServiceAccount token. */
  controllerKubeconfigPath: string;
  adminToken: string;
  controllerToken: string;
  controllerServiceAccount: ServiceAccountRef;
  /** The CA that signed the serving certificate, base64 of the PEM (kubeconfig's certificate-authority-data). */
  caData: string;
  /** Milliseconds from the call until the API server was ready (and CRDs established, nodes Ready, if asked). */
  startupMs: number;
  /** The simulated nodes' names (empty without `workloads`). */
  nodes: string[];
  /** Writes a kubeconfig for `token` and returns its path. */
  kubeconfigFor(token: string, userName?: string): Promise<string>;
  /**
   * Stops kube-apiserver (SIGTERM, as a rolling restart does), keeps it down for `downMs`, starts it
   * again on the same port with the same state, and resolves once it is ready (chaos scenarios).
   * With `shutdownDelaySeconds`, the server started now shuts down gracefully the next time: for
   * that long after SIGTERM it keeps answering with /readyz failing (`--shutdown-delay-duration`,
   * what a managed control plane's rolling update does), and that restart waits for it.
   */
  restartApiServer(options?: { downMs?: number; shutdownDelaySeconds?: number }): Promise<void>;
  /** Stops kube-apiserver, then etcd, and removes every file. Idempotent. */
  stop(): Promise<void>;
}

export interface KubeconfigInput {
  server: string;
  caData: string;
  token: string;
  userName: string;
  namespace?: string;
}

/** A kubeconfig document for one server, one token user and one context. */
export function kubeconfigYaml(input: KubeconfigInput): string {
  const cluster = 'rebound-local';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: input.server, 'certificate-authority-data': input.caData } }],
    users: [{ name: input.userName, user: { token: input.token } }],
    contexts: [
      {
        name: input.userName,
        context: { cluster, user: input.userName, ...(input.namespace ? { namespace: input.namespace } : {}) },
      },
    ],
    'current-context': input.userName,
  });
}

function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Groups the API server puts on a real ServiceAccount token. */
export function serviceAccountUser(sa: ServiceAccountRef): { user: string; groups: string[] } {
  return {
    user: `system:serviceaccount:${sa.namespace}:${sa.name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`, 'system:authenticated'],
  };
}

interface Pki {
  caPath: string;
  certPath: string;
  keyPath: string;
  serviceAccountKeyPath: string;
}

// A CA of our own (rather than the API server's self-signed certificate) lets every client verify TLS
// for real: kubectl, helm and @kubernetes/client-node all get certificate-authority-data.
async function createPki(dir: string): Promise<Pki> {
  await mkdir(dir, { recursive: true });
  const openssl = toolPath('openssl');
  const caPath = join(dir, 'ca.crt');
  const caKeyPath = join(dir, 'ca.key');
  const certPath = join(dir, 'apiserver.crt');
  const keyPath = join(dir, 'apiserver.key');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30'];
  await runCommand(openssl, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    caKeyPath,
    '-out',
    caPath,
    '-subj',
    '/CN=rebound-local-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await runCommand(openssl, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-subj',
    '/CN=kube-apiserver',
    '-CA',
    caPath,
    '-CAkey',
    caKeyPath,
    '-addext',
    `subjectAltName=IP:${LOOPBACK},DNS:localhost`,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'extendedKeyUsage=serverAuth',
  ]);
  // One EC key serves both to sign ServiceAccount tokens and to verify them.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serviceAccountKeyPath = join(dir, 'sa.key');
  await writeFile(serviceAccountKeyPath, privateKey.export({ type: 'sec1', format: 'pem' }), { mode: 0o600 });
  return { caPath, certPath, keyPath, serviceAccountKeyPath };
}

function csvField(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

interface HttpsProbe {
  ca: string;
  token: string;
}

function httpsStatus(url: string, probe: HttpsProbe): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca: probe.ca, headers: { authorization: `Bearer ${probe.token}` }, timeout: 5_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

interface Attempt {
  dir: string;
  processes: ManagedProcess[];
}

async function stopAll(attempt: Attempt): Promise<void> {
  // Reverse start order: the API server goes before its storage.
  for (const p of [...attempt.processes].reverse()) await p.stop();
  await removeTempDir(attempt.dir);
}

async function startOnce(options: StartClusterOptions, startedAt: number): Promise<LocalCluster> {
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const sa = options.controllerServiceAccount ?? CONTROLLER_SERVICE_ACCOUNT;
  const etcdBin = toolPath('etcd');
  const apiserverBin = toolPath('kube-apiserver');

  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), 'rebound-cluster-'));
  registerTempDir(dir);
  const attempt: Attempt = { dir, processes: [] };
  try {
    const pki = await createPki(join(dir, 'pki'));
    const adminToken = newToken();
    const controllerToken = newToken();
    const controller = serviceAccountUser(sa);
    const tokensPath = join(dir, 'tokens.csv');
    await writeFile(
      tokensPath,
      [
        `${adminToken},rebound-admin,rebound-admin,${csvField('system:masters')}`,
        `${controllerToken},${controller.user},${controller.user},${csvField(controller.groups.join(','))}`,
      ].join('\n') + '\n',
      { mode: 0o600 },
    );

    const [etcdClientPort, etcdPeerPort, apiserverPort] = await freePorts(3);
    const etcdUrl = `http://${LOOPBACK}:${String(etcdClientPort)}`;
    const peerUrl = `http://${LOOPBACK}:${String(etcdPeerPort)}`;
    const etcd = await startProcess({
      name: 'etcd',
      command: etcdBin,
      args: [
        '--name=rebound',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=rebound=${peerUrl}`,
        // Test data is thrown away: no fsync makes writes fast on busy disks.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
    });
    attempt.processes.push(etcd);
    await waitUntil('etcd to report healthy', () => httpOk(`${etcdUrl}/health`), { timeoutMs, process: etcd });

    const server = `https://${LOOPBACK}:${String(apiserverPort)}`;
    const apiserverArgs = [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${LOOPBACK}`,
      // Mandatory on machines without a default route.
      `--advertise-address=${LOOPBACK}`,
      `--secure-port=${String(apiserverPort)}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--tls-cert-file=${pki.certPath}`,
      `--tls-private-key-file=${pki.keyPath}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.serviceAccountKeyPath}`,
      `--service-account-signing-key-file=${pki.serviceAccountKeyPath}`,
      `--token-auth-file=${tokensPath}`,
      '--authorization-mode=RBAC',
      // No controller creates the `default` ServiceAccount, so ServiceAccount would reject every Pod;
      // TaintNodesByCondition taints a new node not-ready until the node-lifecycle controller (not run
      // here: KWOK's nodes are Ready from the start) lifts it, so no pod could ever be scheduled.
      '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition',
      '--profiling=false',
    ];
    const ca = await readFile(pki.caPath, 'utf8');
    const admin = { ca, token: adminToken };
    // How long the running server keeps answering after SIGTERM (0: it stops at once).
    let shutdownDelaySeconds = 0;
    const startApiServer = async (): Promise<ManagedProcess> => {
      const args =
        shutdownDelaySeconds > 0
          ? [...apiserverArgs, `--shutdown-delay-duration=${String(shutdownDelaySeconds)}s`]
          : apiserverArgs;
      const started = await startProcess({ name: 'kube-apiserver', command: apiserverBin, args });
      attempt.processes.push(started);
      await waitUntil('kube-apiserver /readyz', async () => (await httpsStatus(`${server}/readyz`, admin)) === 200, {
        timeoutMs,
        intervalMs: 200,
        process: started,
      });
      return started;
    };
    let apiserver = await startApiServer();
    // The system-namespaces controller creates `default` shortly after readiness.
    await waitUntil(
      'namespace default',
      async () => (await httpsStatus(`${server}/api/v1/namespaces/default`, admin)) === 200,
      {
        timeoutMs,
        intervalMs: 200,
        process: apiserver,
      },
    );

    const caData = Buffer.from(ca).toString('base64');
    let kubeconfigCount = 0;
    const kubeconfigFor = async (token: string, userName = 'user'): Promise<string> => {
      kubeconfigCount += 1;
      const path = join(
        dir,
        `kubeconfig-${String(kubeconfigCount)}-${userName.replaceAll(/[^A-Za-z0-9_.-]/g, '_')}.yaml`,
      );
      await writeFile(path, kubeconfigYaml({ server, caData, token, userName }), { mode: 0o600 });
      return path;
    };
    const kubeconfigPath = await kubeconfigFor(adminToken, 'rebound-admin');
    const controllerKubeconfigPath = await kubeconfigFor(controllerToken, sa.name);

    if (options.crdsDir !== undefined) await installCrds(kubeconfigPath, options.crdsDir, timeoutMs);
    const nodes =
      options.workloads === undefined || options.workloads === false
        ? []
        : await startWorkloads({
            dir,
            attempt,
            kubeconfigPath,
            pki,
            timeoutMs,
            nodes: options.workloads === true ? 1 : (options.workloads.nodes ?? 1),
          });

    let stopping: Promise<void> | undefined;
    return {
      server,
      kubeconfigPath,
      controllerKubeconfigPath,
      adminToken,
      controllerToken,
      controllerServiceAccount: sa,
      caData,
      startupMs: Date.now() - startedAt,
      nodes,
      kubeconfigFor,
      restartApiServer: async ({ downMs = 0, shutdownDelaySeconds: nextDelaySeconds = 0 } = {}) => {
        // Room for the graceful shutdown to finish on its own before SIGKILL.
        await apiserver.stop(shutdownDelaySeconds * 1000 + 30_000);
        attempt.processes.splice(attempt.processes.indexOf(apiserver), 1);
        if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
        shutdownDelaySeconds = nextDelaySeconds;
        apiserver = await startApiServer();
      },
      stop: () => (stopping ??= stopAll(attempt)),
    };
  } catch (err) {
    await stopAll(attempt);
    throw err;
  }
}

interface WorkloadsInput {
  dir: string;
  attempt: Attempt;
  kubeconfigPath: string;
  pki: Pki;
  timeoutMs: number;
  nodes: number;
}

/**
 * kube-controller-manager, kube-scheduler and KWOK against the running API server, with the admin
 * identity (a test cluster: no per-controller credentials), then `nodes` simulated nodes, Ready.
 * None of them serves anything (--secure-port=0, no KWOK server), so nothing takes a port.
 */
async function startWorkloads(input: WorkloadsInput): Promise<string[]> {
  const { dir, attempt, kubeconfigPath, pki, timeoutMs } = input;
  const controllerManager = await startProcess({
    name: 'kube-controller-manager',
    command: toolPath('kube-controller-manager'),
    args: [
      `--kubeconfig=${kubeconfigPath}`,
      '--secure-port=0',
      '--leader-elect=false',
      // Only what a rollout needs: fewer controllers, less CPU on a busy machine.
      '--controllers=deployment-controller,replicaset-controller,statefulset-controller,horizontal-pod-autoscaler-controller,namespace-controller,garbage-collector-controller',
      `--service-account-private-key-file=${pki.serviceAccountKeyPath}`,
      `--root-ca-file=${pki.caPath}`,
      // No metrics server here: an HPA acts on its minimum and maximum only, so look often.
      '--horizontal-pod-autoscaler-sync-period=1s',
      '--profiling=false',
    ],
  });
  attempt.processes.push(controllerManager);
  const scheduler = await startProcess({
    name: 'kube-scheduler',
    command: toolPath('kube-scheduler'),
    args: [`--kubeconfig=${kubeconfigPath}`, '--secure-port=0', '--leader-elect=false', '--profiling=false'],
  });
  attempt.processes.push(scheduler);
  // KWOK's stages (what happens to a node and a pod, and when) come with the binary (build.sh).
  const stagesDir = join(toolsDir(), 'kwok-stages');
  const stageFiles = (await readdir(stagesDir)).filter((f) => f.endsWith('.yaml')).sort();
  if (stageFiles.length === 0) throw new Error(`no KWOK stages in ${stagesDir}: run \`make setup\``);
  const stages = await Promise.all(stageFiles.map((f) => readFile(join(stagesDir, f), 'utf8')));
  const kwokConfig = join(dir, 'kwok.yaml');
  await writeFile(kwokConfig, stages.join('\n---\n'));
  const kwok = await startProcess({
    name: 'kwok',
    command: toolPath('kwok'),
    args: [
      `--kubeconfig=${kubeconfigPath}`,
      `--config=${kwokConfig}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${KWOK_ANNOTATION}=fake`,
    ],
    env: { ...process.env, HOME: dir },
  });
  attempt.processes.push(kwok);
  const names = Array.from({ length: input.nodes }, (_, i) => `kwok-node-${String(i)}`);
  const kubectl = toolPath('kubectl');
  const nodesPath = join(dir, 'nodes.yaml');
  await writeFile(nodesPath, names.map((name) => stringify(simulatedNode(name))).join('---\n'));
  await runCommand(kubectl, ['--kubeconfig', kubeconfigPath, 'apply', '-f', nodesPath], { timeoutMs });
  await runCommand(
    kubectl,
    [
      '--kubeconfig',
      kubeconfigPath,
      'wait',
      '--for=condition=Ready',
      `--timeout=${String(Math.ceil(timeoutMs / 1000))}s`,
      ...names.map((n) => `node/${n}`),
    ],
    { timeoutMs: timeoutMs + 5_000 },
  );
  return names;
}

const KWOK_ANNOTATION = 'kwok.x-k8s.io/node';

/** A node KWOK manages: room for many pods, no taints. */
function simulatedNode(name: string): object {
  const resources = { cpu: '32', memory: '256Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        type: 'kwok',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/agent': '',
      },
    },
    status: { allocatable: resources, capacity: resources },
  };
}

/** Starts etcd and kube-apiserver on free loopback ports; everything is stopped again on failure. */
export async function startCluster(options: StartClusterOptions = {}): Promise<LocalCluster> {
  const startedAt = Date.now();
  return retryOnAddressInUse(() => startOnce(options, startedAt));
}

interface CrdStatus {
  status?: { conditions?: { type: string; status: string }[] };
}
interface CrdList {
  items: CrdStatus[];
}

/**
 * Applies every manifest in `crdsDir` with the real kubectl (server-side apply, so large schemas do
 * not hit the last-applied annotation limit) and waits until each CRD is Established.
 */
export async function installCrds(kubeconfigPath: string, crdsDir: string, timeoutMs = 60_000): Promise<string[]> {
  const kubectl = toolPath('kubectl');
  const base = ['--kubeconfig', kubeconfigPath];
  const { stdout } = await runCommand(
    kubectl,
    [...base, 'apply', '--server-side', '--field-manager=rebound-harness', '-f', crdsDir, '-o', 'name'],
    { timeoutMs },
  );
  const names = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('customresourcedefinition'));
  if (names.length > 0) {
    // Polled rather than `kubectl wait`: a CRD created a moment ago may have no status.conditions
    // yet, which kubectl wait reports as an error instead of waiting.
    await waitUntil(
      `the CRDs to be Established (${names.join(', ')})`,
      async () => {
        const { stdout: json } = await runCommand(kubectl, [...base, 'get', ...names, '-o', 'json'], {
          timeoutMs: 10_000,
        });
        const parsed = JSON.parse(json) as CrdList | CrdStatus;
        const items = 'items' in parsed ? parsed.items : [parsed];
        return items.every((crd) =>
          (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True'),
        );
      },
      { timeoutMs, intervalMs: 200 },
    );
    // Established is not yet servable: for a few seconds the API server answers 429 "storage is
    // (re)initializing" for a new resource. Ready means every one of them can be listed.
    const resources = names.map((n) => n.replace(/^customresourcedefinition[^/]*\//, ''));
    await waitUntil(
      `the new resources to be listable (${resources.join(', ')})`,
      async () => {
        for (const resource of resources) {
          await runCommand(kubectl, [...base, 'get', resource, '--all-namespaces', '--chunk-size=1', '-o', 'name'], {
            timeoutMs: 10_000,
          });
        }
        return true;
      },
      { timeoutMs, intervalMs: 200 },
    );
  }
  return names;
}
