// How the provider classifies HTTP answers a real Prometheus cannot be made to give on demand
// (overload, a proxy asking for credentials, a hung connection). Query semantics are tested against
// a real Prometheus in test/integration/prometheus-sli.test.ts.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ReboundError } from '../../errors.ts';
import { FRESHNESS_QUERY, PrometheusSliProvider, prometheusProviders } from './prometheus.ts';
import type { SliRequest } from '../provider.ts';

const servers: Server[] = [];

/**
 * A fake Prometheus. The freshness query is answered by `lastScrape` (seconds; by default no `up`
 * series, so freshness cannot be told) unless `handler` wants to answer it too.
 */
async function serve(
  handler: (req: IncomingMessage, body: string, res: ServerResponse) => void,
  options: { lastScrape?: number; answerFreshness?: boolean } = {},
): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (!options.answerFreshness && new URLSearchParams(body).get('query') === FRESHNESS_QUERY) {
        res.end(options.lastScrape === undefined ? vector() : vector(String(options.lastScrape)));
        return;
      }
      handler(req, body, res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

const request = (overrides: Partial<SliRequest> = {}): SliRequest => ({
  project: 'sockshop',
  stage: 'production',
  service: 'carts',
  indicators: ['rt'],
  queries: { rt: 'rt{job="$SERVICE"}' },
  start: new Date('2026-01-01T10:00:00Z'),
  end: new Date('2026-01-01T10:05:00Z'),
  ...overrides,
});

const vector = (...values: string[]): string =>
  JSON.stringify({
    status: 'success',
    data: { resultType: 'vector', result: values.map((v, i) => ({ metric: { i: String(i) }, value: [0, v] })) },
  });

async function failure(promise: Promise<unknown>): Promise<ReboundError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ReboundError)) throw new Error(`expected a ReboundError, got ${String(err)}`);
  return err;
}

describe('PrometheusSliProvider freshness', () => {
  const windowStart = Date.parse('2026-01-01T10:00:00Z') / 1000;

  it('waits, retryably, while a target was last scraped before the window began', async () => {
    const asked: string[] = [];
    const url = await serve(
      (_req, body, res) => {
        asked.push(new URLSearchParams(body).get('query') ?? '');
        res.end(vector('42'));
      },
      { lastScrape: windowStart - 1 },
    );
    const err = await failure(new PrometheusSliProvider({ url }).getIndicators(request()));
    expect(err).toMatchObject({ code: 'WaitingForMetrics', reason: 'WaitingForMetrics', retryable: true });
    expect(err.message).toContain('last scraped at 2026-01-01T09:59:59.000Z');
    expect(asked).toEqual([]); // no SLI was read from data older than the action
  });

  it('reads the SLIs once every target was scraped since the window began', async () => {
    const url = await serve((_req, _body, res) => res.end(vector('42')), { lastScrape: windowStart });
    expect(await new PrometheusSliProvider({ url }).getIndicators(request())).toEqual([
      { metric: 'rt', value: 42, success: true, query: 'rt{job="carts"}' },
    ]);
  });

  it('asks at the window end, and a Prometheus that is down is unavailable, not stale', async () => {
    let freshnessBody = '';
    const url = await serve(
      (_req, body, res) => {
        freshnessBody = body;
        res.statusCode = 503;
        res.end('down');
      },
      { answerFreshness: true },
    );
    expect(await failure(new PrometheusSliProvider({ url }).getIndicators(request()))).toMatchObject({
      code: 'PrometheusUnavailable',
    });
    expect(Object.fromEntries(new URLSearchParams(freshnessBody))).toEqual({
      query: FRESHNESS_QUERY,
      time: '1767261900.000',
    });
  });
});

describe('PrometheusSliProvider HTTP handling', () => {
  it('posts the resolved query at the window end, under a path prefix', async () => {
    let seen: { url?: string | undefined; body: string; auth?: string | undefined } = { body: '' };
    const url = await serve((req, body, res) => {
      seen = { url: req.url, body, auth: req.headers.authorization };
      res.end(vector('42'));
    });
    const provider = new PrometheusSliProvider({ url: `${url}/prometheus/`, headers: { authorization: 'Bearer t' } });
    expect(await provider.getIndicators(request())).toEqual([
      { metric: 'rt', value: 42, success: true, query: 'rt{job="carts"}' },
    ]);
    expect(seen.url).toBe('/prometheus/api/v1/query');
    expect(Object.fromEntries(new URLSearchParams(seen.body))).toEqual({
      query: 'rt{job="carts"}',
      time: '1767261900.000',
    });
    expect(seen.auth).toBe('Bearer t');
  });

  it.each([503, 500, 429])('HTTP %d is a retryable PrometheusUnavailable', async (status) => {
    const url = await serve((_req, _body, res) => {
      res.statusCode = status;
      res.end('overloaded');
    });
    const err = await failure(new PrometheusSliProvider({ url }).getIndicators(request()));
    expect(err).toMatchObject({ code: 'PrometheusUnavailable', retryable: true });
    // A body that is not Prometheus's API format (a proxy's page, say) is never quoted.
    expect(err.message).toBe(
      `Prometheus at ${url} is unavailable: HTTP ${String(status)} with a body that is not a Prometheus API answer (10 bytes, not shown)`,
    );
  });

  it('a query timeout reported by Prometheus is retryable', async () => {
    const url = await serve((_req, _body, res) => {
      res.statusCode = 422;
      res.end(
        JSON.stringify({ status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' }),
      );
    });
    expect(await failure(new PrometheusSliProvider({ url }).getIndicators(request()))).toMatchObject({
      code: 'PrometheusUnavailable',
      retryable: true,
    });
  });

  it('no answer within the timeout is retryable', async () => {
    const url = await serve(() => undefined); // accepts, never answers
    const err = await failure(new PrometheusSliProvider({ url, timeoutMs: 200 }).getIndicators(request()));
    expect(err).toMatchObject({ code: 'PrometheusUnavailable', retryable: true });
    expect(err.message).toMatch(/no answer within 200 ms$/);
  });

  it.each([401, 404])('HTTP %d needs a person: not retryable', async (status) => {
    const url = await serve((_req, _body, res) => {
      res.statusCode = status;
      res.end('nope');
    });
    expect(await failure(new PrometheusSliProvider({ url }).getIndicators(request()))).toMatchObject({
      code: 'PrometheusBadResponse',
      retryable: false,
    });
  });

  it('a 200 that is not the Prometheus API needs a person: not retryable', async () => {
    const url = await serve((_req, _body, res) => res.end('<html>login</html>'));
    expect(await failure(new PrometheusSliProvider({ url }).getIndicators(request()))).toMatchObject({
      code: 'PrometheusBadResponse',
      retryable: false,
    });
  });

  it('accepts a scalar result, keeps request order with concurrent queries, fails +Inf', async () => {
    const url = await serve((_req, body, res) => {
      const query = new URLSearchParams(body).get('query') ?? '';
      if (query === 'scalar')
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [0, '7.5'] } }));
      else if (query === 'inf') res.end(vector('+Inf'));
      else setTimeout(() => res.end(vector(query.length.toString())), 30 - query.length);
    });
    const provider = new PrometheusSliProvider({ url, concurrency: 3 });
    const values = await provider.getIndicators(
      request({
        indicators: ['a', 'b', 'c', 'd', 'e'],
        queries: { a: 'scalar', b: 'x', c: 'xxxx', d: 'inf', e: 'xx' },
      }),
    );
    expect(values.map((v) => [v.metric, v.success, v.value])).toEqual([
      ['a', true, 7.5],
      ['b', true, 1],
      ['c', true, 4],
      ['d', false, 0],
      ['e', true, 2],
    ]);
    expect(values[3]?.message).toBe('query did not return valid values (+Inf): inf');
  });

  it('refuses an empty window and passes the caller cancellation through', async () => {
    const url = await serve(() => undefined);
    const provider = new PrometheusSliProvider({ url });
    const when = new Date('2026-01-01T10:00:00Z');
    expect(await failure(provider.getIndicators(request({ start: when, end: when })))).toMatchObject({
      code: 'InvalidEvaluationWindow',
      retryable: false,
    });
    const controller = new AbortController();
    const pending = provider.getIndicators(request({ signal: controller.signal }));
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
  });
});

describe('what reaches status from an answer', () => {
  it('never copies a body that is not a Prometheus API answer, and scrubs the one that is', async () => {
    const adminPage = await serve((_req, _body, res) => {
      res.statusCode = 403;
      res.end('<html>internal admin: db password hunter2-admin</html>');
    });
    const err = await failure(new PrometheusSliProvider({ url: adminPage }).getIndicators(request()));
    expect(err.message).not.toContain('hunter2');
    expect(err.message).toContain('not a Prometheus API answer');
    const echo = await serve((req, _body, res) => {
      res.statusCode = 503;
      res.end(
        JSON.stringify({
          status: 'error',
          errorType: 'unavailable',
          error: `overloaded; you sent ${req.headers.authorization ?? ''}`,
        }),
      );
    });
    const echoed = await failure(
      new PrometheusSliProvider({ url: echo, headers: { Authorization: 'Bearer prom-token-123456' } }).getIndicators(
        request(),
      ),
    );
    expect(echoed.message).toContain('overloaded');
    expect(echoed.message).not.toContain('prom-token-123456');
  });
});

describe('prometheusProviders', () => {
  const providers = prometheusProviders({
    defaultUrl: 'http://prometheus.monitoring:9090',
    allowedHosts: ['thanos.example.com'],
  });

  it.each([
    ['the default', undefined],
    ['the default origin with a path', 'http://prometheus.monitoring:9090/prom'],
    ['an allowed host', 'https://thanos.example.com/'],
  ])('allows %s', (_name, url) => {
    expect(providers(url)).toBeInstanceOf(PrometheusSliProvider);
  });

  it.each([
    ['a loopback admin page', 'http://127.0.0.1:8080/admin'],
    ['another spelling of loopback', 'http://2130706433/'],
    ['a metadata endpoint', 'http://169.254.169.254/latest/meta-data'],
    ['credentials in the URL', 'https://user:pw@thanos.example.com/'],
  ])('refuses %s, as a person must fix it', (_name, url) => {
    expect(() => providers(url)).toThrow(
      expect.objectContaining({ code: 'PrometheusHostNotAllowed', reason: 'EvaluationErrored', retryable: false }),
    );
  });
});
