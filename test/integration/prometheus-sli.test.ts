// The Prometheus SLI provider against a real Prometheus (Debian's) holding backfilled, known data:
// placeholders resolved for the window, known values, the failures Keptn named, and the difference
// between a failed SLI and a Prometheus that cannot be asked.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReboundError } from '../../src/errors.ts';
import { evaluateSlo } from '../../src/evaluation/engine.ts';
import { PrometheusSliProvider } from '../../src/evaluation/providers/prometheus.ts';
import type { SliRequest } from '../../src/evaluation/provider.ts';
import { parseSliFile } from '../../src/formats/sli.ts';
import { parseSloFile } from '../../src/formats/slo.ts';
import { freePort } from '../harness/ports.ts';
import { formatOpenMetrics, startPrometheus } from '../harness/prometheus.ts';
import type { LocalPrometheus } from '../harness/prometheus.ts';

// A fixed past window: 10:00–10:05 UTC on 2023-11-14 (t0 is its end).
const t0 = 1_699_956_300;
const start = new Date((t0 - 300) * 1000);
const end = new Date(t0 * 1000);
const every15s = (from: number, to: number): number[] =>
  Array.from({ length: (to - from) / 15 + 1 }, (_, i) => from + i * 15);

const SLI_YAML = `spec_version: "1.0"
indicators:
  response_time_p95: max_over_time(http_response_time_p95_ms{job="$SERVICE-$PROJECT-$STAGE", deployment="$DEPLOYMENT"}[$DURATION_SECONDS])
  throughput: sum(rate(http_requests_total{job="$SERVICE-$PROJECT-$STAGE", handler="$handler"}[$DURATION_SECONDS]))
  pod_restarts: max(pod_restarts{pod="$LABEL.pod_name"})
  missing: http_response_time_p95_ms{job="$SERVICE-nowhere"}
  per_instance: instance_up{job="$SERVICE"}
  not_a_number: sum(http_response_time_p95_ms{job="$SERVICE-$PROJECT-$STAGE"}) / 0 - sum(http_response_time_p95_ms{job="$SERVICE-$PROJECT-$STAGE"}) / 0
  broken: sum(rate(http_requests_total[$DURATION_SECONDS])
`;

const SLO_YAML = `spec_version: "0.1.1"
filter:
  handler: "'ItemsController'"
objectives:
  - sli: response_time_p95
    key_sli: true
    pass:
      - criteria: ["<=+10%", "<600"]
    warning:
      - criteria: ["<=800"]
  - sli: throughput
    pass:
      - criteria: [">=-5%"]
  - sli: pod_restarts
    pass:
      - criteria: ["=0"]
total_score:
  pass: "90%"
  warning: "75%"
`;

let prometheus: LocalPrometheus;
let queries: Record<string, string>;

beforeAll(async () => {
  const sli = parseSliFile('sli.yaml', SLI_YAML);
  if (!sli.ok) throw new Error('sli.yaml fixture does not parse');
  queries = sli.sli.indicators;
  const window = every15s(t0 - 600, t0);
  prometheus = await startPrometheus({
    openMetrics: formatOpenMetrics([
      {
        name: 'http_response_time_p95_ms',
        series: [
          // 412.5 ms throughout the window, with one 480 ms peak; an older 900 ms peak before it.
          {
            labels: { job: 'carts-sockshop-production', deployment: 'primary' },
            samples: window.map((ts) => ({
              timestamp: ts,
              value: ts === t0 - 120 ? 480 : ts === t0 - 450 ? 900 : 412.5,
            })),
          },
          {
            labels: { job: 'carts-sockshop-production', deployment: 'canary' },
            samples: window.map((ts) => ({ timestamp: ts, value: 5000 })),
          },
        ],
      },
      {
        name: 'http_requests_total',
        type: 'counter',
        series: [
          // 10 requests a second on the handler the SLO filters for, 3 on another.
          {
            labels: { job: 'carts-sockshop-production', handler: 'ItemsController' },
            samples: window.map((ts) => ({ timestamp: ts, value: (ts - (t0 - 600)) * 10 })),
          },
          {
            labels: { job: 'carts-sockshop-production', handler: 'Health' },
            samples: window.map((ts) => ({ timestamp: ts, value: (ts - (t0 - 600)) * 3 })),
          },
        ],
      },
      {
        name: 'pod_restarts',
        series: [{ labels: { pod: 'carts-7d9f' }, samples: window.map((ts) => ({ timestamp: ts, value: 0 })) }],
      },
      {
        name: 'instance_up',
        series: ['a', 'b'].map((instance) => ({
          labels: { job: 'carts', instance },
          samples: window.map((ts) => ({ timestamp: ts, value: 1 })),
        })),
      },
    ]),
  });
});

afterAll(async () => {
  await prometheus?.stop();
});

function request(indicators: string[], overrides: Partial<SliRequest> = {}): SliRequest {
  return {
    project: 'sockshop',
    stage: 'production',
    service: 'carts',
    labels: { pod_name: 'carts-7d9f' },
    customFilters: { handler: "'ItemsController'" },
    indicators,
    queries,
    start,
    end,
    ...overrides,
  };
}

describe('PrometheusSliProvider against a real Prometheus', () => {
  it('resolves the placeholders for the window and returns the known values', async () => {
    const provider = new PrometheusSliProvider({ url: prometheus.url });
    const values = await provider.getIndicators(request(['response_time_p95', 'throughput', 'pod_restarts']));
    expect(values.map((v) => [v.metric, v.success, v.query])).toEqual([
      [
        'response_time_p95',
        true,
        'max_over_time(http_response_time_p95_ms{job="carts-sockshop-production", deployment="primary"}[300s])',
      ],
      [
        'throughput',
        true,
        'sum(rate(http_requests_total{job="carts-sockshop-production", handler="ItemsController"}[300s]))',
      ],
      ['pod_restarts', true, 'max(pod_restarts{pod="carts-7d9f"})'],
    ]);
    // The 900 ms peak lies before the 5-minute window; the 480 ms one inside it.
    expect(values[0]?.value).toBe(480);
    expect(values[1]?.value).toBeCloseTo(10, 9);
    expect(values[2]?.value).toBe(0);
  });

  it('uses the event deployment for $DEPLOYMENT and the window length for $DURATION_SECONDS', async () => {
    const provider = new PrometheusSliProvider({ url: prometheus.url });
    const [canary] = await provider.getIndicators(
      request(['response_time_p95'], { deployment: 'canary', start: new Date((t0 - 60) * 1000) }),
    );
    expect(canary).toEqual({
      metric: 'response_time_p95',
      value: 5000,
      success: true,
      query: 'max_over_time(http_response_time_p95_ms{job="carts-sockshop-production", deployment="canary"}[60s])',
    });
  });

  it('fails an indicator whose query returns no sample, several samples, NaN, or is rejected, naming the resolved query', async () => {
    const provider = new PrometheusSliProvider({ url: prometheus.url });
    const values = await provider.getIndicators(
      request(['missing', 'per_instance', 'not_a_number', 'broken', 'undefined_sli']),
    );
    expect(values.map((v) => [v.metric, v.success, v.value])).toEqual([
      ['missing', false, 0],
      ['per_instance', false, 0],
      ['not_a_number', false, 0],
      ['broken', false, 0],
      ['undefined_sli', false, 0],
    ]);
    expect(values[0]?.message).toBe('query did not return any values: http_response_time_p95_ms{job="carts-nowhere"}');
    expect(values[1]?.message).toBe('query did return multiple values (2 series): instance_up{job="carts"}');
    expect(values[2]?.message).toMatch(
      /^query did not return valid values \(NaN\): sum\(http_response_time_p95_ms\{job="carts-sockshop-production"\}\) \/ 0/,
    );
    expect(values[3]?.message).toMatch(
      /^Prometheus rejected the query \(bad_data: .+\): sum\(rate\(http_requests_total\[300s\]\)$/,
    );
    expect(values[4]?.message).toBe('no query for SLI "undefined_sli" in sli.yaml');
  });

  it('throws a retryable PrometheusUnavailable when nothing listens, not a failed SLI', async () => {
    const closedPort = await freePort();
    const provider = new PrometheusSliProvider({ url: `http://127.0.0.1:${String(closedPort)}`, timeoutMs: 2_000 });
    const error = await provider.getIndicators(request(['response_time_p95', 'throughput'])).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ReboundError);
    expect(error).toMatchObject({ code: 'PrometheusUnavailable', reason: 'PrometheusUnavailable', retryable: true });
    expect((error as Error).message).toMatch(
      new RegExp(
        `^Prometheus at http://127\\.0\\.0\\.1:${String(closedPort)} is unavailable: cannot connect: ECONNREFUSED`,
      ),
    );
  });

  it('feeds the SLO engine: an explainable verdict from real values and an earlier evaluation', async () => {
    const slo = parseSloFile('slo.yaml', SLO_YAML);
    if (!slo.ok) throw new Error('slo.yaml fixture does not parse');
    const provider = new PrometheusSliProvider({ url: prometheus.url });
    const values = await provider.getIndicators(
      request(
        slo.slo.objectives.map((o) => o.sli),
        { customFilters: slo.slo.filter },
      ),
    );
    const result = evaluateSlo({
      slo: slo.slo,
      indicators: values,
      // Last time: 400 ms and 10.2 requests a second. 480 > 440 (+10%) but <= 800: a warning.
      previous: [
        {
          result: 'pass',
          indicatorResults: [
            { metric: 'response_time_p95', value: 400, success: true },
            { metric: 'throughput', value: 10.2, success: true },
          ],
        },
      ],
    });
    expect(result.indicatorResults.map((r) => [r.metric, r.status, r.value, r.comparedValue])).toEqual([
      ['response_time_p95', 'warning', 480, 400],
      ['throughput', 'pass', values[1]?.value, 10.2],
      ['pod_restarts', 'pass', 0, 0],
    ]);
    expect(result.indicatorResults[0]?.passTargets).toEqual([
      { criteria: '<=+10%', targetValue: 440, violated: true },
      { criteria: '<600', targetValue: 600, violated: false },
    ]);
    expect(result.indicatorResults[0]?.query).toContain('deployment="primary"}[300s]');
    expect(result.score).toBeCloseTo((100 * 2.5) / 3, 9);
    expect(result.result).toBe('warning');
  });
});

// A live Prometheus scraping a target every 10 s: an SLI is read only once every target has been
// scraped since the window began, so a gauge from before the action is never judged.
describe('freshness against a scraping Prometheus', () => {
  let scraping: LocalPrometheus | undefined;
  let target: Server | undefined;

  afterAll(async () => {
    await scraping?.stop();
    target?.closeAllConnections();
    await new Promise<void>((resolve) => (target ? target.close(() => resolve()) : resolve()));
  });

  it('waits while the newest scrape is older than the window, reads once it is not', async () => {
    target = createServer((_req, res) => res.end('# TYPE rebound_fresh_gauge gauge\nrebound_fresh_gauge 7\n'));
    await new Promise<void>((resolve) => target?.listen(0, '127.0.0.1', resolve));
    const port = (target.address() as AddressInfo).port;
    scraping = await startPrometheus({ scrapeTargets: [`127.0.0.1:${String(port)}`], scrapeInterval: '10s' });
    const provider = new PrometheusSliProvider({ url: scraping.url });

    // The last scrape's time, from Prometheus itself: windows just after it and just before it
    // need no race with the next scrape, which is 10 s away.
    const lastScrape = await waitForFirstScrape(scraping.url);
    const live = (start: number): SliRequest => ({
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      indicators: ['gauge'],
      queries: { gauge: 'max(rebound_fresh_gauge)' },
      start: new Date(start),
      end: new Date(lastScrape + 5),
    });

    const stale = await provider.getIndicators(live(lastScrape + 1)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(stale).toMatchObject({ code: 'WaitingForMetrics', reason: 'WaitingForMetrics', retryable: true });
    expect(await provider.getIndicators(live(lastScrape))).toEqual([
      { metric: 'gauge', value: 7, success: true, query: 'max(rebound_fresh_gauge)' },
    ]);
  });
});

/** Milliseconds of the target's first scrape, as Prometheus recorded it (polled, bounded). */
async function waitForFirstScrape(url: string): Promise<number> {
  for (let i = 0; i < 150; i++) {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('max(timestamp(up))')}`);
    const body = (await response.json()) as { data?: { result?: { value?: [number, string] }[] } };
    const value = body.data?.result?.[0]?.value?.[1];
    if (value !== undefined) return Math.round(Number(value) * 1000);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('Prometheus did not scrape its target within 30 s');
}
