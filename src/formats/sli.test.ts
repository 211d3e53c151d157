import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from './yaml.ts';
import { parseSliFile, sliFilePaths, sliLocationOf } from './sli.ts';

function errors(text: string): string[] {
  const result = parseSliFile('sli.yaml', text);
  return result.ok ? [] : result.diagnostics.map(formatDiagnostic);
}

describe('parseSliFile', () => {
  it('parses indicators in file order', () => {
    const result = parseSliFile(
      'sli.yaml',
      'spec_version: "1.0"\nindicators:\n  throughput: sum(rate(http_requests_total{job="$SERVICE"}[$DURATION_SECONDS]))\n  error_rate: "0"\n',
    );
    expect(result).toEqual({
      ok: true,
      sli: {
        specVersion: '1.0',
        indicators: {
          throughput: 'sum(rate(http_requests_total{job="$SERVICE"}[$DURATION_SECONDS]))',
          error_rate: '0',
        },
        warnings: [],
      },
    });
  });

  it('refuses a file without indicators as Keptn did', () => {
    expect(errors('spec_version: "1.0"\n')).toEqual(['sli.yaml:1:1: missing required field: indicators']);
    expect(errors('indicators: {}\n')).toEqual(['sli.yaml:1:13: missing required field: indicators']);
  });

  it('locates a query that is not a string', () => {
    expect(errors('indicators:\n  a: up\n  b:\n    nested: x\n  c: 5\n')).toEqual([
      'sli.yaml:4:5: the query of indicator "b" must be a non-empty string',
      'sli.yaml:5:6: the query of indicator "c" must be a non-empty string',
    ]);
  });

  it('warns about unknown top-level keys', () => {
    const result = parseSliFile('sli.yaml', 'indicator:\n  a: up\nindicators:\n  a: up\n');
    expect(result.ok && result.sli.warnings.map(formatDiagnostic)).toEqual([
      'sli.yaml:1:1: unknown key "indicator" is ignored (expected one of: spec_version, indicators)',
    ]);
  });
});

describe('SLI file locations', () => {
  it("looks beside slo.yaml first, then where Keptn's Prometheus and Dynatrace providers kept theirs", () => {
    expect(sliFilePaths('carts')).toEqual(['carts/sli.yaml', 'carts/prometheus/sli.yaml', 'carts/dynatrace/sli.yaml']);
  });

  it.each([
    ['carts/sli.yaml', { dir: 'carts', rank: 0 }],
    ['carts/prometheus/sli.yaml', { dir: 'carts', rank: 1 }],
    ['carts/dynatrace/sli.yaml', { dir: 'carts', rank: 2 }],
    ['prometheus/sli.yaml', { dir: '.', rank: 1 }],
    ['sli.yaml', { dir: '.', rank: 0 }],
    ['carts/other/sli.yaml', { dir: 'carts/other', rank: 0 }],
    ['carts/slo.yaml', undefined],
    ['carts/xprometheus/sli.yaml', { dir: 'carts/xprometheus', rank: 0 }],
  ])('%s belongs to %j', (path, expected) => {
    expect(sliLocationOf(path)).toEqual(expected);
  });
});
