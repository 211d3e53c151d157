// Keptn's API paths with the requests Keptn's CLI sends through go-utils' APISet
// (pkg/api/utils/v2: postWithEventContext, getAndExpectSuccess, addAuthHeader): Content-Type
// application/json, the token in x-token, the endpoint `<server>/api`.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionCallbackStore, ActionReport } from './action-callbacks.ts';
import { keptnContextFor } from './keptn-api.ts';
import { createIngestHandler } from './server.ts';
import type { MappedProblem } from './types.ts';

const TOKEN = 'keptn-api-token-5b0d3e8a';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// The seed's remediation_trigger.json, as `keptn send event -f` reads it into KeptnContextExtendedCE
// and posts it again (go-utils' ToJSON drops empty fields, keeps `contenttype`).
const sendEventBody = {
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

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

let url = '';
let server: Server;
const sunk: MappedProblem[] = [];
const reports: ActionReport[] = [];

async function keptn(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  token: string | null = TOKEN,
): Promise<Answer> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token !== null) headers['x-token'] = token;
  const response = await fetch(`${url}/api${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

beforeAll(async () => {
  const actions: ActionCallbackStore = {
    record: (report) => {
      reports.push(report);
      return Promise.resolve({ kind: 'recorded' });
    },
  };
  server = createServer(
    createIngestHandler({
      tokens: () => [TOKEN],
      actions,
      keptnNamespace: 'keptn',
      sink: {
        store: (problems) => {
          sunk.push(...problems);
          return Promise.resolve(problems.map((p) => ({ name: p.name, outcome: 'created' as const })));
        },
      },
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("Keptn's API on the ingest server", () => {
  it('keptn send event: POST /api/v1/event stores the problem and answers a new keptnContext', async () => {
    const answer = await keptn('POST', '/v1/event', sendEventBody);
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.text) as { keptnContext: string };
    expect(Object.keys(body)).toEqual(['keptnContext']);
    expect(body.keptnContext).toMatch(UUID_V4);
    expect(sunk.at(-1)?.spec).toMatchObject({
      project: 'fulltour',
      stage: 'production',
      service: 'helloservice',
      problemTitle: 'http_response_time_seconds_main_page_sum',
    });
  });

  it('answers the keptnContext the event carries, as Keptn did', async () => {
    const context = '6f4c2f0e-5d7b-4a59-9c1e-3b8a2d7e9f10';
    const answer = await keptn('POST', '/v1/event', { ...sendEventBody, shkeptncontext: context });
    expect(JSON.parse(answer.text)).toEqual({ keptnContext: context });
  });

  it("takes an executor's action.finished as /v1/events does", async () => {
    const answer = await keptn('POST', '/v1/event', {
      type: 'sh.keptn.event.action.finished',
      specversion: '1.0',
      source: 'job-executor-service',
      shkeptncontext: '6f4c2f0e-5d7b-4a59-9c1e-3b8a2d7e9f10',
      triggeredid: 'team~p1~1~6a1c3f0e2d4b',
      data: {
        project: 'fulltour',
        stage: 'production',
        service: 'helloservice',
        status: 'succeeded',
        result: 'pass',
        message: 'scaled',
      },
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ keptnContext: '6f4c2f0e-5d7b-4a59-9c1e-3b8a2d7e9f10' });
    expect(reports.at(-1)).toMatchObject({ actionId: 'team~p1~1~6a1c3f0e2d4b', status: 'succeeded', via: 'keptn' });
  });

  it("refuses a bad event with Keptn's error body, which go-utils decodes and the CLI prints", async () => {
    const unsupported = await keptn('POST', '/v1/event', {
      ...sendEventBody,
      type: 'sh.keptn.event.evaluation.triggered',
    });
    expect(unsupported.status).toBe(400);
    expect(JSON.parse(unsupported.text)).toEqual({
      code: 400,
      message: expect.stringMatching(
        /^type: unsupported event type "sh\.keptn\.event\.evaluation\.triggered"/,
      ) as unknown,
    });
    const broken = await keptn('POST', '/v1/event', '{"type": ');
    expect(JSON.parse(broken.text)).toMatchObject({
      code: 400,
      message: expect.stringMatching(/^body is not valid JSON/) as unknown,
    });
  });

  it("keptn auth: POST /api/v1/auth with no body answers 200 and nothing; a wrong token 401 in Keptn's shape", async () => {
    const ok = await keptn('POST', '/v1/auth');
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('');
    expect((await keptn('GET', '/v1/auth')).status).toBe(200);
    const wrong = await keptn('POST', '/v1/auth', undefined, 'not-the-token');
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.text)).toEqual({ code: 401, message: 'invalid bearer token' });
    const none = await keptn('POST', '/v1/event', sendEventBody, null);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.text)).toMatchObject({ code: 401 });
  });

  it('GET /api/v1/metadata answers the document the CLI reads (automaticprovisioning set)', async () => {
    const answer = await keptn('GET', '/v1/metadata');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({
      namespace: 'keptn',
      keptnversion: '1.4.5',
      keptnlabel: 'rebound',
      bridgeversion: 'N/A',
      shipyardversion: '0.2.0',
      automaticprovisioning: false,
    });
    expect((await keptn('GET', '/v1/metadata', undefined, 'wrong')).status).toBe(401);
  });

  it('answers 405 with the allowed methods for a method a path does not take', async () => {
    const answer = await keptn('GET', '/v1/event');
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('POST');
    expect(JSON.parse(answer.text)).toEqual({ code: 405, message: '/api/v1/event only accepts POST' });
  });
});

describe('keptnContextFor', () => {
  it('keeps a UUID and makes a new one when there is none', () => {
    expect(keptnContextFor('6F4C2F0E-5D7B-4A59-9C1E-3B8A2D7E9F10')).toBe('6F4C2F0E-5D7B-4A59-9C1E-3B8A2D7E9F10');
    expect(keptnContextFor(undefined)).toMatch(UUID_V4);
    expect(keptnContextFor('')).not.toBe(keptnContextFor(''));
  });

  it.each([
    // Keptn's createOrApplyKeptnContext: uuid.New() reading its 16 random bytes from the string
    // (right-padded with spaces to 16), then the version 4 and variant bits.
    // "-372352683456961" = 2d 33 37 32 33 35 32 36 38 33 ...; byte 6 0x32 → 0x42, byte 8 0x38 → 0xb8.
    ['-3723526834569612447_1604481480000V2', '2d333732-3335-4236-b833-343536393631'],
    // "abc" + 13 spaces: byte 6 0x20 → 0x40, byte 8 0x20 → 0xa0.
    ['abc', '61626320-2020-4020-a020-202020202020'],
  ])('derives the same context from the same non-UUID string %j', (given, expected) => {
    expect(keptnContextFor(given)).toBe(expected);
    expect(keptnContextFor(given)).toBe(keptnContextFor(given));
  });
});
