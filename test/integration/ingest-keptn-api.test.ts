// Keptn's API paths against the real kube-apiserver, with the requests Keptn's CLI makes through
// go-utils (`keptn auth`, `keptn send event`, the metadata read before `keptn create project`):
// Content-Type application/json, the token in x-token, the endpoint `<ingest>/api`.
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startIngestServer } from '../../src/ingest/server.ts';
import type { RunningIngestServer } from '../../src/ingest/server.ts';
import { KubeProblemStore } from '../../src/ingest/store.ts';
import { createNamespace, listProblemEvents, loadKubeConfig } from './ingest-helpers.ts';

const TOKEN = 'keptn-api-integration-2c8e4f1a';

let kc: KubeConfig;
let namespace: string;
let server: RunningIngestServer;
let endpoint: string;

/** What go-utils' postWithEventContext / getAndExpectSuccess send. */
async function keptnRequest(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  token = TOKEN,
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${endpoint}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', 'x-token': token },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, text: await response.text() };
}

beforeAll(async () => {
  kc = loadKubeConfig(inject('cluster').kubeconfigPath);
  namespace = await createNamespace(kc, 'keptn-api');
  server = await startIngestServer({
    address: '127.0.0.1:0',
    tokens: () => [TOKEN],
    sink: new KubeProblemStore({ kubeConfig: kc, namespace }),
    keptnNamespace: namespace,
  });
  // `keptn auth --endpoint=http://host:port/api`: the CLI appends /v1/... to it.
  endpoint = `${server.url}/api`;
});

afterAll(async () => {
  await server.close();
});

describe("Keptn's API on the ingest server", () => {
  it('keptn auth: POST /v1/auth answers 200 with the token, 401 without a good one', async () => {
    expect(await keptnRequest('POST', '/v1/auth')).toEqual({ status: 200, text: '' });
    const refused = await keptnRequest('POST', '/v1/auth', undefined, 'stale-token');
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.text)).toEqual({ code: 401, message: 'invalid bearer token' });
  });

  it('GET /v1/metadata answers the namespace problems go to', async () => {
    const answer = await keptnRequest('GET', '/v1/metadata');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ namespace, keptnversion: '1.4.5', automaticprovisioning: false });
  });

  it("keptn send event -f remediation_trigger.json: a ProblemEvent in the API server and Keptn's keptnContext", async () => {
    const seedTrigger = {
      contenttype: 'application/json',
      data: {
        project: 'fulltour',
        service: 'helloservice',
        stage: 'production',
        problem: { problemTitle: 'http_response_time_seconds_main_page_sum' },
      },
      source: 'https://github.com/keptn/keptn/fake-problem',
      specversion: '1.0',
      type: 'sh.keptn.event.production.remediation.triggered',
    };
    const answer = await keptnRequest('POST', '/v1/event', seedTrigger);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ keptnContext: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown });
    const stored = (await listProblemEvents(kc, namespace)).filter((p) => p.spec.service === 'helloservice');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.spec).toMatchObject({
      project: 'fulltour',
      stage: 'production',
      problemTitle: 'http_response_time_seconds_main_page_sum',
      state: 'OPEN',
      source: 'cloudevent',
    });
  });

  it("dynatrace-service's forwarded problem, routed by KeptnProject/KeptnStage/KeptnService, with its PID as context", async () => {
    const pid = '-3723526834569612447_1604481480000V2';
    const problem = {
      specversion: '1.0',
      shkeptncontext: pid,
      type: 'sh.keptn.events.problem',
      source: 'dynatrace',
      id: pid,
      contenttype: 'application/json',
      data: {
        State: 'OPEN',
        ProblemID: '672',
        PID: pid,
        ProblemTitle: 'Memory saturation',
        Tags: 'host:infra-7',
        ImpactedEntity: 'Host infra-7',
        KeptnProject: 'demo-remediation',
        KeptnService: 'allproblems',
        KeptnStage: 'production',
      },
    };
    const answer = await keptnRequest('POST', '/v1/event', problem);
    expect(answer.status).toBe(200);
    // Keptn derived the same UUID from the same non-UUID context every time.
    expect(JSON.parse(answer.text)).toEqual({ keptnContext: '2d333732-3335-4236-b833-343536393631' });
    const stored = (await listProblemEvents(kc, namespace)).filter((p) => p.spec.service === 'allproblems');
    expect(stored.map((p) => p.spec)).toEqual([
      expect.objectContaining({
        project: 'demo-remediation',
        stage: 'production',
        problemTitle: 'Memory saturation',
        problemID: '672',
      }),
    ]);
  });

  it('refuses an event it cannot map with a 400 in the shape go-utils decodes, and stores nothing', async () => {
    const before = (await listProblemEvents(kc, namespace)).length;
    const answer = await keptnRequest('POST', '/v1/event', {
      specversion: '1.0',
      type: 'sh.keptn.event.production.remediation.triggered',
      data: { project: 'fulltour', stage: 'production', service: 'helloservice' },
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toEqual({
      code: 400,
      message: 'data.problem: is required (an object with problemTitle and optionally rootCause)',
    });
    expect(await listProblemEvents(kc, namespace)).toHaveLength(before);
  });
});
