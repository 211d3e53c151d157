// The HTTP ways in against the real kube-apiserver: every accepted request is a ProblemEvent in the
// API server, every refused one is answered with the right status and message and stores nothing.
import { request } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KubeProblemStore, LAST_SEEN_ANNOTATION } from '../../src/ingest/store.ts';
import { startIngestServer } from '../../src/ingest/server.ts';
import type { RunningIngestServer } from '../../src/ingest/server.ts';
import { createNamespace, listProblemEvents, loadKubeConfig, postJson } from './ingest-helpers.ts';

const TOKEN = 'integration-token-4f9d2c7e1b';
const auth = { Authorization: `Bearer ${TOKEN}` };
const MAX_BODY = 64 * 1024;

const seedRemediationTrigger = {
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
};

const dynatraceProblem = {
  State: 'OPEN',
  ProblemID: '672',
  PID: '-3723526834569612447_1604481480000V2',
  ProblemTitle: 'Response time degradation',
  ImpactedEntity: 'Response time degradation on Web request service ItemsController',
  ProblemDetails: { id: '-3723526834569612447_1604481480000V2', severityLevel: 'PERFORMANCE' },
  Tags: 'keptn_project:sockshop, keptn_stage:production, keptn_service:carts',
};

const validAlert = {
  status: 'firing',
  labels: { alertname: 'response_time_p90', project: 'sockshop', stage: 'production', service: 'carts' },
  annotations: { summary: 'p90 above 600 ms' },
  startsAt: '2026-11-22T04:10:00Z',
  fingerprint: 'b1c2d3e4f5a6b7c8',
};

let kc: KubeConfig;

beforeAll(() => {
  kc = loadKubeConfig(inject('cluster').kubeconfigPath);
});

describe('accepted payloads become ProblemEvents', () => {
  let namespace: string;
  let server: RunningIngestServer;

  beforeAll(async () => {
    namespace = await createNamespace(kc, 'ingest-ok');
    server = await startIngestServer({
      address: '127.0.0.1:0',
      tokens: () => [TOKEN],
      sink: new KubeProblemStore({ kubeConfig: kc, namespace }),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('stores the seed remediation_trigger.json once, however often it is sent', async () => {
    const first = await postJson(`${server.url}/v1/events`, seedRemediationTrigger, {
      ...auth,
      'Content-Type': 'application/cloudevents+json',
    });
    const again = await postJson(`${server.url}/v1/events`, seedRemediationTrigger, {
      ...auth,
      'Content-Type': 'application/cloudevents+json',
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ accepted: 1 });
    expect(again.body).toEqual(first.body);
    const [name] = first.body['problems'] as string[];
    const stored = (await listProblemEvents(kc, namespace)).filter((p) => p.metadata.name === name);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.spec).toMatchObject({
      project: 'fulltour',
      stage: 'production',
      service: 'helloservice',
      problemTitle: 'http_response_time_seconds_main_page_sum',
      state: 'OPEN',
      source: 'cloudevent',
    });
    expect(stored[0]?.metadata.labels).toMatchObject({
      'rebound.dev/project': 'fulltour',
      'rebound.dev/source': 'cloudevent',
    });
  });

  it("accepts Keptn's x-token header in place of Authorization, as keptn send event sends it", async () => {
    const keptn = await postJson(`${server.url}/v1/events`, seedRemediationTrigger, {
      'x-token': TOKEN,
      'Content-Type': 'application/cloudevents+json',
    });
    expect(keptn.status).toBe(200);
    const wrong = await postJson(`${server.url}/v1/events`, seedRemediationTrigger, {
      'x-token': 'not-the-token',
      'Content-Type': 'application/cloudevents+json',
    });
    expect(wrong.status).toBe(401);
  });

  it('accepts a binary-mode CloudEvent (attributes in ce-* headers)', async () => {
    const response = await postJson(
      `${server.url}/v1/events`,
      { project: 'fulltour', service: 'helloservice', problem: { ProblemTitle: 'error_rate', rootCause: 'OOMKilled' } },
      {
        ...auth,
        'ce-specversion': '1.0',
        'ce-type': 'sh.keptn.event.production.remediation.triggered',
        'ce-source': 'integration-test',
        'ce-id': 'evt-0001',
      },
    );
    expect(response.status).toBe(200);
    const stored = (await listProblemEvents(kc, namespace)).find(
      (p) => p.metadata.name === (response.body['problems'] as string[])[0],
    );
    expect(stored?.spec).toMatchObject({
      stage: 'production',
      problemTitle: 'error_rate',
      rootCause: 'OOMKilled',
      problemID: 'integration-test/evt-0001',
    });
  });

  it('opens and then resolves a Dynatrace problem under one name', async () => {
    const open = await postJson(`${server.url}/v1/dynatrace`, dynatraceProblem, auth);
    const resolved = await postJson(`${server.url}/v1/dynatrace`, { ...dynatraceProblem, State: 'RESOLVED' }, auth);
    expect([open.status, resolved.status]).toEqual([200, 200]);
    expect(resolved.body['problems']).toEqual(open.body['problems']);
    const name = (open.body['problems'] as string[])[0];
    const matching = (await listProblemEvents(kc, namespace)).filter((p) => p.metadata.name === name);
    expect(matching).toHaveLength(1);
    expect(matching[0]?.spec.state).toBe('RESOLVED');
    expect(matching[0]?.metadata.annotations?.[LAST_SEEN_ANNOTATION]).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('never reopens a resolved problem when a late OPEN delivery arrives', async () => {
    const late = await postJson(`${server.url}/v1/dynatrace`, dynatraceProblem, auth);
    expect(late.status).toBe(200);
    const stored = (await listProblemEvents(kc, namespace)).find(
      (p) => p.metadata.name === (late.body['problems'] as string[])[0],
    );
    expect(stored?.spec.state).toBe('RESOLVED');
  });

  it('records a resolved alert that was never seen firing, already RESOLVED', async () => {
    const alert = {
      ...validAlert,
      status: 'resolved',
      fingerprint: 'e0e0e0e0e0e0e0e0',
      endsAt: '2026-11-22T04:20:00Z',
    };
    const response = await postJson(
      `${server.url}/v1/alertmanager`,
      { version: '4', status: 'resolved', alerts: [alert] },
      auth,
    );
    expect(response.status).toBe(200);
    const stored = (await listProblemEvents(kc, namespace)).find(
      (p) => p.metadata.name === (response.body['problems'] as string[])[0],
    );
    expect(stored?.spec).toMatchObject({ service: 'carts', state: 'RESOLVED', problemID: 'e0e0e0e0e0e0e0e0' });
  });

  it('stores a ProblemEvent manifest under its own name', async () => {
    const manifest = {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'ProblemEvent',
      metadata: { name: 'carts-manual-problem' },
      spec: {
        project: 'sockshop',
        stage: 'production',
        service: 'carts',
        problemTitle: 'response_time_p90',
        source: 'kubectl',
      },
    };
    const response = await postJson(`${server.url}/v1/problems`, manifest, auth);
    expect(response.body).toEqual({ accepted: 1, problems: ['carts-manual-problem'] });
    expect((await listProblemEvents(kc, namespace)).map((p) => p.metadata.name)).toContain('carts-manual-problem');
  });
});

describe('concurrent deliveries of one alert', () => {
  it('store one ProblemEvent, also across two servers that share no cache (409 path)', async () => {
    const namespace = await createNamespace(kc, 'ingest-race');
    const servers = await Promise.all(
      [0, 1].map(() =>
        startIngestServer({
          address: '127.0.0.1:0',
          tokens: () => [TOKEN],
          sink: new KubeProblemStore({ kubeConfig: kc, namespace }),
        }),
      ),
    );
    try {
      const payload = { version: '4', status: 'firing', alerts: [validAlert] };
      const responses = await Promise.all(
        Array.from({ length: 40 }, (_, i) => postJson(`${servers[i % 2]?.url ?? ''}/v1/alertmanager`, payload, auth)),
      );
      expect(new Set(responses.map((r) => r.status))).toEqual(new Set([200]));
      expect(new Set(responses.map((r) => JSON.stringify(r.body['problems']))).size).toBe(1);
      const stored = await listProblemEvents(kc, namespace);
      expect(stored).toHaveLength(1);
      expect(stored[0]?.spec.state).toBe('OPEN');

      // The resolved notification reaches the server that did not create the object.
      const resolved = await postJson(
        `${servers[1]?.url ?? ''}/v1/alertmanager`,
        { ...payload, status: 'resolved', alerts: [{ ...validAlert, status: 'resolved' }] },
        auth,
      );
      expect(resolved.status).toBe(200);
      const after = await listProblemEvents(kc, namespace);
      expect(after.map((p) => [p.metadata.name, p.spec.state])).toEqual([[stored[0]?.metadata.name, 'RESOLVED']]);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });
});

describe('repeats of a firing alert', () => {
  it('refresh the last-seen annotation at most once per refresh interval', async () => {
    const namespace = await createNamespace(kc, 'ingest-seen');
    let now = Date.parse('2026-11-22T05:00:00Z');
    const server = await startIngestServer({
      address: '127.0.0.1:0',
      tokens: () => [TOKEN],
      sink: new KubeProblemStore({ kubeConfig: kc, namespace, refreshAfterMs: 60_000, now: () => now }),
    });
    const lastSeen = async (): Promise<string | undefined> =>
      (await listProblemEvents(kc, namespace))[0]?.metadata.annotations?.[LAST_SEEN_ANNOTATION];
    const deliver = (): Promise<unknown> =>
      postJson(`${server.url}/v1/alertmanager`, { version: '4', status: 'firing', alerts: [validAlert] }, auth);
    try {
      await deliver();
      expect(await lastSeen()).toBe('2026-11-22T05:00:00.000Z');
      now += 30_000;
      await deliver();
      expect(await lastSeen()).toBe('2026-11-22T05:00:00.000Z');
      now += 31_000;
      await deliver();
      expect(await lastSeen()).toBe('2026-11-22T05:01:01.000Z');
      expect(await listProblemEvents(kc, namespace)).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe('refused requests are answered and store nothing', () => {
  let namespace: string;
  let server: RunningIngestServer;

  beforeAll(async () => {
    namespace = await createNamespace(kc, 'ingest-bad');
    server = await startIngestServer({
      address: '127.0.0.1:0',
      tokens: () => [TOKEN],
      maxBodyBytes: MAX_BODY,
      sink: new KubeProblemStore({ kubeConfig: kc, namespace }),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  interface BadCase {
    name: string;
    path: string;
    method?: string;
    headers: Record<string, string>;
    body: unknown;
    status: number;
    error: RegExp;
    field?: string;
  }
  const json = { 'Content-Type': 'application/json' };
  const amPayload = (alerts: unknown[], extra: Record<string, unknown> = {}): unknown => ({
    version: '4',
    status: 'firing',
    receiver: 'rebound',
    alerts,
    ...extra,
  });
  const cases: BadCase[] = [
    {
      name: 'no Authorization header',
      path: '/v1/alertmanager',
      headers: json,
      body: amPayload([validAlert]),
      status: 401,
      error: /missing bearer token/,
    },
    {
      name: 'wrong token',
      path: '/v1/alertmanager',
      headers: { ...json, Authorization: 'Bearer not-the-token' },
      body: amPayload([validAlert]),
      status: 401,
      error: /invalid bearer token/,
    },
    {
      name: 'token as a prefix of the real one',
      path: '/v1/events',
      headers: { ...json, Authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      body: seedRemediationTrigger,
      status: 401,
      error: /invalid bearer token/,
    },
    {
      name: 'Basic instead of Bearer',
      path: '/v1/dynatrace',
      headers: { ...json, Authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` },
      body: dynatraceProblem,
      status: 401,
      error: /invalid bearer token/,
    },
    {
      name: 'GET on a POST route',
      path: '/v1/alertmanager',
      method: 'GET',
      headers: auth,
      body: undefined,
      status: 405,
      error: /only accepts POST/,
    },
    {
      name: 'unknown route',
      path: '/v1/prometheus',
      headers: { ...json, ...auth },
      body: amPayload([validAlert]),
      status: 404,
      error: /no route/,
    },
    {
      name: 'text/plain body',
      path: '/v1/alertmanager',
      headers: { ...auth, 'Content-Type': 'text/plain' },
      body: JSON.stringify(amPayload([validAlert])),
      status: 415,
      error: /Content-Type must be application\/json/,
    },
    {
      name: 'non-UTF-8 charset',
      path: '/v1/dynatrace',
      headers: { ...auth, 'Content-Type': 'application/json; charset=iso-8859-1' },
      body: dynatraceProblem,
      status: 415,
      error: /UTF-8/,
    },
    {
      name: 'body over the limit',
      path: '/v1/alertmanager',
      headers: { ...json, ...auth },
      body: amPayload([validAlert], { padding: 'x'.repeat(MAX_BODY) }),
      status: 413,
      error: /larger than 65536 bytes/,
    },
    {
      name: 'not JSON',
      path: '/v1/alertmanager',
      headers: { ...json, ...auth },
      body: '{"version": "4", "alerts": [',
      status: 400,
      error: /not valid JSON/,
    },
    {
      name: 'empty body',
      path: '/v1/events',
      headers: { ...json, ...auth },
      body: '',
      status: 400,
      error: /empty body/,
    },
    {
      name: 'alert without service',
      path: '/v1/alertmanager',
      headers: { ...json, ...auth },
      body: amPayload([{ ...validAlert, labels: { alertname: 'x', project: 'sockshop', stage: 'production' } }]),
      status: 400,
      error: /no service/,
      field: 'alerts[0].labels.service',
    },
    {
      name: 'webhook payload version 3',
      path: '/v1/alertmanager',
      headers: { ...json, ...auth },
      body: amPayload([validAlert], { version: '3' }),
      status: 400,
      error: /expected "4"/,
      field: 'version',
    },
    {
      name: 'one bad alert in a group of valid ones',
      path: '/v1/alertmanager',
      headers: { ...json, ...auth },
      body: amPayload([
        validAlert,
        { ...validAlert, fingerprint: 'ffff', labels: { ...validAlert.labels, project: 'Sock Shop' } },
      ]),
      status: 400,
      error: /DNS-1123/,
      field: 'alerts[1].labels.project',
    },
    {
      name: 'a CloudEvent sent to the Alertmanager route',
      path: '/v1/alertmanager',
      headers: { ...json, ...auth },
      body: seedRemediationTrigger,
      status: 400,
      error: /expected an array/,
      field: 'alerts',
    },
    {
      name: 'an event type that is not a problem',
      path: '/v1/events',
      headers: { ...json, ...auth },
      body: { ...seedRemediationTrigger, type: 'sh.keptn.event.production.delivery.triggered' },
      status: 400,
      error: /unsupported event type/,
      field: 'type',
    },
    {
      name: 'event stage disagrees with its type',
      path: '/v1/events',
      headers: { ...json, ...auth },
      body: { ...seedRemediationTrigger, data: { ...seedRemediationTrigger.data, stage: 'qa' } },
      status: 400,
      error: /does not match/,
      field: 'data.stage',
    },
    {
      name: 'event without a problem title',
      path: '/v1/events',
      headers: { ...json, ...auth },
      body: { ...seedRemediationTrigger, data: { ...seedRemediationTrigger.data, problem: { rootCause: 'x' } } },
      status: 400,
      error: /is required/,
      field: 'data.problem.problemTitle',
    },
    {
      name: 'Dynatrace problem without keptn tags',
      path: '/v1/dynatrace',
      headers: { ...json, ...auth },
      body: { ...dynatraceProblem, Tags: 'app:carts' },
      status: 400,
      error: /keptn_project/,
      field: 'project',
    },
    {
      name: 'Dynatrace problem in an unknown state',
      path: '/v1/dynatrace',
      headers: { ...json, ...auth },
      body: { ...dynatraceProblem, State: 'ACKNOWLEDGED' },
      status: 400,
      error: /OPEN, RESOLVED/,
      field: 'State',
    },
    {
      name: 'manifest with an invalid name',
      path: '/v1/problems',
      headers: { ...json, ...auth },
      body: {
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'ProblemEvent',
        metadata: { name: 'Carts_Problem' },
        spec: { project: 'p', stage: 's', service: 'v', problemTitle: 't' },
      },
      status: 400,
      error: /not a valid object name/,
      field: 'metadata.name',
    },
  ];

  it.each(cases)('$name → $status', async ({ path, method, headers, body, status, error, field }) => {
    const response = await fetch(`${server.url}${path}`, {
      method: method ?? 'POST',
      headers,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const answer = (await response.json()) as { error: string; field: string | null };
    expect(response.status).toBe(status);
    expect(answer.error).toMatch(error);
    expect(answer.field).toBe(field ?? null);
    if (status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="rebound"/);
    if (status === 405) expect(response.headers.get('allow')).toBe('POST');
  });

  it('cuts off a chunked body at the limit while it streams (no Content-Length) → 413', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${server.url}/v1/alertmanager`,
        { method: 'POST', headers: { ...json, ...auth, 'Transfer-Encoding': 'chunked' } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      const chunk = Buffer.alloc(16 * 1024, 'x');
      // 8 × 16 KiB = 128 KiB, twice the limit.
      for (let i = 0; i < 8; i++) req.write(chunk);
      req.end();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'request body larger than 65536 bytes' });
  });

  it('stored nothing for any refused request', async () => {
    expect(await listProblemEvents(kc, namespace)).toEqual([]);
  });
});

describe('API server unavailable', () => {
  it('answers 503 with Retry-After so the sender retries, and never 2xx', async () => {
    const dead = new KubeConfig();
    dead.loadFromOptions({
      clusters: [{ name: 'dead', server: 'https://127.0.0.1:9', skipTLSVerify: true }],
      users: [{ name: 'nobody', token: 'unused' }],
      contexts: [{ name: 'dead', cluster: 'dead', user: 'nobody' }],
      currentContext: 'dead',
    });
    const server = await startIngestServer({
      address: '127.0.0.1:0',
      tokens: () => [TOKEN],
      sink: new KubeProblemStore({ kubeConfig: dead, namespace: 'default' }),
    });
    try {
      const response = await postJson(
        `${server.url}/v1/alertmanager`,
        { version: '4', status: 'firing', alerts: [validAlert] },
        auth,
      );
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(String(response.body['error'])).toMatch(/API server unreachable/);
    } finally {
      await server.close();
    }
  });
});
