// The SLI chart as markup: points placed in the window, the target line, hostile labels as text, and
// the per-SLI cells of a problem page (query, value, targets, result, chart or why there is none).
// The series cache: one query per window and TTL however often a page is rendered.
import { describe, expect, it } from 'vitest';
import type { ProblemEvent } from '../api/types.ts';
import type { RangeOutcome } from '../evaluation/providers/prometheus-range.ts';
import type { ChartData } from './sli-series.ts';
import { CHART_HEIGHT, formatValue, sliChart } from './sli-chart.ts';
import { MAX_CHARTS, SliSeriesCache, chartKey, evaluationWindowOf } from './sli-series.ts';
import { problemDetail } from './views.ts';

const START = Date.parse('2026-01-01T00:00:00Z');
const END = START + 600_000;
const HOSTILE = '<img src=x onerror="alert(1)">';

const points = (values: number[]): [number, number][] => values.map((v, i) => [START + i * 60_000, v]);

/** Each dot's centre, in document order. */
const dots = (svg: string): { cx: number; cy: number }[] =>
  [...svg.matchAll(/<circle class="point" cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => ({
    cx: Number(m[1]),
    cy: Number(m[2]),
  }));

describe('sliChart', () => {
  it('draws a dot per value across the window, higher values higher up, with a summary for screen readers', () => {
    const svg = sliChart({
      metric: 'response_time_p95',
      series: [{ labels: { pod: 'carts-1' }, points: points([400, 500, 450]) }],
      startMs: START,
      endMs: START + 120_000,
    }).value;
    expect(svg).toContain('data-points="3"');
    expect(svg).toContain('role="img"');
    expect(svg).toContain('aria-label="response_time_p95: 3 values over the window, from 400 to 500, last 450"');
    const [a, b, c] = dots(svg);
    expect(a && b && c).toBeTruthy();
    if (!a || !b || !c) return;
    expect(a.cx).toBeLessThan(b.cx);
    expect(b.cx).toBeLessThan(c.cx);
    expect(c.cx).toBe(236); // the window's end is the plot's right edge
    expect(b.cy).toBeLessThan(c.cy); // 500 above 450
    expect(c.cy).toBeLessThan(a.cy); // 450 above 400
    expect(Math.max(a.cy, b.cy, c.cy)).toBeLessThanOrEqual(CHART_HEIGHT);
    expect(svg).not.toContain('style=');
  });

  it('draws the target as a line and keeps it inside the scale', () => {
    const svg = sliChart({
      metric: 'rt',
      series: [{ labels: {}, points: points([400, 410]) }],
      startMs: START,
      endMs: END,
      target: 600,
    }).value;
    const line = /<line\s+class="target"\s+x1="[\d.]+"\s+y1="([\d.]+)"/.exec(svg);
    expect(line?.[1]).toBe('4'); // the top: 600 is the highest number on the chart
    expect(svg).toContain('<title>target 600</title>');
    expect(svg).toContain('; target 600');
  });

  it('shows labels from Prometheus as text', () => {
    const svg = sliChart({
      metric: HOSTILE,
      series: [{ labels: { pod: HOSTILE }, points: points([1]) }],
      startMs: START,
      endMs: END,
    }).value;
    expect(svg).not.toContain('<img');
    expect(svg).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
  });

  it('says so when there is nothing to draw, and a flat line is drawn mid-height', () => {
    expect(sliChart({ metric: 'rt', series: [{ labels: {}, points: [] }], startMs: START, endMs: END }).value).toBe(
      '<span class="sub">Prometheus has no values for this query in the window.</span>',
    );
    const flat = dots(
      sliChart({ metric: 'rt', series: [{ labels: {}, points: points([0, 0]) }], startMs: START, endMs: END }).value,
    );
    expect(flat.map((d) => d.cy)).toEqual([32, 32]);
  });

  it('formats numbers for labels', () => {
    expect([412.5, 0.123456, 1234567, 12345678, 0.0001, 0].map(formatValue)).toEqual([
      '412.5',
      '0.1235',
      '1235000',
      '1.23e+7',
      '1.00e-4',
      '0',
    ]);
  });
});

function evaluated(indicators: number): ProblemEvent {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: { name: 'p', namespace: 'ns', uid: 'u' },
    spec: { project: 'sockshop', stage: 'production', service: 'carts', problemTitle: 't', state: 'OPEN' },
    status: {
      phase: 'Resolved',
      attempts: [
        {
          index: 1,
          action: 'scale',
          value: '+1',
          appliedTime: new Date(START - 5000).toISOString(),
          evaluationStart: new Date(START).toISOString(),
          evaluationTime: new Date(END).toISOString(),
          result: 'pass',
          indicatorResults: Array.from({ length: indicators }, (_, i) => ({
            metric: i === 0 ? 'response_time_p95' : `sli_${i}`,
            value: 412.5,
            status: 'pass' as const,
            score: 1,
            query: `latency{pod="carts-1",sli="${i}"}`,
            passTargets: [{ criteria: '<=600', targetValue: 600, violated: false }],
            warningTargets: [{ criteria: '<=+10%', targetValue: 453.75, violated: true }],
          })),
        },
      ],
    },
  };
}

describe('the SLIs of a problem page', () => {
  const base = {
    project: undefined,
    approvals: [],
    events: [],
    csrf: 't',
    nowMs: 0,
    may: { answer: false, suspend: false },
  };

  it('shows per SLI the resolved query, value, targets, result and the chart', () => {
    const problem = evaluated(1);
    const charts = new Map<string, ChartData>([
      [
        chartKey(1, 'response_time_p95'),
        {
          window: { startMs: START, endMs: END },
          outcome: { ok: true, stepSeconds: 5, series: [{ labels: {}, points: points([400, 420]) }] },
        },
      ],
    ]);
    const page = problemDetail({ ...base, problem, charts }).value;
    expect(page).toContain('<code class="query">latency{pod=&quot;carts-1&quot;,sli=&quot;0&quot;}</code');
    expect(page).toContain('412.5');
    expect(page).toMatch(/pass <code>&lt;=600<\/code>\s*<\/li>/); // the number is the criterion's own
    expect(page).toMatch(/warning <code>&lt;=\+10%<\/code> \(453.8\) <span class="violated">not met<\/span>/);
    expect(page).toContain('<span class="result result-pass">pass</span>');
    expect(page).toContain('data-points="2"');
    expect(page).toContain('class="target"');
  });

  it('still renders when Prometheus cannot be asked, and says why', () => {
    const problem = evaluated(1);
    const down = new Map<string, ChartData>([
      [
        chartKey(1, 'response_time_p95'),
        {
          window: { startMs: START, endMs: END },
          outcome: {
            ok: false,
            message: 'Prometheus at http://127.0.0.1:9 is unreachable: ECONNREFUSED',
          },
        },
      ],
    ]);
    const page = problemDetail({ ...base, problem, charts: down }).value;
    expect(page).toContain('No chart: Prometheus at http://127.0.0.1:9 is unreachable: ECONNREFUSED');
    expect(page).toContain('412.5');
    expect(problemDetail({ ...base, problem }).value).toContain('No Prometheus is configured for the UI.');
  });
});

describe('SliSeriesCache', () => {
  function counting(): { asked: string[]; source: { range: (p: ProblemEvent, q: string) => Promise<RangeOutcome> } } {
    const asked: string[] = [];
    return {
      asked,
      source: {
        range: (_p, q) => {
          asked.push(q);
          return Promise.resolve({ ok: true, stepSeconds: 5, series: [{ labels: {}, points: points([1]) }] });
        },
      },
    };
  }

  it('asks once per query and window while the values are fresh, again after the TTL', async () => {
    let now = 0;
    const { asked, source } = counting();
    const cache = new SliSeriesCache(source, { now: () => now, ttlMs: 1000 });
    const problem = evaluated(2);
    // Concurrent renders of the same page (live updates, several people) share the queries in flight.
    await Promise.all([cache.charts(problem), cache.charts(problem), cache.charts(problem)]);
    expect(asked).toHaveLength(2);
    now = 999;
    const charts = await cache.charts(problem);
    expect(asked).toHaveLength(2);
    expect(charts.get(chartKey(1, 'sli_1'))).toMatchObject({ window: { startMs: START, endMs: END } });
    now = 1000;
    await cache.charts(problem);
    expect(asked).toHaveLength(4);
  });

  it('charts at most MAX_CHARTS SLIs per page, and none for a query cut to fit status', async () => {
    const { asked, source } = counting();
    const cache = new SliSeriesCache(source, { now: () => 0 });
    const problem = evaluated(MAX_CHARTS + 3);
    const first = problem.status?.attempts?.[0]?.indicatorResults?.[0];
    if (first) first.queryTruncated = true;
    const charts = await cache.charts(problem);
    expect(asked).toHaveLength(MAX_CHARTS);
    expect(charts.get(chartKey(1, 'response_time_p95'))).toEqual({
      skipped: 'The query was too long to keep whole: no chart.',
    });
    expect(charts.get(chartKey(1, `sli_${MAX_CHARTS + 2}`))).toEqual({ skipped: 'More SLIs than this page charts.' });
  });

  it("reads the window from the attempt's status", () => {
    const a = { index: 1, action: 'scale', value: '+1' };
    expect(evaluationWindowOf({ ...a, appliedTime: '2026-01-01T00:00:00Z' })).toBeUndefined();
    expect(
      evaluationWindowOf({ ...a, liveTime: '2026-01-01T00:00:00Z', evaluationTime: '2026-01-01T00:01:00Z' }),
    ).toEqual({ startMs: START, endMs: START + 60_000 });
  });
});
