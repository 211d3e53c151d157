// The controller image, built by `make image` from the Dockerfile (podman; stand-in bases where the
// public registries cannot be reached), run as manifests/deployment.yaml runs it: its user, read-only
// root, dropped capabilities, no privilege escalation, emptyDir and Secret volumes, and a
// ServiceAccount token where a Pod has it. Against the shared cluster on loopback (host network), it
// syncs its informers, takes the Lease, answers /healthz, /readyz and /metrics from inside the
// container, and remediates the seed scenario (the tutorial of loop.test.ts (a)) with the helm and git
// inside the image.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { ProblemEvent } from '../../src/api/index.ts';
import { podman, podmanSecurityArgs, runContainer } from '../harness/container.ts';
import type { ContainerSecurity, PodSpecSecurity, RunningContainer } from '../harness/container.ts';
import type { GitServer } from '../harness/git-server.ts';
import { laneCluster } from '../harness/lane.ts';
import { freePort } from '../harness/ports.ts';
import { httpOk, runCommand, waitUntil } from '../harness/process.ts';
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
} from '../harness/world.ts';
import {
  createNamespace,
  gitSecret,
  namespaceObjects,
  phase,
  startE2eGitServer,
  startScrapedWorkload,
  stopInOrder,
} from './e2e-helpers.ts';

const cluster = laneCluster();
const admin = cluster.kubeconfigPath;
const IMAGE = 'localhost/rebound:e2e';
const NAMESPACE = `image-${randomBytes(3).toString('hex')}`;
const POD_NAME = `rebound-image-${randomBytes(3).toString('hex')}`;
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

interface DeploymentDoc {
  spec: {
    template: {
      spec: PodSpecSecurity & {
        containers: (ContainerSecurity & { args?: string[]; env?: { name: string; value?: string }[] })[];
      };
    };
  };
}

let git: GitServer;
let prometheus: LocalPrometheus;
let workload: SampleWorkload;
let container: RunningContainer | undefined;
let hostDir: string;
let metricsPort: number;

const { waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => container?.process.recentOutput() ?? '',
});

/** GET from inside the container, with the image's own Node.js: status and body. */
async function getInside(path: string): Promise<{ status: number; body: string }> {
  const script = 'fetch(process.argv[1]).then(async (r) => process.stdout.write(r.status + "\\n" + (await r.text())))';
  const { stdout } = await container!.exec(['node', '-e', script, `http://127.0.0.1:${String(metricsPort)}${path}`]);
  const [status = '', ...body] = stdout.split('\n');
  return { status: Number(status), body: body.join('\n') };
}

beforeAll(async () => {
  // Warm, this is podman's layer cache answering; cold, the stand-in bases and the build take minutes.
  await runCommand('make', ['-s', 'image', `IMAGE=${IMAGE}`], { cwd: REPO_ROOT, timeoutMs: 1_500_000 });

  await installControllerRbac(admin);
  git = await startE2eGitServer();
  ({ workload, prometheus } = await startScrapedWorkload(admin));
  await createNamespace(admin, NAMESPACE);

  // What the kubelet gives a Pod: the ServiceAccount's token, the cluster CA and the namespace.
  hostDir = await mkdtemp(join(tmpdir(), 'rebound-image-'));
  const saDir = join(hostDir, 'serviceaccount');
  const webhookDir = join(hostDir, 'webhook-token');
  await runCommand('mkdir', ['-p', saDir, webhookDir]);
  await writeFile(join(saDir, 'token'), cluster.controllerToken);
  await writeFile(join(saDir, 'ca.crt'), Buffer.from(cluster.caData, 'base64'));
  await writeFile(join(saDir, 'namespace'), cluster.controllerServiceAccount.namespace);
  await writeFile(join(webhookDir, 'token'), randomBytes(16).toString('hex'));
  // The container's user reads them through the read-only bind mounts.
  await runCommand('chmod', ['-R', 'a+rX', hostDir]);

  const text = await readFile(join(REPO_ROOT, 'manifests', 'deployment.yaml'), 'utf8');
  const pod = (parseAllDocuments(text)[0]?.toJS() as DeploymentDoc).spec.template.spec;
  const spec = pod.containers[0];
  if (!spec) throw new Error('deployment.yaml has no container');
  const api = new URL(cluster.server);
  metricsPort = await freePort();
  const webhookPort = await freePort();
  const env = (spec.env ?? []).filter((e) => e.value !== undefined).map((e) => `--env=${e.name}=${e.value ?? ''}`);
  container = await runContainer({
    name: POD_NAME,
    image: IMAGE,
    podmanArgs: [
      ...podmanSecurityArgs(pod, spec, { 'rebound-webhook-token': webhookDir }),
      `--volume=${saDir}:${SERVICE_ACCOUNT_DIR}:ro`,
      `--env=KUBERNETES_SERVICE_HOST=${api.hostname}`,
      `--env=KUBERNETES_SERVICE_PORT=${api.port}`,
      `--env=POD_NAMESPACE=${cluster.controllerServiceAccount.namespace}`,
      `--env=POD_NAME=${POD_NAME}`,
      ...env,
    ],
    // The Deployment's arguments; later flags win, so loopback addresses and the local Prometheus
    // replace the in-cluster ones, and the timings are the e2e files' short ones.
    args: [
      ...(spec.args ?? []),
      `--metrics-address=127.0.0.1:${String(metricsPort)}`,
      `--webhook-address=127.0.0.1:${String(webhookPort)}`,
      `--callback-url=http://127.0.0.1:${String(webhookPort)}`,
      `--prometheus-url=${prometheus.url}`,
      `--namespace=${NAMESPACE}`,
      '--evaluation-wait=4s',
      '--turn-poll=500ms',
      '--evaluation-retry=1s',
      '--stalled-recheck=5s',
      '--lease-duration=3s',
    ],
  });
  await waitUntil("the container's /readyz", () => httpOk(`http://127.0.0.1:${String(metricsPort)}/readyz`), {
    timeoutMs: 90_000,
    intervalMs: 200,
    process: container.process,
  });
}, 1_800_000);

afterAll(async () => {
  await stopInOrder(container, prometheus, workload, git);
  if (hostDir) await rm(hostDir, { recursive: true, force: true });
});

describe('the controller image', () => {
  it('carries OCI labels for version, revision and source, and `rebound version` prints the same', async () => {
    const labels = JSON.parse(
      (await podman(['image', 'inspect', '--format', '{{json .Labels}}', IMAGE])).stdout,
    ) as Record<string, string>;
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
      repository: { url: string };
    };
    const head = (await runCommand('git', ['-C', REPO_ROOT, 'rev-parse', 'HEAD'])).stdout.trim();
    expect(labels).toMatchObject({
      'org.opencontainers.image.version': pkg.version,
      'org.opencontainers.image.revision': head,
      'org.opencontainers.image.source': pkg.repository.url,
    });
    const { stdout } = await podman(['run', '--rm', '--network=none', '--read-only', IMAGE, 'version', '--json']);
    expect(JSON.parse(stdout)).toEqual({
      version: labels['org.opencontainers.image.version'],
      revision: labels['org.opencontainers.image.revision'],
      source: labels['org.opencontainers.image.source'],
    });
  });

  it("runs as the Deployment's non-root user on a read-only root, writing only to its volumes", async () => {
    expect((await container!.exec(['id', '-u'])).stdout.trim()).toBe('65532');
    await expect(container!.exec(['touch', '/app/written'])).rejects.toThrow(/Read-only file system/);
    await expect(container!.exec(['touch', '/var/lib/rebound/written', '/tmp/written'])).resolves.toBeDefined();
    // Capabilities are dropped: the effective set is empty.
    expect((await container!.exec(['grep', '^CapEff:', '/proc/self/status'])).stdout).toMatch(/^CapEff:\s+0+$/m);
  });

  it('syncs its informers with the ServiceAccount token, takes the Lease, and answers /healthz, /readyz and /metrics inside the container', async () => {
    expect(await getInside('/healthz')).toMatchObject({ status: 200 });
    expect(await getInside('/readyz')).toMatchObject({ status: 200 });
    const metrics = await getInside('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^rebound_leader 1$/m);
    const holder = await kubectl(admin, [
      'get',
      'lease',
      'rebound-controller',
      '-n',
      cluster.controllerServiceAccount.namespace,
      '-o',
      'jsonpath={.spec.holderIdentity}',
    ]);
    expect(holder).toBe(POD_NAME);
    expect(container!.process.recentOutput()).not.toMatch(/forbidden/i);
  });

  it('remediates the seed scenario with the helm and git inside the image: production scales to 2, the problem ends Resolved', async () => {
    const project = `p-${randomBytes(3).toString('hex')}`;
    const service = 'helloservice';
    const tutorial = await readFile(
      join(REPO_ROOT, 'examples', 'fulltour', 'helloservice', 'remediation.yaml'),
      'utf8',
    );
    const values = 'replicaCount: 1\nimage:\n  repository: docker.io/keptnexamples/carts\n  tag: "0.13.1"\n';
    const repo = await createProjectRepo(git, {
      project,
      service,
      stages: ['production'],
      remediationStages: ['production'],
      files: {
        'values.yaml': values,
        'remediation.yaml': tutorial,
        'slo.yaml': sampleSlo(700),
        'sli.yaml': SAMPLE_SLI,
      },
    });
    await applyObjects(admin, [
      gitSecret(NAMESPACE, git),
      {
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'Project',
        metadata: { name: project, namespace: NAMESPACE },
        spec: {
          git: { url: repo.url, secretRef: { name: 'git' }, author: { name: 'Rebound', email: 'rebound@example.com' } },
          stages: [{ name: 'production', remediation: 'automated', apply: 'helm' }],
        },
      },
    ]);
    await deployService({
      kubeconfigPath: admin,
      repoDir: repo.dir,
      branch: 'production',
      service,
      namespace: `${project}-production`,
    });
    workload.addTarget({ project, stage: 'production', service, namespace: `${project}-production` });
    await applyObjects(admin, [
      {
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'ProblemEvent',
        metadata: { name: 'response-time', namespace: NAMESPACE },
        spec: {
          project,
          stage: 'production',
          service,
          problemTitle: 'http_response_time_seconds_main_page_sum',
          state: 'OPEN',
          source: 'e2e',
        },
      },
    ]);

    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'response-time',
      phase('Resolved', 'Exhausted', 'Unhandled'),
      120_000,
    );
    expect(done.status?.phase, JSON.stringify(done.status?.attempts)).toBe('Resolved');
    expect(done.status?.attempts?.[0]).toMatchObject({ action: 'scale', value: '2', result: 'pass', helmRevision: 2 });
    expect(
      await kubectl(admin, [
        'get',
        'deployment',
        service,
        '-n',
        `${project}-production`,
        '-o',
        'jsonpath={.spec.replicas}',
      ]),
    ).toBe('2');
  });
});
