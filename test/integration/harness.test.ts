// Smoke tests for the real-parts harness: each part answers the way only the real thing would.
// The cluster is the shared one from the global set-up; every test works in a fresh namespace.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { startAlertmanager } from '../harness/alertmanager.ts';
import { kubeconfigYaml, startCluster } from '../harness/cluster.ts';
import { registerTempDir, removeTempDir, runCommand } from '../harness/process.ts';
import { formatOpenMetrics, startPrometheus } from '../harness/prometheus.ts';
import { toolPath } from '../harness/tools.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const cluster = inject('cluster');

function kubectl(args: string[], kubeconfig = cluster.kubeconfigPath, input?: string): Promise<string> {
  return runCommand(toolPath('kubectl'), ['--kubeconfig', kubeconfig, ...args], {
    timeoutMs: 60_000,
    ...(input === undefined ? {} : { input }),
  }).then((r) => r.stdout);
}

/** The error text of a kubectl call that must fail. */
async function kubectlFailure(args: string[], kubeconfig = cluster.kubeconfigPath, input?: string): Promise<string> {
  try {
    await kubectl(args, kubeconfig, input);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error(`kubectl ${args.join(' ')} succeeded but was expected to fail`);
}

async function freshNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await kubectl(['create', 'namespace', name]);
  return name;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface CrdDocument {
  metadata: { name: string };
  spec: {
    names: { plural: string };
    versions: { name: string; additionalPrinterColumns?: { name: string; priority?: number }[] }[];
  };
}

async function readCrds(): Promise<CrdDocument[]> {
  const dir = join(repoRoot, 'crds');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml'));
  const docs: CrdDocument[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), 'utf8'))) {
      const value = doc.toJS() as { kind?: string } | null;
      if (value?.kind === 'CustomResourceDefinition') docs.push(value as unknown as CrdDocument);
    }
  }
  return docs;
}

function problemEvent(name: string, namespace: string, spec: Record<string, unknown>): string {
  return stringify({ apiVersion: 'rebound.dev/v1alpha1', kind: 'ProblemEvent', metadata: { name, namespace }, spec });
}

describe('kube-apiserver and etcd', () => {
  it('is the real Kubernetes v1.36.3, reached over verified TLS by the built kubectl', async () => {
    const version = JSON.parse(await kubectl(['version', '-o', 'json'])) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    expect(version.serverVersion.gitVersion).toBe('v1.36.3');
    expect(version.clientVersion.gitVersion).toBe('v1.36.3');
    expect(cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('has every CRD from crds/ Established with an accepted structural schema', async () => {
    const expected = await readCrds();
    expect(expected.length).toBeGreaterThan(0);
    const list = JSON.parse(await kubectl(['get', 'customresourcedefinitions', '-o', 'json'])) as {
      items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[] } }[];
    };
    for (const crd of expected) {
      const live = list.items.find((i) => i.metadata.name === crd.metadata.name);
      expect(live, crd.metadata.name).toBeDefined();
      const conditions = Object.fromEntries((live?.status.conditions ?? []).map((c) => [c.type, c.status]));
      expect(conditions, crd.metadata.name).toMatchObject({ Established: 'True', NamesAccepted: 'True' });
      expect(conditions['NonStructuralSchema'], crd.metadata.name).toBeUndefined();
    }
  });

  it('stores a ProblemEvent applied with kubectl and lists it with the CRD printer columns', async () => {
    const namespace = await freshNamespace('harness-pe');
    const manifest = problemEvent('carts-latency', namespace, {
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      problemTitle: 'Response time degradation',
      state: 'OPEN',
    });
    expect(await kubectl(['apply', '-f', '-'], cluster.kubeconfigPath, manifest)).toContain(
      'problemevent.rebound.dev/carts-latency created',
    );

    const crd = (await readCrds()).find((c) => c.spec.names.plural === 'problemevents');
    const columns = (crd?.spec.versions[0]?.additionalPrinterColumns ?? [])
      .filter((c) => (c.priority ?? 0) === 0)
      .map((c) => c.name.toUpperCase());
    expect(columns.length).toBeGreaterThan(0);

    const table = await kubectl(['get', 'problemevents', '-n', namespace]);
    const [header, row, ...rest] = table.trim().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['NAME', ...columns]);
    expect(rest).toEqual([]);
    expect(row).toMatch(/^carts-latency\s+sockshop\s+production\s+carts\s+Response time degradation\s/);
  });

  it('rejects a ProblemEvent that violates the schema, naming the field', async () => {
    const namespace = await freshNamespace('harness-bad');
    const badState = problemEvent('bad-state', namespace, {
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      problemTitle: 'x',
      state: 'SOMETIMES',
    });
    expect(await kubectlFailure(['apply', '-f', '-'], cluster.kubeconfigPath, badState)).toMatch(
      /spec\.state: Unsupported value: "SOMETIMES"/,
    );

    const missingService = problemEvent('no-service', namespace, {
      project: 'sockshop',
      stage: 'production',
      problemTitle: 'x',
      state: 'OPEN',
    });
    expect(await kubectlFailure(['apply', '-f', '-'], cluster.kubeconfigPath, missingService)).toMatch(
      /spec\.service: Required value/,
    );

    expect(await kubectl(['get', 'problemevents', '-n', namespace, '-o', 'name'])).toBe('');
  });

  it("enforces RBAC on the controller's ServiceAccount token: denied, then allowed by a RoleBinding in that namespace only", async () => {
    // LimitRanges: a resource the controller never needs, so no other test's RBAC for the controller
    // (some bind its roles cluster-wide in this shared cluster) can grant it.
    const granted = await freshNamespace('harness-rbac');
    const other = await freshNamespace('harness-rbac');
    const list = (namespace: string): string[] => ['get', 'limitranges', '-n', namespace, '-o', 'name'];
    const controller = cluster.controllerKubeconfigPath;
    const sa = cluster.controllerServiceAccount;

    const denied = await kubectlFailure(list(granted), controller);
    expect(denied).toContain('Forbidden');
    expect(denied).toContain(
      `User "system:serviceaccount:${sa.namespace}:${sa.name}" cannot list resource "limitranges"`,
    );

    await kubectl(['create', 'role', 'list-limitranges', '-n', granted, '--verb=list', '--resource=limitranges']);
    await kubectl([
      'create',
      'rolebinding',
      'list-limitranges',
      '-n',
      granted,
      '--role=list-limitranges',
      `--serviceaccount=${sa.namespace}:${sa.name}`,
    ]);
    // The authorizer's cache sees the binding within moments.
    await eventually('the RoleBinding to take effect', () => kubectl(list(granted), controller));
    expect(await kubectlFailure(list(other), controller)).toContain('Forbidden');
  });

  it('issues ServiceAccount tokens through the TokenRequest API and authenticates them', async () => {
    const namespace = await freshNamespace('harness-sa');
    await kubectl(['create', 'serviceaccount', 'probe', '-n', namespace]);
    const token = (await kubectl(['create', 'token', 'probe', '-n', namespace, '--duration=10m'])).trim();
    const dir = await mkdtemp(join(tmpdir(), 'rebound-sa-'));
    registerTempDir(dir);
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      await writeFile(
        kubeconfig,
        kubeconfigYaml({ server: cluster.server, caData: cluster.caData, token, userName: 'probe' }),
      );
      const review = JSON.parse(await kubectl(['auth', 'whoami', '-o', 'json'], kubeconfig)) as {
        status: { userInfo: { username: string; groups: string[] } };
      };
      expect(review.status.userInfo.username).toBe(`system:serviceaccount:${namespace}:probe`);
      expect(review.status.userInfo.groups).toEqual([
        'system:serviceaccounts',
        `system:serviceaccounts:${namespace}`,
        'system:authenticated',
      ]);
    } finally {
      await removeTempDir(dir);
    }
  });
});

describe('workloads that roll out (kube-controller-manager, kube-scheduler, KWOK)', () => {
  it('a Deployment gets a ReplicaSet and Pods that are scheduled onto the simulated nodes and become Ready', async () => {
    const ns = await freshNamespace('rollout');
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'registry.example/web:1' }] },
        },
      },
    };
    await kubectl(['apply', '-f', '-'], cluster.kubeconfigPath, stringify(deployment));
    await kubectl(['rollout', 'status', `deployment/web`, '-n', ns, '--timeout=90s']);
    const status = JSON.parse(await kubectl(['get', 'deployment', 'web', '-n', ns, '-o', 'json'])) as {
      metadata: { generation: number };
      status: Record<string, number>;
    };
    expect(status.status).toMatchObject({
      observedGeneration: status.metadata.generation,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    });
    const pods = await kubectl([
      'get',
      'pods',
      '-n',
      ns,
      '-l',
      'app=web',
      '-o',
      'jsonpath={range .items[*]}{.spec.nodeName} {.status.phase}{"\\n"}{end}',
    ]);
    const lines = pods.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^kwok-node-\d+ Running$/);
    // Scaling down deletes pods for real (KWOK plays the kubelet that lets them go).
    await kubectl(['scale', 'deployment/web', '-n', ns, '--replicas=1']);
    await eventually(
      'one pod left',
      async () => {
        const left = await kubectl(['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'name']);
        return left
          .trim()
          .split('\n')
          .filter((l) => l !== '').length === 1
          ? true
          : undefined;
      },
      60_000,
    );
  });
});

describe('startCluster', () => {
  it('stops what it started and removes its files when the start fails', async () => {
    const parentDir = await mkdtemp(join(tmpdir(), 'rebound-failed-start-'));
    registerTempDir(parentDir);
    const crdsDir = join(parentDir, 'crds');
    await mkdir(crdsDir);
    // The API server rejects a CRD without names: the failure comes after etcd and kube-apiserver are up.
    await writeFile(
      join(crdsDir, 'broken.yaml'),
      stringify({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'things.broken.example' },
        spec: { group: 'broken.example', scope: 'Namespaced', versions: [] },
      }),
    );
    try {
      await expect(startCluster({ crdsDir, parentDir })).rejects.toThrow(/kubectl .* apply .* failed/);
      // Nothing that ran from the cluster's directory is left, and the directory is gone.
      expect(await processesMentioning(parentDir)).toEqual([]);
      expect(await readdir(parentDir)).toEqual(['crds']);
    } finally {
      await removeTempDir(parentDir);
    }
  });
});

describe('helm', () => {
  let helmHome: string;

  beforeAll(async () => {
    helmHome = await mkdtemp(join(tmpdir(), 'rebound-helm-'));
    registerTempDir(helmHome);
  });
  afterAll(() => removeTempDir(helmHome));

  function helm(args: string[]): Promise<string> {
    return runCommand(toolPath('helm'), [...args, '--kubeconfig', cluster.kubeconfigPath], {
      timeoutMs: 120_000,
      env: {
        PATH: process.env['PATH'],
        HOME: helmHome,
        HELM_CACHE_HOME: join(helmHome, 'cache'),
        HELM_CONFIG_HOME: join(helmHome, 'config'),
        HELM_DATA_HOME: join(helmHome, 'data'),
      },
    }).then((r) => r.stdout);
  }

  async function deployment(namespace: string): Promise<{ spec: { replicas: number } }> {
    return JSON.parse(await kubectl(['get', 'deployment', 'carts', '-n', namespace, '-o', 'json'])) as {
      spec: { replicas: number };
    };
  }

  it('installs the carts chart with upgrade --install and --set replicaCount changes spec.replicas', async () => {
    const namespace = `harness-helm-${randomBytes(4).toString('hex')}`;
    const chart = join(repoRoot, 'examples', 'sockshop', 'carts', 'chart');
    const valuesFile = join(helmHome, 'values.yaml');
    await writeFile(valuesFile, stringify({ replicaCount: 1, featureFlags: { EnableItemCache: false } }));

    // Never --wait: a bare API server has no controllers to make a Deployment ready.
    await helm(['upgrade', '--install', 'carts', chart, '-n', namespace, '--create-namespace', '--values', valuesFile]);
    expect((await deployment(namespace)).spec.replicas).toBe(1);
    const flags = JSON.parse(
      await kubectl(['get', 'configmap', 'carts-feature-flags', '-n', namespace, '-o', 'json']),
    ) as {
      data: Record<string, string>;
    };
    expect(flags.data).toEqual({ EnableItemCache: 'false' });

    await helm([
      'upgrade',
      '--install',
      'carts',
      chart,
      '-n',
      namespace,
      '--values',
      valuesFile,
      '--set',
      'replicaCount=2',
    ]);
    expect((await deployment(namespace)).spec.replicas).toBe(2);

    const history = JSON.parse(await helm(['history', 'carts', '-n', namespace, '-o', 'json'])) as {
      revision: number;
      status: string;
    }[];
    expect(history.map((h) => [h.revision, h.status])).toEqual([
      [1, 'superseded'],
      [2, 'deployed'],
    ]);
  });
});

describe('prometheus', () => {
  it('answers PromQL at known times with the backfilled values', async () => {
    const t0 = 1_700_000_000;
    const openMetrics = formatOpenMetrics([
      {
        name: 'http_requests_total',
        type: 'counter',
        series: [
          {
            labels: { service: 'carts' },
            samples: Array.from({ length: 11 }, (_, i) => ({ timestamp: t0 + i * 60, value: i * 120 })),
          },
        ],
      },
      {
        name: 'response_time_p95_seconds',
        series: [
          {
            labels: { service: 'carts' },
            samples: [
              { timestamp: t0, value: 0.25 },
              { timestamp: t0 + 300, value: 0.5 },
            ],
          },
          { labels: { service: 'orders' }, samples: [{ timestamp: t0, value: 1.5 }] },
        ],
      },
    ]);
    const prometheus = await startPrometheus({ openMetrics });
    try {
      const query = async (promql: string, time: number): Promise<[Record<string, string>, string][]> => {
        const res = await fetch(
          `${prometheus.url}/api/v1/query?${new URLSearchParams({ query: promql, time: String(time) }).toString()}`,
        );
        const body = (await res.json()) as {
          status: string;
          data: { result: { metric: Record<string, string>; value: [number, string] }[] };
        };
        expect(body.status).toBe('success');
        return body.data.result.map((r) => [r.metric, r.value[1]]);
      };
      expect(await query('response_time_p95_seconds{service="carts"}', t0 + 60)).toEqual([
        [{ __name__: 'response_time_p95_seconds', service: 'carts' }, '0.25'],
      ]);
      expect(await query('response_time_p95_seconds{service="carts"}', t0 + 360)).toEqual([
        [{ __name__: 'response_time_p95_seconds', service: 'carts' }, '0.5'],
      ]);
      // 120 requests a minute is 2 per second.
      expect(await query('rate(http_requests_total{service="carts"}[5m])', t0 + 600)).toEqual([
        [{ service: 'carts' }, '2'],
      ]);
      // Nothing before the first sample.
      expect(await query('response_time_p95_seconds', t0 - 3600)).toEqual([]);
    } finally {
      await prometheus.stop();
    }
  });

  it('scrapes a target the test controls', async () => {
    let value = 7;
    const target = createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(`# TYPE carts_errors gauge\ncarts_errors ${String(value)}\n`);
    });
    const address = await listen(target);
    const prometheus = await startPrometheus({ scrapeTargets: [`127.0.0.1:${String(address.port)}`] });
    try {
      const current = async (): Promise<string | undefined> => {
        const res = await fetch(`${prometheus.url}/api/v1/query?query=carts_errors`);
        const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
        return body.data.result[0]?.value[1];
      };
      expect(await eventually('the first scrape', async () => ((await current()) === '7' ? '7' : undefined))).toBe('7');
      value = 42;
      expect(await eventually('the changed value', async () => ((await current()) === '42' ? '42' : undefined))).toBe(
        '42',
      );
    } finally {
      await prometheus.stop();
      await close(target);
    }
  });
});

interface Received {
  headers: IncomingHttpHeaders;
  body: {
    status: string;
    receiver: string;
    version: string;
    alerts: { status: string; labels: Record<string, string> }[];
  };
}

describe('alertmanager', () => {
  it('delivers a posted alert, and its resolution, to the webhook with the bearer token', async () => {
    const received: Received[] = [];
    const webhook = createServer((req, res) => {
      let text = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(text) as Received['body'] });
        res.end();
      });
    });
    const address = await listen(webhook);
    const alertmanager = await startAlertmanager({
      webhookUrl: `http://127.0.0.1:${String(address.port)}/webhook`,
      bearerToken: 'test-token',
    });
    try {
      const labels = {
        alertname: 'ResponseTimeDegradation',
        project: 'sockshop',
        stage: 'production',
        service: 'carts',
      };
      const post = (alert: Record<string, unknown>): Promise<Response> =>
        fetch(`${alertmanager.url}/api/v2/alerts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify([{ labels, annotations: { summary: 'p95 above 1s' }, ...alert }]),
        });
      expect((await post({})).status).toBe(200);
      const firing = await eventually('the firing notification', () =>
        Promise.resolve(received.find((r) => r.body.status === 'firing')),
      );
      expect(firing.headers.authorization).toBe('Bearer test-token');
      expect(firing.body.version).toBe('4');
      expect(firing.body.alerts.map((a) => a.labels)).toEqual([labels]);

      expect((await post({ endsAt: new Date(Date.now() - 1000).toISOString() })).status).toBe(200);
      const resolved = await eventually('the resolved notification', () =>
        Promise.resolve(received.find((r) => r.body.status === 'resolved')),
      );
      expect(resolved.body.alerts.map((a) => [a.status, a.labels])).toEqual([['resolved', labels]]);
    } finally {
      await alertmanager.stop();
      await close(webhook);
    }
  });
});

/** Pids of live processes whose command line contains `text` (Linux /proc). */
async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) pids.push(Number(entry));
  }
  return pids;
}

function listen(server: Server): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
