// The Unleash client against a stand-in on loopback, for what a real Unleash will not do on demand
// (429, 5xx, hanging) and the exact requests; test/integration/unleash.test.ts covers the real server.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ReboundError } from '../errors.ts';
import { setUnleashFeature, unleashBaseUrl } from './unleash.ts';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const TOKEN = '*:*.unit-test-secret-token';
let server: Server;
let url: string;
let seen: Seen[] = [];
let handler: Handler;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** A feature environment that is `enabled`, accepting on/off. */
function unleashWith(enabled: boolean | undefined): Handler {
  return (req, res) => {
    if (req.method === 'GET')
      json(
        res,
        200,
        enabled === undefined ? { name: 'f' } : { name: 'f', environment: 'production', enabled, strategies: [] },
      );
    else res.writeHead(200).end();
  };
}

async function rejection(promise: Promise<unknown>): Promise<ReboundError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ReboundError)) throw new Error(`expected a ReboundError, got ${String(err)}`);
  return err;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  handler = unleashWith(false);
});

describe('unleashBaseUrl', () => {
  it('drops trailing slashes and a trailing /api, and keeps a base path', () => {
    expect(unleashBaseUrl('http://h:4242')).toBe('http://h:4242');
    expect(unleashBaseUrl('http://h:4242/')).toBe('http://h:4242');
    expect(unleashBaseUrl('http://h:4242/api')).toBe('http://h:4242');
    expect(unleashBaseUrl(' http://h:4242/api// ')).toBe('http://h:4242');
    expect(unleashBaseUrl('https://h/unleash/api/')).toBe('https://h/unleash');
    expect(unleashBaseUrl('https://h/apis')).toBe('https://h/apis');
  });
});

describe('setUnleashFeature', () => {
  it.each([401, 502])(
    'never lets an error body (HTTP %d) that echoes the Authorization header into the error',
    async (status) => {
      handler = (req, res) =>
        json(res, status, {
          message: `invalid token ${req.headers.authorization ?? ''} (${encodeURIComponent(req.headers.authorization ?? '')})`,
        });
      const err = await rejection(setUnleashFeature({ url, token: TOKEN, environment: 'production' }, 'f', true));
      expect(err.message).toContain('invalid token [redacted]');
      expect(err.message).not.toContain('unit-test-secret-token');
    },
  );

  it('reads the environment, then writes, with the token as the Authorization header, for every URL form', async () => {
    for (const form of [url, `${url}/`, `${url}/api`, `${url}/api/`]) {
      seen = [];
      const change = await setUnleashFeature(
        { url: form, token: TOKEN, project: 'team a', environment: 'production' },
        'new-checkout',
        true,
      );
      expect(change).toMatchObject({ feature: 'new-checkout', enabled: true, previous: false, changed: true });
      const path = '/api/admin/projects/team%20a/features/new-checkout/environments/production';
      expect(seen).toEqual([
        { method: 'GET', url: path, authorization: TOKEN },
        { method: 'POST', url: `${path}/on`, authorization: TOKEN },
      ]);
    }
  });

  it('writes nothing when the flag is already in the wanted state', async () => {
    handler = unleashWith(true);
    const change = await setUnleashFeature({ url, token: TOKEN, environment: 'production' }, 'f', true);
    expect(change).toMatchObject({ enabled: true, previous: true, changed: false });
    expect(seen.map((s) => s.method)).toEqual(['GET']);
    expect(seen[0]?.url).toBe('/api/admin/projects/default/features/f/environments/production');
  });

  it('writes when the answer does not say the state, and reports the previous state as unknown', async () => {
    handler = unleashWith(undefined);
    const change = await setUnleashFeature({ url, token: TOKEN, environment: 'production' }, 'f', false);
    expect(change).toMatchObject({ previous: undefined, changed: true });
    expect(seen.map((s) => `${s.method} ${s.url.split('/').pop() ?? ''}`)).toEqual(['GET production', 'POST off']);
  });

  it.each([
    [500, 'UnleashUnavailable', true],
    [503, 'UnleashUnavailable', true],
    [429, 'UnleashUnavailable', true],
    [401, 'UnleashUnauthorized', false],
    [403, 'UnleashUnauthorized', false],
    [404, 'UnleashFeatureNotFound', false],
    [400, 'ActionFailed', false],
  ])(
    "classifies %i as %s (retryable: %s), with Unleash's message and never the token",
    async (status, reason, retryable) => {
      handler = (_req, res) => json(res, status, { name: 'SomeError', message: `server says ${String(status)}` });
      const err = await rejection(
        setUnleashFeature({ url, token: TOKEN, project: 'shop', environment: 'production' }, 'carts-cache', true),
      );
      expect(err.reason).toBe(reason);
      expect(err.retryable).toBe(retryable);
      expect(err.message).toContain(`server says ${String(status)}`);
      expect(err.message).toContain('"carts-cache"');
      expect(err.message).toContain('"shop"');
      expect(err.message).toContain('"production"');
      expect(err.message).not.toContain('secret');
    },
  );

  it('classifies a failed write like a failed read', async () => {
    handler = (req, res) => {
      if (req.method === 'GET') json(res, 200, { enabled: false });
      else json(res, 403, { message: 'You do not have the required permission' });
    };
    const err = await rejection(setUnleashFeature({ url, token: TOKEN, environment: 'production' }, 'f', true));
    expect(err.reason).toBe('UnleashUnauthorized');
    expect(err.message).toContain('turning on');
  });

  it('gives up after timeoutMs when Unleash does not answer: UnleashUnavailable, retryable', async () => {
    handler = () => undefined; // never answers
    const err = await rejection(
      setUnleashFeature({ url, token: TOKEN, environment: 'production', timeoutMs: 100 }, 'f', true),
    );
    expect(err.reason).toBe('UnleashUnavailable');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('did not answer within 100 ms');
  });

  it("passes the caller's abort on as it is", async () => {
    handler = () => undefined;
    const controller = new AbortController();
    const reason = new Error('step cancelled');
    const pending = setUnleashFeature({ url, token: TOKEN, environment: 'production' }, 'f', true, controller.signal);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('refuses a URL that is not http(s) or carries credentials, without echoing the credentials', async () => {
    const notHttp = await rejection(
      setUnleashFeature({ url: 'unleash.example.com', token: TOKEN, environment: 'production' }, 'f', true),
    );
    expect(notHttp.retryable).toBe(false);
    expect(notHttp.message).toContain('is not an http(s) URL');
    const withCredentials = await rejection(
      setUnleashFeature(
        { url: 'https://admin:hunter2@unleash.example.com', token: TOKEN, environment: 'production' },
        'f',
        true,
      ),
    );
    expect(withCredentials.retryable).toBe(false);
    expect(withCredentials.message).not.toContain('hunter2');
    expect(seen).toEqual([]);
  });
});
