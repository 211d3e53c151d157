// `rebound send problem` as a user runs it (the real CLI in a child process) against the real
// webhook server and the real kube-apiserver.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startIngestServer } from '../../src/ingest/server.ts';
import type { RunningIngestServer } from '../../src/ingest/server.ts';
import { KubeProblemStore } from '../../src/ingest/store.ts';
import { createNamespace, listProblemEvents, loadKubeConfig } from './ingest-helpers.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'rebound.js');
const TOKEN = 'send-test-token-93bd1f';

function rebound(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

const problemYaml = `# A problem raised by hand
apiVersion: rebound.dev/v1alpha1
kind: ProblemEvent
metadata:
  name: carts-latency-by-hand
spec:
  project: sockshop
  stage: production
  service: carts
  problemTitle: response_time_p90
  rootCause: slow-database
`;

const remediationTrigger = JSON.stringify({
  type: 'sh.keptn.event.production.remediation.triggered',
  specversion: '1.0',
  source: 'https://github.com/keptn/keptn/fake-problem',
  contenttype: 'application/json',
  data: {
    project: 'fulltour',
    stage: 'production',
    service: 'helloservice',
    problem: { problemTitle: 'http_response_time_seconds_main_page_sum' },
  },
});

describe('rebound send problem', () => {
  let kc: KubeConfig;
  let kubeconfigPath: string;
  let namespace: string;
  let dir: string;
  let server: RunningIngestServer;

  beforeAll(async () => {
    kubeconfigPath = inject('cluster').kubeconfigPath;
    kc = loadKubeConfig(kubeconfigPath);
    namespace = await createNamespace(kc, 'ingest-send');
    dir = await mkdtemp(join(tmpdir(), 'rebound-send-'));
    await writeFile(join(dir, 'problem.yaml'), problemYaml);
    await writeFile(join(dir, 'remediation_trigger.json'), remediationTrigger);
    await writeFile(join(dir, 'token'), `${TOKEN}\n`);
    await writeFile(join(dir, 'wrong-token'), 'not-the-token\n');
    await writeFile(join(dir, 'bad.yaml'), problemYaml.replace('  stage: production\n', '  stage: Production!\n'));
    server = await startIngestServer({
      address: '127.0.0.1:0',
      tokens: () => [TOKEN],
      sink: new KubeProblemStore({ kubeConfig: kc, namespace }),
    });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a ProblemEvent YAML straight to the cluster, once', async () => {
    const args = [
      'send',
      'problem',
      '-f',
      join(dir, 'problem.yaml'),
      '--kube',
      '--kubeconfig',
      kubeconfigPath,
      '--namespace',
      namespace,
    ];
    const first = await rebound(args);
    expect(first).toMatchObject({
      code: 0,
      stdout: `problemevent/carts-latency-by-hand created in namespace ${namespace}\n`,
    });
    const second = await rebound(args);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/carts-latency-by-hand refreshed/);
    const stored = (await listProblemEvents(kc, namespace)).filter((p) => p.metadata.name === 'carts-latency-by-hand');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.spec).toMatchObject({ rootCause: 'slow-database', state: 'OPEN' });
  });

  it('sends the seed CloudEvent to the webhook, which stores it', async () => {
    const result = await rebound([
      'send',
      'problem',
      '-f',
      join(dir, 'remediation_trigger.json'),
      '--to',
      server.url,
      '--token-file',
      join(dir, 'token'),
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const { problems } = JSON.parse(result.stdout) as { problems: { name: string }[] };
    expect(problems).toHaveLength(1);
    const stored = (await listProblemEvents(kc, namespace)).find((p) => p.metadata.name === problems[0]?.name);
    expect(stored?.spec).toMatchObject({ project: 'fulltour', service: 'helloservice', source: 'cloudevent' });
  });

  it('reports a refused token with the server message and exit 1', async () => {
    const result = await rebound([
      'send',
      'problem',
      '-f',
      join(dir, 'remediation_trigger.json'),
      '--to',
      server.url,
      '--token-file',
      join(dir, 'wrong-token'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\/v1\/events answered 401: invalid bearer token/);
  });

  it('points at the line of a bad field and sends nothing (exit 2)', async () => {
    const before = (await listProblemEvents(kc, namespace)).length;
    const result = await rebound([
      'send',
      'problem',
      '-f',
      join(dir, 'bad.yaml'),
      '--kube',
      '--kubeconfig',
      kubeconfigPath,
      '--namespace',
      namespace,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bad\.yaml:8:10: spec\.stage: stage "Production!" must be a DNS-1123 label/);
    expect(await listProblemEvents(kc, namespace)).toHaveLength(before);
  });

  it('explains usage mistakes', async () => {
    const result = await rebound(['send', 'problem', '-f', join(dir, 'problem.yaml')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/give exactly one of --to URL or --kube/);
  });
});
