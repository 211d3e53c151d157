// The loop's evaluator hands the SLI provider what the problem's source said about where it happened:
// $LABEL.<name> and $DEPLOYMENT, as Keptn's lighthouse did with the event's labels.
import { describe, expect, it } from 'vitest';
import type { ProblemEvent, Project } from '../../api/index.ts';
import type { SliProvider, SliRequest } from '../../evaluation/provider.ts';
import type { GitStore } from '../../gitstore/store.ts';
import { MAX_STATUS_QUERY, SloEvaluator, statusIndicator } from './slo-evaluator.ts';
import type { IndicatorResult } from '../../evaluation/types.ts';

const SLO =
  'spec_version: "1.0"\nobjectives:\n  - sli: response_time_p95\n    pass:\n      - criteria:\n          - "<600"\ntotal_score:\n  pass: "90%"\n  warning: "75%"\n';
const SLI =
  'spec_version: "1.0"\nindicators:\n  response_time_p95: latency{pod="$LABEL.pod_name",deployment="$DEPLOYMENT"}\n';

const project: Project = {
  apiVersion: 'rebound.dev/v1alpha1',
  kind: 'Project',
  metadata: { name: 'sockshop', namespace: 'team' },
  spec: { git: { url: 'http://127.0.0.1:1/x.git' } },
};

function problem(details?: Record<string, unknown>): ProblemEvent {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: { name: 'p', namespace: 'team' },
    spec: {
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      problemTitle: 'response_time_p95',
      state: 'OPEN',
      ...(details ? { details } : {}),
    },
  };
}

async function requestFor(
  p: ProblemEvent,
  files: Record<string, string> = { 'carts/slo.yaml': SLO, 'carts/sli.yaml': SLI },
): Promise<SliRequest | undefined> {
  // The evaluator reads only the SLO and SLI files from the store.
  const store = {
    readFile: (_branch: string, path: string) =>
      Promise.resolve(files[path] === undefined ? undefined : { text: files[path], commit: 'c'.repeat(40) }),
  };
  let seen: SliRequest | undefined;
  const provider: SliProvider = {
    getIndicators: (request) => {
      seen = request;
      return Promise.resolve(request.indicators.map((metric) => ({ metric, value: 200, success: true })));
    },
  };
  const evaluator = new SloEvaluator({
    stores: { storeFor: () => Promise.resolve(store as unknown as GitStore) },
    providerFor: () => provider,
    findRemediation: () => undefined,
  });
  const outcome = await evaluator.evaluate({
    problem: p,
    project,
    stage: {
      name: 'production',
      branch: 'production',
      namespace: 'sockshop-production',
      remediation: 'automated',
      apply: 'helm',
    },
    window: { start: new Date(0), end: new Date(60_000) },
  });
  expect(outcome.result).toBe('pass');
  return seen;
}

describe('SloEvaluator', () => {
  it('passes the labels and the deployment from the problem to the SLI provider', async () => {
    const request = await requestFor(
      problem({ labels: { pod_name: 'carts-primary-5d9f', severity: 'webhook', count: 3 }, deployment: 'canary' }),
    );
    expect(request?.labels).toEqual({ pod_name: 'carts-primary-5d9f', severity: 'webhook' });
    expect(request?.deployment).toBe('canary');
  });

  it("reads the SLI file where Keptn's providers kept it when there is none beside slo.yaml", async () => {
    const prometheusSli = SLI.replace('latency{', 'prometheus_latency{');
    const fromPrometheus = await requestFor(problem(), {
      'carts/slo.yaml': SLO,
      'carts/prometheus/sli.yaml': prometheusSli,
      'carts/dynatrace/sli.yaml': SLI,
    });
    expect(fromPrometheus?.queries['response_time_p95']).toMatch(/^prometheus_latency\{/);
    const fromDynatrace = await requestFor(problem(), { 'carts/slo.yaml': SLO, 'carts/dynatrace/sli.yaml': SLI });
    expect(fromDynatrace?.queries['response_time_p95']).toMatch(/^latency\{/);
    // Rebound's own place comes first.
    const beside = await requestFor(problem(), {
      'carts/slo.yaml': SLO,
      'carts/sli.yaml': SLI,
      'carts/prometheus/sli.yaml': prometheusSli,
    });
    expect(beside?.queries['response_time_p95']).toMatch(/^latency\{/);
  });

  it('names every place it looked when there is no SLI file', async () => {
    await expect(requestFor(problem(), { 'carts/slo.yaml': SLO })).rejects.toThrow(
      'carts/slo.yaml names indicators but there is no carts/sli.yaml or carts/prometheus/sli.yaml or carts/dynatrace/sli.yaml on branch production',
    );
  });

  it('passes neither when the source said nothing', async () => {
    const request = await requestFor(problem());
    expect(request).not.toHaveProperty('labels');
    expect(request).not.toHaveProperty('deployment');
  });
});

describe('statusIndicator', () => {
  const result = (over: Partial<IndicatorResult>): IndicatorResult => ({
    metric: 'response_time_p95',
    displayName: '',
    value: 412,
    success: true,
    status: 'pass',
    score: 1,
    weight: 1,
    keySli: false,
    comparedValue: 0,
    comparedValues: [],
    passTargets: [{ criteria: '<=600', targetValue: 600, violated: false }],
    warningTargets: [{ criteria: '<=800', targetValue: 800, violated: false }],
    ...over,
  });

  it('keeps the resolved query and every target with the number it was checked against', () => {
    expect(statusIndicator(result({ query: 'latency{pod="carts-1"}[5m]' }))).toEqual({
      metric: 'response_time_p95',
      value: 412,
      status: 'pass',
      score: 1,
      query: 'latency{pod="carts-1"}[5m]',
      passTargets: [{ criteria: '<=600', targetValue: 600, violated: false }],
      warningTargets: [{ criteria: '<=800', targetValue: 800, violated: false }],
    });
  });

  it('cuts a long query to fit status and says so; a failed SLI keeps its message and no value', () => {
    const long = `sum(${'x'.repeat(5000)})`;
    const kept = statusIndicator(
      result({ value: null, success: false, status: 'fail', message: 'query did not return any values', query: long }),
    );
    expect(kept.query).toHaveLength(MAX_STATUS_QUERY);
    expect(kept.query?.endsWith('…')).toBe(true);
    expect(kept.queryTruncated).toBe(true);
    expect(kept).not.toHaveProperty('value');
    expect(kept.message).toBe('query did not return any values');
  });
});
