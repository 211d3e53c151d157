import { describe, expect, it } from 'vitest';
import { DEFAULT_COMPARISON } from '../formats/slo.ts';
import type { Slo, SloComparison, SloObjective } from '../formats/slo.ts';
import { evaluateSlo } from './engine.ts';
import type { EvaluationResult, IndicatorResult, IndicatorValue, PreviousEvaluation } from './types.ts';

// Compact builders: an objective is `sli` plus pass/warning as lists of AND-ed criteria lists.
interface Obj {
  sli: string;
  pass?: string[][];
  warning?: string[][];
  weight?: number;
  key?: boolean;
  name?: string;
}

function objective(o: Obj): SloObjective {
  return {
    sli: o.sli,
    displayName: o.name ?? '',
    pass: (o.pass ?? []).map((criteria) => ({ criteria })),
    warning: (o.warning ?? []).map((criteria) => ({ criteria })),
    weight: o.weight ?? 1,
    keySli: o.key ?? false,
  };
}

function slo(
  objectives: Obj[],
  options: { pass?: number; warning?: number | undefined; comparison?: Partial<SloComparison> } = {},
): Slo {
  return {
    specVersion: '1.0',
    filter: {},
    comparison: { ...DEFAULT_COMPARISON, ...options.comparison },
    objectives: objectives.map(objective),
    totalScore: { pass: options.pass ?? 90, warning: 'warning' in options ? options.warning : 75 },
    warnings: [],
  };
}

const v = (metric: string, value: number): IndicatorValue => ({ metric, value, success: true });
const failed = (metric: string, message: string): IndicatorValue => ({ metric, value: 0, success: false, message });
const prev = (values: Record<string, number | null>, result?: string): PreviousEvaluation => ({
  ...(result === undefined ? {} : { result }),
  indicatorResults: Object.entries(values).map(([metric, value]) => ({
    metric,
    value: value ?? 0,
    success: value !== null,
  })),
});

function only(result: EvaluationResult): IndicatorResult {
  expect(result.indicatorResults).toHaveLength(1);
  return result.indicatorResults[0] as IndicatorResult;
}

interface Case {
  name: string;
  slo: Slo;
  indicators: IndicatorValue[];
  previous?: PreviousEvaluation[];
  result: string;
  score: number;
  /** Status of each objective, in order. */
  statuses: string[];
  comparedValue?: number;
  message?: RegExp;
}

const rt = (pass: string[][], warning?: string[][], extra: Partial<Obj> = {}): Obj => ({
  sli: 'rt',
  pass,
  ...(warning ? { warning } : {}),
  ...extra,
});

// One row per rule of keptn-semantics.md §3.2–3.7 (and the edge cases it lists).
const cases: Case[] = [
  {
    name: 'absolute threshold met → pass, 100',
    slo: slo([rt([['<600']])]),
    indicators: [v('rt', 500)],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
  },
  {
    name: 'absolute threshold missed, no warning → fail, 0',
    slo: slo([rt([['<600']])]),
    indicators: [v('rt', 600)],
    result: 'fail',
    score: 0,
    statuses: ['fail'],
  },
  {
    name: 'warning criteria met → warning, half the weight',
    slo: slo([rt([['<600']], [['<=800']])], { pass: 90, warning: 50 }),
    indicators: [v('rt', 700)],
    result: 'warning',
    score: 50,
    statuses: ['warning'],
  },
  {
    name: 'warning criteria missed → fail',
    slo: slo([rt([['<600']], [['<=800']])]),
    indicators: [v('rt', 801)],
    result: 'fail',
    score: 0,
    statuses: ['fail'],
  },
  {
    name: 'AND within one criteria list: one violated → not pass',
    slo: slo([rt([['<600', '>100']])]),
    indicators: [v('rt', 50)],
    result: 'fail',
    score: 0,
    statuses: ['fail'],
  },
  {
    name: 'OR across criteria lists: one list met → pass',
    slo: slo([rt([['<100'], ['>500']])]),
    indicators: [v('rt', 600)],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
  },
  {
    name: 'OR across warning lists',
    slo: slo([rt([['<100']], [['<0'], ['<700']])], { warning: 50 }),
    indicators: [v('rt', 600)],
    result: 'warning',
    score: 50,
    statuses: ['warning'],
  },
  {
    name: '= is exact equality',
    slo: slo([{ sli: 'errors', pass: [['=0']] }]),
    indicators: [v('errors', 0.0001)],
    result: 'fail',
    score: 0,
    statuses: ['fail'],
  },
  {
    name: 'boundary: <= includes the threshold',
    slo: slo([rt([['<=600']])]),
    indicators: [v('rt', 600)],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
  },
  {
    name: 'relative +10% against avg of history: within → pass',
    slo: slo([rt([['<=+10%']])]),
    indicators: [v('rt', 110)],
    previous: [prev({ rt: 100 })],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
    comparedValue: 100,
  },
  {
    name: 'relative +10% against history: beyond → fail',
    slo: slo([rt([['<=+10%']])]),
    indicators: [v('rt', 110.5)],
    previous: [prev({ rt: 100 })],
    result: 'fail',
    score: 0,
    statuses: ['fail'],
    comparedValue: 100,
  },
  {
    name: 'relative % without sign means increase',
    slo: slo([rt([['<=10%']])]),
    indicators: [v('rt', 111)],
    previous: [prev({ rt: 100 })],
    result: 'fail',
    score: 0,
    statuses: ['fail'],
  },
  {
    name: 'relative -5% decrease (throughput must not drop more than 5%)',
    slo: slo([{ sli: 'tp', pass: [['>=-5%']] }]),
    indicators: [v('tp', 94)],
    previous: [prev({ tp: 100 })],
    result: 'fail',
    score: 0,
    statuses: ['fail'],
  },
  {
    name: 'signed absolute delta: <=+10 is previous + 10',
    slo: slo([rt([['<=+10']])]),
    indicators: [v('rt', 210)],
    previous: [prev({ rt: 200 })],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
  },
  {
    name: 'signed delta without %: <-5 is previous - 5, never a negative threshold',
    slo: slo([rt([['<-5']])]),
    indicators: [v('rt', 94)],
    previous: [prev({ rt: 100 })],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
  },
  {
    name: 'no history: relative criteria are skipped (satisfied), compared value 0',
    slo: slo([rt([['<=+10%', '<=+1']])]),
    indicators: [v('rt', 1e9)],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
    comparedValue: 0,
  },
  {
    name: 'history with only failed values counts as no history (keptn#1263)',
    slo: slo([rt([['<=+10%']])]),
    indicators: [v('rt', 1e9)],
    previous: [prev({ rt: null })],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
    comparedValue: 0,
  },
  {
    name: 'no history does not skip absolute criteria',
    slo: slo([rt([['<=+10%', '<600']])]),
    indicators: [v('rt', 700)],
    result: 'fail',
    score: 0,
    statuses: ['fail'],
  },
  {
    name: 'spec example: pass [<=+10%, <600], warning [<=800], previous 5 → 6 is a warning, not a fail',
    slo: slo([rt([['<=+10%', '<600']], [['<=800']])], { warning: 50 }),
    indicators: [v('rt', 6)],
    previous: [prev({ rt: 5 })],
    result: 'warning',
    score: 50,
    statuses: ['warning'],
  },
  {
    name: 'unknown aggregate function compares against 0, not skipped',
    slo: slo([rt([['<=+10%']])], { comparison: { aggregateFunction: 'max' } }),
    indicators: [v('rt', 1)],
    previous: [prev({ rt: 100 })],
    result: 'fail',
    score: 0,
    statuses: ['fail'],
    comparedValue: 0,
  },
  {
    name: 'p90 over several results',
    slo: slo([rt([['<=+0%']])], {
      comparison: { compareWith: 'several_results', numberOfComparisonResults: 11, aggregateFunction: 'p90' },
    }),
    indicators: [v('rt', 9.8)],
    previous: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((x) => prev({ rt: x })),
    result: 'pass',
    score: 100,
    statuses: ['pass'],
    comparedValue: 9.8,
  },
  {
    name: 'single_result uses only the newest earlier evaluation',
    slo: slo([rt([['<=+0%']])], { comparison: { compareWith: 'single_result', numberOfComparisonResults: 5 } }),
    indicators: [v('rt', 100)],
    previous: [prev({ rt: 100 }), prev({ rt: 10 })],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
    comparedValue: 100,
  },
  {
    name: 'several_results averages the N newest',
    slo: slo([rt([['<=+0%']])], { comparison: { compareWith: 'several_results', numberOfComparisonResults: 2 } }),
    indicators: [v('rt', 150)],
    previous: [prev({ rt: 100 }), prev({ rt: 200 }), prev({ rt: 9000 })],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
    comparedValue: 150,
  },
  {
    name: 'unknown compare_with uses the 3 newest',
    slo: slo([rt([['<=+0%']])], { comparison: { compareWith: '' } }),
    indicators: [v('rt', 200)],
    previous: [prev({ rt: 100 }), prev({ rt: 200 }), prev({ rt: 300 }), prev({ rt: 9000 })],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
    comparedValue: 200,
  },
  {
    name: 'include_result_with_score pass: failed evaluations are not compared with',
    slo: slo([rt([['<=+0%']])], { comparison: { includeResultWithScore: 'pass' } }),
    indicators: [v('rt', 100)],
    previous: [prev({ rt: 1000 }, 'fail'), prev({ rt: 900 }, 'warning'), prev({ rt: 100 }, 'pass')],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
    comparedValue: 100,
  },
  {
    name: 'include_result_with_score pass_or_warn keeps warnings',
    slo: slo([rt([['<=+0%']])], { comparison: { includeResultWithScore: 'pass_or_warn' } }),
    indicators: [v('rt', 900)],
    previous: [prev({ rt: 1000 }, 'fail'), prev({ rt: 900 }, 'warning'), prev({ rt: 100 }, 'pass')],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
    comparedValue: 900,
  },
  {
    name: 'include_result_with_score all keeps failed evaluations',
    slo: slo([rt([['<=+0%']])], { comparison: { includeResultWithScore: 'all' } }),
    indicators: [v('rt', 900)],
    previous: [prev({ rt: 1000 }, 'fail')],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
    comparedValue: 1000,
  },
  {
    name: 'include filter with no matching history: relative criteria skipped',
    slo: slo([rt([['<=+0%']])], { comparison: { includeResultWithScore: 'pass' } }),
    indicators: [v('rt', 5000)],
    previous: [prev({ rt: 1 }, 'fail')],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
    comparedValue: 0,
  },
  {
    name: 'an earlier evaluation without values still takes its place in the limit',
    slo: slo([rt([['<=+0%']])]),
    indicators: [v('rt', 5000)],
    previous: [prev({}), prev({ rt: 1 })],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
    comparedValue: 0,
  },
  {
    name: 'informational objective (no pass): info, not counted, warning ignored',
    slo: slo([rt([['<600']]), { sli: 'cpu', warning: [['<1']] }]),
    indicators: [v('rt', 1), v('cpu', 99)],
    result: 'pass',
    score: 100,
    statuses: ['pass', 'info'],
  },
  {
    name: 'only informational objectives → pass, 100',
    slo: slo([{ sli: 'cpu' }, { sli: 'mem' }]),
    indicators: [v('cpu', 1), v('mem', 2)],
    result: 'pass',
    score: 100,
    statuses: ['info', 'info'],
  },
  {
    name: 'missing value → objective fails with "no value received from SLI provider"',
    slo: slo([rt([['<600']]), { sli: 'tp', pass: [['>0']] }], { warning: 40 }),
    indicators: [v('tp', 5)],
    result: 'warning',
    score: 50,
    statuses: ['fail', 'pass'],
  },
  {
    name: 'failed value (success false) → objective fails',
    slo: slo([rt([['<600']]), { sli: 'tp', pass: [['>0']] }], { warning: 40 }),
    indicators: [failed('rt', 'query did not return any values'), v('tp', 5)],
    result: 'warning',
    score: 50,
    statuses: ['fail', 'pass'],
  },
  {
    name: 'key SLI failure fails the evaluation whatever the score',
    slo: slo([rt([['<600']], undefined, { key: true, weight: 1 }), { sli: 'tp', pass: [['>0']], weight: 99 }]),
    indicators: [v('rt', 700), v('tp', 5)],
    result: 'fail',
    score: 99,
    statuses: ['fail', 'pass'],
    message: /key SLI objective 'rt' failed/,
  },
  {
    name: 'Keptn test fact: (1+0)/2 with the key SLI failed → fail 50',
    slo: slo([
      { sli: 'a', pass: [['<1']] },
      { sli: 'b', pass: [['<1']], key: true },
    ]),
    indicators: [v('a', 0), v('b', 5)],
    result: 'fail',
    score: 50,
    statuses: ['pass', 'fail'],
  },
  {
    name: 'a key SLI with no value is a key failure',
    slo: slo([rt([['<600']], undefined, { key: true }), { sli: 'tp', pass: [['>0']], weight: 99 }]),
    indicators: [v('tp', 5)],
    result: 'fail',
    score: 99,
    statuses: ['fail', 'pass'],
    message: /no value received/,
  },
  {
    name: 'a key SLI in warning is not a key failure',
    slo: slo([rt([['<600']], [['<800']], { key: true }), { sli: 'tp', pass: [['>0']], weight: 9 }]),
    indicators: [v('rt', 700), v('tp', 5)],
    result: 'pass',
    score: 95,
    statuses: ['warning', 'pass'],
  },
  {
    name: 'weights: pass = full weight, fail = 0, score not rounded',
    slo: slo([
      { sli: 'a', pass: [['<1']], weight: 2 },
      { sli: 'b', pass: [['<1']] },
    ]),
    indicators: [v('a', 0), v('b', 5)],
    result: 'fail',
    score: 200 / 3,
    statuses: ['pass', 'fail'],
  },
  {
    name: 'thresholds use >=: exactly 90 passes',
    slo: slo([
      { sli: 'a', pass: [['<1']], weight: 9 },
      { sli: 'b', pass: [['<1']] },
    ]),
    indicators: [v('a', 0), v('b', 5)],
    result: 'pass',
    score: 90,
    statuses: ['pass', 'fail'],
  },
  {
    name: 'exactly the warning threshold → warning',
    slo: slo([
      { sli: 'a', pass: [['<1']], weight: 3 },
      { sli: 'b', pass: [['<1']] },
    ]),
    indicators: [v('a', 0), v('b', 5)],
    result: 'warning',
    score: 75,
    statuses: ['pass', 'fail'],
  },
  {
    name: 'just below the warning threshold → fail',
    slo: slo(
      [
        { sli: 'a', pass: [['<1']], weight: 2 },
        { sli: 'b', pass: [['<1']] },
        { sli: 'c', pass: [['<1']] },
      ],
      { warning: 67 },
    ),
    indicators: [v('a', 0), v('b', 5), v('c', 5)],
    result: 'fail',
    score: 50,
    statuses: ['pass', 'fail', 'fail'],
    message: /below the warning target of 67/,
  },
  {
    name: 'no warning threshold: below pass → fail',
    slo: slo(
      [
        { sli: 'a', pass: [['<1']], weight: 8 },
        { sli: 'b', pass: [['<1']] },
      ],
      { warning: undefined },
    ),
    indicators: [v('a', 0), v('b', 5)],
    result: 'fail',
    score: 800 / 9,
    statuses: ['pass', 'fail'],
    message: /below the pass target of 90/,
  },
  {
    name: 'warning counts half: pass + warning = 75%',
    slo: slo([
      { sli: 'a', pass: [['<1']] },
      { sli: 'b', pass: [['<1']], warning: [['<10']] },
    ]),
    indicators: [v('a', 0), v('b', 5)],
    result: 'warning',
    score: 75,
    statuses: ['pass', 'warning'],
  },
  {
    name: 'two objectives on one SLI: the second gets no value',
    slo: slo([rt([['<600']]), rt([['<700']])], { warning: 40 }),
    indicators: [v('rt', 1)],
    result: 'warning',
    score: 50,
    statuses: ['pass', 'fail'],
  },
  {
    name: 'every objective without a value → fail, even when only informational',
    slo: slo([{ sli: 'cpu' }]),
    indicators: [failed('cpu', 'query did not return any values')],
    result: 'fail',
    score: 100,
    statuses: ['info'],
    message: /no SLI value could be retrieved \(cpu: query did not return any values\)/,
  },
  {
    name: 'no objectives → fail, 0',
    slo: slo([]),
    indicators: [v('rt', 1)],
    result: 'fail',
    score: 0,
    statuses: [],
    message: /no SLO objective was provided/,
  },
  {
    name: 'an unparsable pass criterion aborts the evaluation',
    slo: slo([rt([['<<600']], undefined, { name: 'Response time' })]),
    indicators: [v('rt', 1)],
    result: 'fail',
    score: 0,
    statuses: [],
    message: /^error with Response time: could not parse/,
  },
  {
    name: 'an unparsable warning criterion only means "not warning"',
    slo: slo([rt([['<600']], [['=>5']])]),
    indicators: [v('rt', 700)],
    result: 'fail',
    score: 0,
    statuses: ['fail'],
  },
  {
    name: 'an empty criteria list is always satisfied',
    slo: slo([rt([[]])]),
    indicators: [v('rt', 1e9)],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
  },
  {
    name: 'leftover SLI values are reported',
    slo: slo([rt([['<600']])]),
    indicators: [v('rt', 1), v('extra', 2)],
    result: 'pass',
    score: 100,
    statuses: ['pass'],
    message: /no objective uses: extra/,
  },
];

describe('evaluateSlo (table, keptn-semantics.md §3)', () => {
  it.each(cases)('$name', (c) => {
    const result = evaluateSlo({ slo: c.slo, indicators: c.indicators, previous: c.previous ?? [] });
    expect(result.result).toBe(c.result);
    expect(result.score).toBeCloseTo(c.score, 10);
    expect(result.indicatorResults.map((r) => r.status)).toEqual(c.statuses);
    if (c.comparedValue !== undefined)
      expect(result.indicatorResults[0]?.comparedValue).toBeCloseTo(c.comparedValue, 10);
    if (c.message) expect(result.message).toMatch(c.message);
  });
});

describe('evaluateSlo explainability', () => {
  it('reports every target in file order with the number it was checked against', () => {
    const result = evaluateSlo({
      slo: slo([rt([['<=+10%', '<600'], ['<=+5']], [['<=800']])]),
      indicators: [
        { metric: 'rt', value: 650, success: true, query: 'histogram_quantile(0.95, x{job="carts"}[300s])' },
      ],
      previous: [prev({ rt: 500 }), prev({ rt: 700 })],
    });
    const r = only(result);
    expect(r.value).toBe(650);
    expect(r.query).toBe('histogram_quantile(0.95, x{job="carts"}[300s])');
    expect(r.comparedValue).toBe(500);
    expect(r.comparedValues).toEqual([500]);
    expect(r.passTargets).toEqual([
      { criteria: '<=+10%', targetValue: 550, violated: true },
      { criteria: '<600', targetValue: 600, violated: true },
      { criteria: '<=+5', targetValue: 505, violated: true },
    ]);
    expect(r.warningTargets).toEqual([{ criteria: '<=800', targetValue: 800, violated: false }]);
    expect(r.status).toBe('warning');
    expect(r.score).toBe(0.5);
    expect(result.comparedEvaluations).toBe(1);
  });

  it('shows a missing value against the bare threshold or aggregate, all violated', () => {
    const r = only(
      evaluateSlo({ slo: slo([rt([['<=+10%', '<600']], [['<=800']])]), indicators: [], previous: [prev({ rt: 200 })] }),
    );
    expect(r).toMatchObject({
      value: null,
      success: false,
      status: 'fail',
      score: 0,
      message: 'no value received from SLI provider',
      comparedValue: 200,
      passTargets: [
        { criteria: '<=+10%', targetValue: 200, violated: true },
        { criteria: '<600', targetValue: 600, violated: true },
      ],
      warningTargets: [{ criteria: '<=800', targetValue: 800, violated: true }],
    });
  });

  it('reports the compared value of an objective with only absolute criteria', () => {
    const r = only(evaluateSlo({ slo: slo([rt([['<600']])]), indicators: [v('rt', 1)], previous: [prev({ rt: 42 })] }));
    expect(r.comparedValue).toBe(42);
    expect(r.passTargets).toEqual([{ criteria: '<600', targetValue: 600, violated: false }]);
  });

  it('keeps the provider message of a failed value and counts weights into the maximum', () => {
    const result = evaluateSlo({
      slo: slo([{ sli: 'a', pass: [['<1']], weight: 3 }, { sli: 'b' }, { sli: 'c', pass: [['<1']] }]),
      indicators: [v('a', 0), failed('c', 'query did return multiple values: up')],
    });
    expect(result.maximumPoints).toBe(4);
    expect(result.achievedPoints).toBe(3);
    expect(result.indicatorResults[2]?.message).toBe('query did return multiple values: up');
    expect(result.indicatorResults[1]?.message).toBe('no value received from SLI provider');
  });
});
