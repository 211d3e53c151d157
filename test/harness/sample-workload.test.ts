// The sample workload against a small fake API server on loopback: what it serves follows the live
// Deployment and flags, a failed read (a busy API server) keeps the last state, and only a Deployment
// that is gone removes the series.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSampleWorkload } from './sample-workload.ts';
import type { SampleWorkload } from './sample-workload.ts';

type Answer = 'live' | 'failing' | 'gone';

let api: Server | undefined;
let workload: SampleWorkload | undefined;
let dir: string | undefined;

afterEach(async () => {
  await workload?.stop();
  await new Promise<void>((resolve) => (api ? api.close(() => resolve()) : resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
  api = workload = dir = undefined;
});

/** What the fake API server holds, by path: 4 Ready replicas, the promotion off. */
const OBJECTS = {
  deployment: {
    path: '/apis/apps/v1/namespaces/shop/deployments/carts',
    body: {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'carts', namespace: 'shop' },
      spec: { replicas: 4 },
      status: { observedGeneration: 1, readyReplicas: 4 },
    },
  },
  flags: {
    path: '/api/v1/namespaces/shop/configmaps/carts-feature-flags',
    body: {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: 'carts-feature-flags', namespace: 'shop' },
      data: { EnablePromotion: 'false' },
    },
  },
};

/** A fake API server answering each of OBJECTS as `answers` says at the time. */
async function fakeApi(answers: Record<keyof typeof OBJECTS, Answer>): Promise<string> {
  const status = (code: number, reason: string): object => ({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason,
    code,
  });
  api = createServer((req, res) => {
    const json = (code: number, body: object): void => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const key = (Object.keys(OBJECTS) as (keyof typeof OBJECTS)[]).find((k) => req.url?.startsWith(OBJECTS[k].path));
    const answer = key === undefined ? 'gone' : answers[key];
    if (answer === 'gone' || key === undefined) return json(404, status(404, 'NotFound'));
    if (answer === 'failing') return json(500, status(500, 'InternalError'));
    return json(200, OBJECTS[key].body);
  });
  await new Promise<void>((resolve) => api?.listen(0, '127.0.0.1', resolve));
  const server = `http://127.0.0.1:${String((api.address() as AddressInfo).port)}`;
  dir = await mkdtemp(join(tmpdir(), 'rebound-sample-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node refuses plain HTTP unless TLS verification is off.
      clusters: [{ name: 'fake', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'c', context: { cluster: 'fake', user: 'u' } }],
      'current-context': 'c',
    }),
  );
  return kubeconfig;
}

/** The response-time value served for carts, or undefined when the series is absent. */
async function served(w: SampleWorkload): Promise<number | undefined> {
  const text = await (await fetch(`http://${w.address}/metrics`)).text();
  const line = /^rebound_sample_response_time_p95_ms\{[^}]*service="carts"\} (\d+)$/m.exec(text);
  return line ? Number(line[1]) : undefined;
}

describe('the sample workload', () => {
  it('serves the live state, keeps the last one while reads fail, and drops the series once the Deployment is gone', async () => {
    const answers: Record<keyof typeof OBJECTS, Answer> = { deployment: 'live', flags: 'live' };
    workload = await startSampleWorkload({
      kubeconfigPath: await fakeApi(answers),
      targets: [{ project: 'p', stage: 'production', service: 'carts', namespace: 'shop' }],
      refreshMs: 20,
    });
    // 4 Ready replicas, promotion off: 300 / sqrt(4). Each scrape waits for a read after it began.
    await expect.poll(() => served(workload as SampleWorkload), { timeout: 10_000 }).toBe(150);

    // A failing flags read is not "no flags": the promotion stays off (450 would be promotion on).
    answers.flags = 'failing';
    expect(await served(workload)).toBe(150);
    // Nor is a failing Deployment read "not deployed": the series stays.
    answers.deployment = 'failing';
    expect(await served(workload)).toBe(150);
    expect(await served(workload)).toBe(150);

    // No flags ConfigMap at all: every flag at its default, the promotion on.
    answers.deployment = 'live';
    answers.flags = 'gone';
    expect(await served(workload)).toBe(450);

    answers.deployment = 'gone';
    expect(await served(workload)).toBeUndefined();
  });
});
