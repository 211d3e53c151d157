import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../formats/yaml.ts';
import { parseIndicatorsDocument, parsePreviousDocument } from './inputs.ts';

describe('parseIndicatorsDocument', () => {
  it.each([
    ['a plain list', '[{"metric": "rt", "value": 5, "success": true}]'],
    ["Keptn's indicatorValues", '{"indicatorValues": [{"metric": "rt", "value": 5, "success": true}]}'],
    ['a get-sli.finished data object', '{"get-sli": {"indicatorValues": [{"metric": "rt", "value": 5}]}}'],
  ])('reads %s', (_name, text) => {
    expect(parseIndicatorsDocument('i.json', text)).toEqual({
      ok: true,
      value: [{ metric: 'rt', value: 5, success: true }],
    });
  });

  it('keeps the message and query of a failed value, which needs no value', () => {
    expect(
      parseIndicatorsDocument(
        'i.yaml',
        '- metric: rt\n  success: false\n  message: query did not return any values\n  query: rt{job="carts"}\n',
      ),
    ).toEqual({
      ok: true,
      value: [
        {
          metric: 'rt',
          value: 0,
          success: false,
          message: 'query did not return any values',
          query: 'rt{job="carts"}',
        },
      ],
    });
  });

  it('locates a successful value without a number and a missing metric', () => {
    const result = parseIndicatorsDocument('i.yaml', '- metric: rt\n  success: true\n- value: 3\n');
    expect(result.ok ? [] : result.diagnostics.map(formatDiagnostic)).toEqual([
      'i.yaml:1:3: "rt" is marked successful but has no numeric value',
      'i.yaml:3:3: metric must be a non-empty string',
    ]);
  });
});

describe('parsePreviousDocument', () => {
  it('reads a bare list as an evaluation without a result (always counted)', () => {
    expect(
      parsePreviousDocument('p.json', '[{"metric": "rt", "value": 5}, {"metric": "er", "value": 0, "success": false}]'),
    ).toEqual({
      ok: true,
      value: {
        indicatorResults: [
          { metric: 'rt', value: 5, success: true },
          { metric: 'er', value: 0, success: false },
        ],
      },
    });
  });

  it('reads `rebound evaluate --json` output, value null meaning no value', () => {
    const text = JSON.stringify({
      result: 'warning',
      score: 75,
      indicatorResults: [
        { metric: 'rt', value: null, status: 'fail' },
        { metric: 'tp', value: 3, status: 'info' },
      ],
    });
    expect(parsePreviousDocument('p.json', text)).toEqual({
      ok: true,
      value: {
        result: 'warning',
        indicatorResults: [
          { metric: 'rt', value: 0, success: false },
          { metric: 'tp', value: 3, success: true },
        ],
      },
    });
  });

  it("reads Keptn's evaluation.finished event with nested SLI values", () => {
    const text = JSON.stringify({
      type: 'sh.keptn.event.evaluation.finished',
      data: {
        result: 'pass',
        evaluation: {
          result: 'pass',
          score: 100,
          indicatorResults: [{ score: 1, status: 'pass', value: { metric: 'rt', value: 412.5, success: true } }],
        },
      },
    });
    expect(parsePreviousDocument('p.json', text)).toEqual({
      ok: true,
      value: { result: 'pass', indicatorResults: [{ metric: 'rt', value: 412.5, success: true }] },
    });
  });

  it('locates a non-numeric value', () => {
    const result = parsePreviousDocument(
      'p.yaml',
      'result: pass\nindicatorResults:\n  - metric: rt\n    value: fast\n',
    );
    expect(result.ok ? [] : result.diagnostics.map(formatDiagnostic)).toEqual([
      'p.yaml:4:12: the value of "rt" must be a finite number',
    ]);
  });
});
