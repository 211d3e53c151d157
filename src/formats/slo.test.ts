import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from './yaml.ts';
import { parseSloFile } from './slo.ts';

// The slo.yaml of Keptn's full-tour tutorial (seeds/003), verbatim.
const TUTORIAL_SLO = `---
spec_version: "0.1.1"
comparison:
  aggregate_function: "avg"
  compare_with: "single_result"
  include_result_with_score: "pass"
  number_of_comparison_results: 1
filter:
objectives:
  - sli: "response_time_p95"
    key_sli: false
    pass:             # pass if (relative change <= 10% AND absolute value is < 600ms)
      - criteria:
          - "<=+10%"  # relative values require a prefixed sign (plus or minus)
          - "<600"    # absolute values only require a logical operator
    warning:          # if the response time is below 800ms, the result should be a warning
      - criteria:
          - "<=800"
    weight: 1
total_score:
  pass: "90%"
  warning: "75%"
`;

function errors(text: string): string[] {
  const result = parseSloFile('slo.yaml', text);
  return result.ok ? [] : result.diagnostics.map(formatDiagnostic);
}

function parse(text: string) {
  const result = parseSloFile('slo.yaml', text);
  if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
  return result.slo;
}

describe('parseSloFile', () => {
  it('parses the Keptn tutorial slo.yaml', () => {
    const slo = parse(TUTORIAL_SLO);
    expect(slo.specVersion).toBe('0.1.1');
    expect(slo.filter).toEqual({});
    expect(slo.comparison).toEqual({
      compareWith: 'single_result',
      includeResultWithScore: 'pass',
      numberOfComparisonResults: 1,
      aggregateFunction: 'avg',
    });
    expect(slo.objectives).toEqual([
      {
        sli: 'response_time_p95',
        displayName: '',
        keySli: false,
        weight: 1,
        pass: [{ criteria: ['<=+10%', '<600'] }],
        warning: [{ criteria: ['<=800'] }],
      },
    ]);
    expect(slo.totalScore).toEqual({ pass: 90, warning: 75 });
    expect(slo.warnings).toEqual([]);
  });

  it('applies Keptn defaults: no comparison block means single_result/all/1/avg, weight 0 means 1', () => {
    const slo = parse('objectives:\n  - sli: a\n    weight: 0\ntotal_score:\n  pass: "90"\n');
    expect(slo.comparison).toEqual({
      compareWith: 'single_result',
      includeResultWithScore: 'all',
      numberOfComparisonResults: 1,
      aggregateFunction: 'avg',
    });
    expect(slo.objectives[0]?.weight).toBe(1);
    expect(slo.objectives[0]?.pass).toEqual([]);
    expect(slo.totalScore).toEqual({ pass: 90, warning: undefined });
  });

  it('applies Keptn defaults of a present but partial comparison block: 3 results, all, avg, compare_with kept empty', () => {
    const slo = parse('comparison:\n  compare_with: ""\nobjectives:\n  - sli: a\ntotal_score: {pass: 90%}\n');
    expect(slo.comparison).toEqual({
      compareWith: '',
      includeResultWithScore: 'all',
      numberOfComparisonResults: 3,
      aggregateFunction: 'avg',
    });
  });

  it('keeps a numeric spec_version as written and stringifies filter values', () => {
    const slo = parse(
      'spec_version: 1.0\nfilter:\n  handler: "ItemsController"\n  id: 42\nobjectives:\n  - sli: a\ntotal_score: {pass: 90}\n',
    );
    expect(slo.specVersion).toBe('1.0');
    expect(slo.filter).toEqual({ handler: 'ItemsController', id: '42' });
  });

  it('drops null objectives as Keptn did', () => {
    expect(parse('objectives:\n  -\n  - sli: a\ntotal_score: {pass: 90}\n').objectives.map((o) => o.sli)).toEqual([
      'a',
    ]);
  });

  it('locates an unparsable criterion at its line and column', () => {
    const text =
      'objectives:\n  - sli: rt\n    pass:\n      - criteria:\n          - "<<600"\ntotal_score: {pass: 90}\n';
    expect(errors(text)).toEqual(['slo.yaml:5:13: could not parse criteria target value in "<<600"']);
  });

  it('rejects invalid warning criteria and criteria without an operator', () => {
    const text =
      'objectives:\n  - sli: rt\n    pass:\n      - criteria: ["600"]\n    warning:\n      - criteria: ["=>5"]\ntotal_score: {pass: 90}\n';
    const out = errors(text);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^slo\.yaml:4:20: invalid criteria string "600"/);
    expect(out[1]).toMatch(/^slo\.yaml:6:20: could not parse criteria target value in "=>5"/);
  });

  it('rejects a criterion that is not a string', () => {
    expect(errors('objectives:\n  - sli: rt\n    pass:\n      - criteria: [600]\ntotal_score: {pass: 90}\n')).toEqual([
      'slo.yaml:4:20: a criterion must be a string like "<600" or "<=+10%"',
    ]);
  });

  it('requires total_score.pass (Keptn: "no target score defined")', () => {
    expect(errors('objectives:\n  - sli: a\n')).toEqual([
      'slo.yaml:1:1: total_score is missing: add total_score.pass (e.g. "90%")',
    ]);
    expect(errors('objectives:\n  - sli: a\ntotal_score:\n  warning: 75%\n')).toEqual([
      'slo.yaml:4:3: total_score.pass is missing: no target score defined',
    ]);
    expect(errors('objectives:\n  - sli: a\ntotal_score:\n  pass: ninety\n')).toEqual([
      'slo.yaml:4:9: "ninety" is not a percentage like "90%"',
    ]);
  });

  it('rejects a fractional or negative weight, a non-boolean key_sli and an objective without sli', () => {
    const out = errors(
      'objectives:\n  - sli: a\n    weight: 1.5\n  - sli: b\n    key_sli: "yes"\n  - weight: -1\ntotal_score: {pass: 90}\n',
    );
    expect(out).toEqual([
      'slo.yaml:3:13: weight must be a non-negative integer (0 or absent means 1)',
      'slo.yaml:5:14: key_sli must be true or false',
      'slo.yaml:6:5: objective has no "sli": name the indicator it scores',
      'slo.yaml:6:13: weight must be a non-negative integer (0 or absent means 1)',
    ]);
  });

  it('rejects a file that is not a mapping and reports YAML syntax errors located', () => {
    expect(errors('invalid')).toEqual([
      'slo.yaml:1:1: not an SLO file: expected a mapping with objectives and total_score',
    ]);
    expect(errors('objectives: [\n')[0]).toMatch(/^slo\.yaml:\d+:\d+: /);
  });

  it('keeps what Keptn accepted but warns: unknown aggregate function, compare_with, keys, empty objectives', () => {
    const slo = parse(
      'comparison:\n  aggregate_function: max\n  compare_with: last\nobjective:\n  - sli: a\ntotal_score: {pass: 90}\n',
    );
    expect(slo.comparison.aggregateFunction).toBe('max');
    expect(slo.objectives).toEqual([]);
    expect(slo.warnings.map(formatDiagnostic)).toEqual([
      'slo.yaml:4:1: unknown key "objective" is ignored (expected one of: spec_version, filter, comparison, objectives, total_score)',
      'slo.yaml:3:17: unknown compare_with "last": Keptn compares with the last 3 results (expected single_result or several_results)',
      'slo.yaml:2:23: unknown aggregate_function "max": Keptn compares relative criteria against 0 (expected avg, p50, p90, p95)',
      'slo.yaml:1:1: no objectives: every evaluation of this SLO fails ("no SLO objective was provided")',
    ]);
  });
});
