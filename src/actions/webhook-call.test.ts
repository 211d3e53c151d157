// callWebhook against a real HTTP server on loopback: what it sends, how it classifies answers, when
// it retries and how long it waits (recorded through an injected sleep, never timed).
import { afterEach, describe, expect, it } from 'vitest';
import { ReboundError } from '../errors.ts';
import { closeServers, serve, status } from './recording-server.test-helper.ts';
import type { Handler } from './recording-server.test-helper.ts';
import { callWebhook, renderWebhookBody, webhookCredentialHeaders } from './webhook-call.ts';
import type { WebhookCallOptions, WebhookRequest } from './webhook-call.ts';

afterEach(closeServers);

const hang: Handler = () => undefined;

const TOKEN = 'tok-5f3c9e1a7b2d4c68';

function request(url: string, overrides: Partial<WebhookRequest> = {}): WebhookRequest {
  return {
    url: `${url}/hooks/restart`,
    body: { hello: 'runbook' },
    idempotencyKey: 'ns/problem-1/attempt-1',
    ...overrides,
  };
}

function options(host: string, waits: number[], overrides: Partial<WebhookCallOptions> = {}): WebhookCallOptions {
  return {
    allowedHosts: [host],
    timeoutMs: 2_000,
    retries: 2,
    backoffMs: 100,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    ...overrides,
  };
}

describe('callWebhook', () => {
  it('posts JSON with the fixed headers and succeeds on a 2xx at the first try', async () => {
    const server = await serve(status(202, 'accepted: job 17'));
    const waits: number[] = [];
    const result = await callWebhook(request(server.url), options(server.host, waits));
    expect(result).toEqual({ ok: true, status: 202, tries: 1, responseBody: 'accepted: job 17' });
    expect(waits).toEqual([]);
    expect(server.seen).toHaveLength(1);
    const [sent] = server.seen;
    expect(sent?.method).toBe('POST');
    expect(sent?.path).toBe('/hooks/restart');
    expect(sent?.headers['content-type']).toBe('application/json');
    expect(sent?.headers['user-agent']).toBe('rebound');
    expect(sent?.headers['idempotency-key']).toBe('ns/problem-1/attempt-1');
    expect(JSON.parse(sent?.body ?? '')).toEqual({ hello: 'runbook' });
  });

  it('sends PUT when asked', async () => {
    const server = await serve(status(204));
    const result = await callWebhook(request(server.url, { method: 'PUT' }), options(server.host, []));
    expect(result).toEqual({ ok: true, status: 204, tries: 1, responseBody: '' });
    expect(server.seen[0]?.method).toBe('PUT');
  });

  it('retries 5xx with doubling backoff and the same Idempotency-Key, then succeeds', async () => {
    const server = await serve(status(500, 'boom'), status(502, 'bad gateway'), status(200, 'done'));
    const waits: number[] = [];
    const result = await callWebhook(request(server.url), options(server.host, waits));
    expect(result).toEqual({ ok: true, status: 200, tries: 3, responseBody: 'done' });
    expect(waits).toEqual([100, 200]);
    expect(server.seen.map((s) => s.headers['idempotency-key'])).toEqual(Array(3).fill('ns/problem-1/attempt-1'));
  });

  it('caps the backoff at 10 s', async () => {
    const server = await serve(status(500), status(500), status(500), status(200));
    const waits: number[] = [];
    const result = await callWebhook(
      request(server.url),
      options(server.host, waits, { retries: 3, backoffMs: 4_000 }),
    );
    expect(result.ok).toBe(true);
    expect(waits).toEqual([4_000, 8_000, 10_000]);
  });

  it('gives up with WebhookUnavailable after retries + 1 tries of 5xx', async () => {
    const server = await serve(status(500, 'database down'));
    const result = await callWebhook(request(server.url), options(server.host, []));
    expect(result).toEqual({
      ok: false,
      status: 500,
      tries: 3,
      reason: 'WebhookUnavailable',
      retryable: true,
      message: `POST ${server.url} is unavailable after 3 tries: answered HTTP 500: database down`,
      responseBody: 'database down',
    });
    expect(server.seen).toHaveLength(3);
  });

  it('retries 429 too', async () => {
    const server = await serve(status(429), status(200));
    const result = await callWebhook(request(server.url), options(server.host, []));
    expect(result).toMatchObject({ ok: true, tries: 2 });
  });

  it('does not retry a 4xx: WebhookRejected after one try', async () => {
    const server = await serve(status(404, 'no such runbook'));
    const waits: number[] = [];
    const result = await callWebhook(request(server.url), options(server.host, waits));
    expect(result).toEqual({
      ok: false,
      status: 404,
      tries: 1,
      reason: 'WebhookRejected',
      retryable: false,
      message: `POST ${server.url} answered HTTP 404: no such runbook`,
      responseBody: 'no such runbook',
    });
    expect(server.seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('does not follow a redirect, not even to an allowed host', async () => {
    const target = await serve(status(200));
    const server = await serve(status(302, '', { location: `${target.url}/elsewhere` }));
    const result = await callWebhook(
      request(server.url),
      options(server.host, [], { allowedHosts: [server.host, target.host] }),
    );
    expect(result).toMatchObject({ ok: false, status: 302, tries: 1, reason: 'WebhookRejected', retryable: false });
    expect(!result.ok && result.message).toMatch(/HTTP 302 \(a redirect\): redirects are not followed/);
    expect(target.seen).toHaveLength(0);
    expect(server.seen).toHaveLength(1);
  });

  it('times out each try of a server that never answers, then reports it unavailable', async () => {
    const server = await serve(hang);
    const waits: number[] = [];
    const result = await callWebhook(request(server.url), options(server.host, waits, { timeoutMs: 100, retries: 1 }));
    expect(result).toEqual({
      ok: false,
      tries: 2,
      reason: 'WebhookUnavailable',
      retryable: true,
      message: `POST ${server.url} is unavailable after 2 tries: no answer within 100 ms`,
    });
    expect(server.seen).toHaveLength(2);
    expect(waits).toEqual([100]);
  });

  it('retries a refused connection and names the error code', async () => {
    const server = await serve(status(200));
    await server.close();
    const result = await callWebhook(request(server.url), options(server.host, [], { retries: 1 }));
    expect(result).toEqual({
      ok: false,
      tries: 2,
      reason: 'WebhookUnavailable',
      retryable: true,
      message: `POST ${server.url} is unavailable after 2 tries: cannot connect: ECONNREFUSED connect ECONNREFUSED ${server.host}`,
    });
  });

  it('makes no request at all to a host that is not allowed', async () => {
    const server = await serve(status(200));
    let fetched = 0;
    const counting: typeof fetch = (...args) => {
      fetched++;
      return fetch(...args);
    };
    const result = await callWebhook(
      request(server.url),
      options(server.host, [], { allowedHosts: ['hooks.example.com'], fetch: counting }),
    );
    expect(result).toMatchObject({ ok: false, tries: 0, reason: 'WebhookHostNotAllowed', retryable: false });
    expect(!result.ok && result.message).toContain(`host "${server.host}" is not allowed`);
    expect(fetched).toBe(0);
    expect(server.seen).toHaveLength(0);
  });

  it.each([
    { header: '3', wait: 3_000 },
    { header: '120', wait: 10_000 },
    { header: 'Wed, 21 Oct 2099 07:28:00 GMT', wait: 100 },
  ])('waits Retry-After: $header as $wait ms', async ({ header, wait }) => {
    const server = await serve(status(503, '', { 'retry-after': header }), status(200));
    const waits: number[] = [];
    const result = await callWebhook(request(server.url), options(server.host, waits));
    expect(result).toMatchObject({ ok: true, tries: 2 });
    expect(waits).toEqual([wait]);
  });

  it('sends credentials and extra headers, and keeps them out of messages even when echoed back', async () => {
    const echo: Handler = (_req, res, seen) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'bad request', youSent: seen.headers }));
    };
    const server = await serve(echo);
    const headers = {
      ...webhookCredentialHeaders({ token: TOKEN, 'header.X-Api-Key': 'key-0a1b2c3d4e5f' }),
      'X-Team': 'sre',
    };
    const result = await callWebhook(request(server.url, { headers }), options(server.host, []));
    const sent = server.seen[0]?.headers;
    expect(sent?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent?.['x-api-key']).toBe('key-0a1b2c3d4e5f');
    expect(sent?.['x-team']).toBe('sre');
    expect(result).toMatchObject({ ok: false, status: 400, reason: 'WebhookRejected' });
    const text = JSON.stringify(result);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('key-0a1b2c3d4e5f');
    expect(!result.ok && result.responseBody).toContain('"authorization":"[redacted]"');
  });

  it('redacts a Basic credential echoed without its scheme', async () => {
    const server = await serve((_req, res, seen) => {
      res.writeHead(500);
      res.end(`denied ${(seen.headers.authorization ?? '').split(' ')[1] ?? ''}`);
    });
    const headers = webhookCredentialHeaders({ username: 'runbook', password: 'pa55-w0rd-long' });
    const result = await callWebhook(request(server.url, { headers }), options(server.host, [], { retries: 0 }));
    expect(result).toMatchObject({
      ok: false,
      reason: 'WebhookUnavailable',
      tries: 1,
      responseBody: 'denied [redacted]',
    });
    expect(JSON.stringify(result)).not.toContain(Buffer.from('runbook:pa55-w0rd-long').toString('base64'));
  });

  it('redacts a runbook 401 that repeats the decoded user:password, in any encoding', async () => {
    const password = 'pa55 w0rd/long';
    const server = await serve((_req, res, seen) => {
      const decoded = Buffer.from((seen.headers.authorization ?? '').split(' ')[1] ?? '', 'base64').toString('utf8');
      res.writeHead(401);
      res.end(`no such user/password: ${decoded} (${encodeURIComponent(decoded)})`);
    });
    const headers = webhookCredentialHeaders({ username: 'runbook', password });
    const result = await callWebhook(request(server.url, { headers }), options(server.host, [], { retries: 0 }));
    expect(result).toMatchObject({ ok: false, status: 401, reason: 'WebhookRejected' });
    const text = JSON.stringify(result);
    expect(text).not.toContain(password);
    expect(text).not.toContain(encodeURIComponent(password));
  });

  it('lets the caller set Content-Type, never the Idempotency-Key', async () => {
    const server = await serve(status(200));
    const headers = { 'Content-Type': 'application/cloudevents+json', 'Idempotency-Key': 'forged' };
    await callWebhook(request(server.url, { headers }), options(server.host, []));
    expect(server.seen[0]?.headers['content-type']).toBe('application/cloudevents+json');
    expect(server.seen[0]?.headers['idempotency-key']).toBe('ns/problem-1/attempt-1');
  });

  it('refuses a header value with a line break before any request, without quoting it', async () => {
    const server = await serve(status(200));
    const call = callWebhook(request(server.url, { headers: { 'X-Token': `${TOKEN}\n` } }), options(server.host, []));
    const err = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReboundError);
    expect(err).toMatchObject({ reason: 'InvalidSpec', retryable: false });
    expect((err as Error).message).toContain('"X-Token"');
    expect((err as Error).message).not.toContain(TOKEN);
    expect(server.seen).toHaveLength(0);
  });

  it('keeps the first KiB of the answer without cutting a character in half', async () => {
    const server = await serve(status(200, `${'a'.repeat(1023)}é and more`));
    const result = await callWebhook(request(server.url), options(server.host, []));
    expect(result.ok && result.responseBody).toBe('a'.repeat(1023));
  });

  it('stops reading a huge answer', async () => {
    let finished = false;
    const endless: Handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(16 * 1024, 'x');
      let written = 0;
      const write = (): void => {
        // 64 MiB at most, with backpressure: it only finishes if the client reads it all.
        while (written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', write);
            return;
          }
        }
        finished = true;
        res.end();
      };
      write();
    };
    const server = await serve(endless);
    const result = await callWebhook(request(server.url), options(server.host, []));
    expect(result).toMatchObject({ ok: true, status: 200, tries: 1 });
    expect(result.ok && result.responseBody).toBe('x'.repeat(1024));
    expect(finished).toBe(false);
  });

  it('ends at once when cancelled during a try, without further tries', async () => {
    const abort = new AbortController();
    const server = await serve(() => abort.abort(new Error('controller stopping')));
    const waits: number[] = [];
    const call = callWebhook(request(server.url), options(server.host, waits, { signal: abort.signal, retries: 3 }));
    await expect(call).rejects.toThrow('controller stopping');
    expect(server.seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('ends at once when cancelled during a backoff wait', async () => {
    const abort = new AbortController();
    const server = await serve(status(503));
    const call = callWebhook(request(server.url), {
      ...options(server.host, []),
      signal: abort.signal,
      retries: 3,
      sleep: () => {
        abort.abort(new Error('controller stopping'));
        return Promise.resolve();
      },
    });
    await expect(call).rejects.toThrow('controller stopping');
    expect(server.seen).toHaveLength(1);
  });

  it('makes no request when already cancelled', async () => {
    const server = await serve(status(200));
    const call = callWebhook(
      request(server.url),
      options(server.host, [], { signal: AbortSignal.abort(new Error('stopped')) }),
    );
    await expect(call).rejects.toThrow('stopped');
    expect(server.seen).toHaveLength(0);
  });

  it('waits on the real clock by default, cancellable', async () => {
    const abort = new AbortController();
    const server = await serve((_req, res) => {
      res.writeHead(503);
      res.end();
      // The default sleep must give way to the signal instead of waiting out a 10 s backoff.
      setImmediate(() => abort.abort(new Error('stopping')));
    });
    const call = callWebhook(request(server.url), {
      allowedHosts: [server.host],
      timeoutMs: 2_000,
      retries: 1,
      backoffMs: 10_000,
      signal: abort.signal,
    });
    await expect(call).rejects.toThrow('stopping');
    expect(server.seen).toHaveLength(1);
  });
});

describe('webhookCredentialHeaders', () => {
  it.each<{ data: Record<string, string>; headers: Record<string, string> }>([
    { data: {}, headers: {} },
    { data: { token: 'abc' }, headers: { Authorization: 'Bearer abc' } },
    {
      data: { username: 'u', password: 'p' },
      headers: { Authorization: `Basic ${Buffer.from('u:p').toString('base64')}` },
    },
    {
      data: { username: 'ü', password: 'p:ä' },
      headers: { Authorization: `Basic ${Buffer.from('ü:p:ä', 'utf8').toString('base64')}` },
    },
    { data: { 'header.X-Api-Key': 'k', 'header.X-Org': 'o' }, headers: { 'X-Api-Key': 'k', 'X-Org': 'o' } },
    { data: { token: 't', 'header.X-Api-Key': 'k' }, headers: { Authorization: 'Bearer t', 'X-Api-Key': 'k' } },
    { data: { 'header.Authorization': 'Token abc' }, headers: { Authorization: 'Token abc' } },
    { data: { 'ca.crt': 'PEM', note: 'x' }, headers: {} },
  ])('$data → $headers', ({ data, headers }) => {
    expect(webhookCredentialHeaders(data)).toEqual(headers);
  });

  it.each<{ data: Record<string, string>; key: string; why: RegExp }>([
    { data: { token: 's3cret-value', username: 'u' }, key: 'token', why: /both set/ },
    { data: { username: 'u' }, key: 'password', why: /is missing/ },
    { data: { password: 's3cret-value' }, key: 'username', why: /is missing/ },
    { data: { token: '' }, key: 'token', why: /is empty/ },
    { data: { token: 's3cret-value\n' }, key: 'token', why: /line break/ },
    { data: { username: 'a:b', password: 's3cret-value' }, key: 'username', why: /":"/ },
    { data: { username: 'u', password: 's3cret-value\r' }, key: 'password', why: /line break/ },
    { data: { 'header.X Key': 's3cret-value' }, key: 'header.X Key', why: /not a valid header name/ },
    { data: { 'header.': 's3cret-value' }, key: 'header.', why: /not a valid header name/ },
    { data: { 'header.X-Key': 's3cret-value\r\nX-Injected: 1' }, key: 'header.X-Key', why: /line break/ },
    { data: { 'header.X-Key': 's3cret\0value' }, key: 'header.X-Key', why: /NUL/ },
    { data: { 'header.Host': 's3cret-value' }, key: 'header.Host', why: /Rebound sets itself/ },
    { data: { 'header.content-type': 's3cret-value' }, key: 'header.content-type', why: /Rebound sets itself/ },
    { data: { token: 't', 'header.authorization': 's3cret-value' }, key: 'header.authorization', why: /already sets/ },
  ])('refuses $data naming $key, never the value', ({ data, key, why }) => {
    let err: unknown;
    try {
      webhookCredentialHeaders(data);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReboundError);
    expect(err).toMatchObject({ code: 'SecretInvalid', reason: 'SecretInvalid', retryable: false });
    const message = (err as Error).message;
    expect(message).toContain(JSON.stringify(key));
    expect(message).toMatch(why);
    expect(message).not.toContain('s3cret');
  });
});

describe('renderWebhookBody', () => {
  const problem = {
    namespace: 'sockshop',
    name: 'am-carts-3f2a',
    uid: '6f1d3c2e-0a4b-4b7c-9d2e-5a6b7c8d9e0f',
    project: 'sockshop',
    stage: 'production',
    service: 'carts',
    title: 'response_time_p90',
    state: 'OPEN',
  };

  it('renders everything a runbook needs, optional fields included', () => {
    const body = renderWebhookBody({
      actionId: 'sockshop.am-carts-3f2a.2',
      callbackUrl: 'https://rebound.example.com/v1/actions/sockshop.am-carts-3f2a.2/finished',
      problem: {
        ...problem,
        rootCause: 'HighLatency',
        problemID: 'f00d',
        source: 'alertmanager',
        impactedEntity: 'carts-primary',
      },
      attempt: { index: 2, name: 'restart carts', action: 'webhook', value: 'restart' },
      links: { dashboard: 'https://grafana.example.com/d/carts', problemEvent: 'forged/ignored' },
    });
    expect(body).toEqual({
      type: 'rebound.action.triggered',
      actionId: 'sockshop.am-carts-3f2a.2',
      callbackUrl: 'https://rebound.example.com/v1/actions/sockshop.am-carts-3f2a.2/finished',
      problem: {
        namespace: 'sockshop',
        name: 'am-carts-3f2a',
        uid: '6f1d3c2e-0a4b-4b7c-9d2e-5a6b7c8d9e0f',
        project: 'sockshop',
        stage: 'production',
        service: 'carts',
        title: 'response_time_p90',
        rootCause: 'HighLatency',
        problemID: 'f00d',
        state: 'OPEN',
        source: 'alertmanager',
        impactedEntity: 'carts-primary',
      },
      attempt: { index: 2, name: 'restart carts', action: 'webhook', value: 'restart' },
      links: { problemEvent: 'sockshop/am-carts-3f2a', dashboard: 'https://grafana.example.com/d/carts' },
    });
  });

  it('leaves absent optional fields out of the JSON', () => {
    const body = renderWebhookBody({
      actionId: 'a1',
      problem,
      attempt: { index: 1, action: 'webhook', value: 'restart' },
    });
    expect(JSON.parse(JSON.stringify(body))).toEqual({
      type: 'rebound.action.triggered',
      actionId: 'a1',
      problem,
      attempt: { index: 1, action: 'webhook', value: 'restart' },
      links: { problemEvent: 'sockshop/am-carts-3f2a' },
    });
    expect(Object.keys(body)).not.toContain('callbackUrl');
  });
});
