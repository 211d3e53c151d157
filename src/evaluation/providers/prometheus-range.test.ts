// The range-query client for the UI's SLI charts against a fake Prometheus on loopback: what it asks
// (step, window, headers), what it keeps of the answer, and that every trouble becomes a short,
// scrubbed message instead of an exception. Real Prometheus: test/integration/ui-browser.test.ts.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusRangeClient, prometheusRangeClients } from './prometheus-range.ts';

const servers: Server[] = [];

async function serve(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => handler(req, body, res));
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

const start = new Date('2026-01-01T10:00:00Z');
const end = new Date('2026-01-01T10:10:00Z');
const t = (s: number): number => start.getTime() / 1000 + s;

const matrix = (series: { metric: Record<string, string>; values: [number, string][] }[]): string =>
  JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: series } });

describe('PrometheusRangeClient', () => {
  it('asks query_range for the window at a step of about 120 points, with its headers', async () => {
    let seen: { path?: string; body: URLSearchParams; auth?: string } | undefined;
    const url = await serve((req, body, res) => {
      seen = { path: req.url ?? '', body: new URLSearchParams(body), auth: req.headers.authorization ?? '' };
      res.end(
        matrix([
          {
            metric: { __name__: 'latency', pod: 'carts-1' },
            values: [
              [t(0), '412.5'],
              [t(5), 'NaN'],
              [t(10), '480'],
            ],
          },
        ]),
      );
    });
    const client = new PrometheusRangeClient({
      url: `${url}/prom/`,
      headers: { authorization: 'Bearer s3cret-token' },
    });
    const outcome = await client.range({ query: 'latency{pod="carts-1"}', start, end });
    expect(seen?.path).toBe('/prom/api/v1/query_range');
    expect(seen?.auth).toBe('Bearer s3cret-token');
    expect(Object.fromEntries(seen?.body ?? [])).toEqual({
      query: 'latency{pod="carts-1"}',
      start: String(start.getTime() / 1000) + '.000',
      end: String(end.getTime() / 1000) + '.000',
      step: '5',
    });
    expect(outcome).toEqual({
      ok: true,
      stepSeconds: 5,
      series: [
        {
          labels: { pod: 'carts-1' },
          points: [
            [t(0) * 1000, 412.5],
            [t(10) * 1000, 480],
          ],
        },
      ],
    });
  });

  it('keeps at most maxSeries series, and a short window is read every second', async () => {
    let step = '';
    const url = await serve((_req, body, res) => {
      step = new URLSearchParams(body).get('step') ?? '';
      res.end(matrix(Array.from({ length: 9 }, (_, i) => ({ metric: { i: String(i) }, values: [[t(0), '1']] }))));
    });
    const outcome = await new PrometheusRangeClient({ url, maxSeries: 3 }).range({
      query: 'up',
      start,
      end: new Date(start.getTime() + 30_000),
    });
    expect(step).toBe('1');
    expect(outcome.ok && outcome.series.map((s) => s.labels['i'])).toEqual(['0', '1', '2']);
  });

  it("quotes Prometheus's own error, scrubbed of the credentials it was sent", async () => {
    const url = await serve((_req, _body, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error near Bearer s3cret-token' }),
      );
    });
    const outcome = await new PrometheusRangeClient({ url, headers: { authorization: 'Bearer s3cret-token' } }).range({
      query: 'sum(',
      start,
      end,
    });
    expect(outcome).toEqual({
      ok: false,
      message: expect.stringMatching(/answered HTTP 400: bad_data: parse error near \[redacted\]$/) as string,
    });
  });

  it('does not quote an answer that is not from Prometheus', async () => {
    const url = await serve((_req, _body, res) => {
      res.writeHead(401, { 'content-type': 'text/html' });
      res.end('<html><body>sign in at the proxy, session 42</body></html>');
    });
    const outcome = await new PrometheusRangeClient({ url }).range({ query: 'up', start, end });
    expect(outcome).toEqual({
      ok: false,
      message: `Prometheus at ${url} answered HTTP 401 with an answer that is not from Prometheus (not shown)`,
    });
  });

  it('says Prometheus is unreachable when nothing listens or nothing answers in time', async () => {
    const closed = await serve(() => undefined);
    const [server] = servers.splice(0);
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    const refused = await new PrometheusRangeClient({ url: closed }).range({ query: 'up', start, end });
    expect(refused).toEqual({ ok: false, message: expect.stringContaining('is unreachable: ECONNREFUSED') as string });

    const hung = await serve(() => undefined); // never answers
    const late = await new PrometheusRangeClient({ url: hung, timeoutMs: 200 }).range({ query: 'up', start, end });
    expect(late).toEqual({ ok: false, message: `Prometheus at ${hung} is unreachable: no answer within 200 ms` });
  });
});

describe('prometheusRangeClients', () => {
  const clients = prometheusRangeClients({ defaultUrl: 'http://prometheus:9090', allowedHosts: ['metrics.example'] });

  it("uses the default, or a Remediation's URL on an allowed host, and refuses any other", () => {
    expect(clients(undefined)).toBeInstanceOf(PrometheusRangeClient);
    expect(clients('https://metrics.example/prom')).toBeInstanceOf(PrometheusRangeClient);
    expect(clients('http://prometheus:9090/other')).toBeInstanceOf(PrometheusRangeClient);
    expect(clients('http://169.254.169.254/latest')).toEqual({
      refused: 'evaluation.prometheusURL is not allowed: host not in --prometheus-allowed-hosts',
    });
    expect(prometheusRangeClients({ defaultUrl: undefined, allowedHosts: [] })(undefined)).toEqual({
      refused: 'no Prometheus URL is configured (--prometheus-url)',
    });
  });
});
