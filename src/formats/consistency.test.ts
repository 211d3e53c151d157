import { describe, expect, it } from 'vitest';
import { checkServiceFiles } from './consistency.ts';
import { formatDiagnostic } from './yaml.ts';

const slo = {
  path: 'carts/slo.yaml',
  text: `objectives:
  - sli: response_time_p95
    pass:
      - criteria: ["<600"]
  - sli: error_rate
    pass:
      - criteria: ["<=1"]
total_score:
  pass: "90%"
`,
};
const sli = { path: 'carts/sli.yaml', text: 'indicators:\n  response_time_p95: up\n' };
const remediation = {
  path: 'carts/remediation.yaml',
  text: `remediations:
- name: slow
  actions:
  - action: scaling
    value: +1
  - action: featuretoggle
    value: EnableItemCache:on
  - action: featuretoggle
    value: EnablePromotion:off
`,
};
const values = { path: 'carts/values.yaml', text: 'replicaCount: 1\nfeatureFlags:\n  EnablePromotion: true\n' };

function warnings(files: Parameters<typeof checkServiceFiles>[0]): string[] {
  return checkServiceFiles(files).map(formatDiagnostic);
}

describe('checkServiceFiles', () => {
  it('warns about objectives whose indicator has no query', () => {
    expect(warnings({ slo, sli })).toEqual([
      'carts/slo.yaml:5:10: indicator "error_rate" has no query in carts/sli.yaml: this objective will fail with "no value received"',
    ]);
  });

  it('warns when an slo.yaml has no sli.yaml beside it', () => {
    expect(warnings({ slo })).toEqual([
      'carts/slo.yaml:1:1: no sli.yaml beside this slo.yaml (nor prometheus/sli.yaml or dynatrace/sli.yaml under its directory): its indicators have no queries, unless a Remediation sets evaluation.sliFile',
    ]);
  });

  it('warns about toggled flags values.yaml does not have', () => {
    expect(warnings({ remediation, values })).toEqual([
      'carts/remediation.yaml:7:12: feature flag "EnableItemCache" is not under featureFlags in carts/values.yaml: Rebound will add it, check that the chart reads it',
    ]);
  });

  it('says nothing when the files fit together, or when one does not parse', () => {
    expect(
      warnings({
        slo,
        sli: { ...sli, text: sli.text + '  error_rate: up\n' },
        remediation,
        values: { ...values, text: values.text + '  EnableItemCache: false\n' },
      }),
    ).toEqual([]);
    expect(
      warnings({
        slo: { ...slo, text: 'objectives: [\n' },
        remediation: { ...remediation, text: 'remediations: 1\n' },
        values,
      }),
    ).toEqual([]);
  });
});
