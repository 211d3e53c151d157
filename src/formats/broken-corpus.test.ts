// The broken-file corpus (test/fixtures/broken/<case>/<Keptn file name>): each case is validated
// and must give exactly these `file:line:column: message` lines, paths relative to the case.
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validatePath } from '../cli/commands/validate-tree.ts';
import { formatDiagnostic } from './yaml.ts';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'broken');

const expected: [string, string[]][] = [
  ['remediation-actions-null', ['remediation.yaml:8:7: missing "actionsOnOpen": list the actions to try, in order']],
  [
    'remediation-alias-bomb',
    ['remediation.yaml:1:1: too many aliases (more than 100): refusing a possible alias-expansion bomb'],
  ],
  ['remediation-custom-tag', ['remediation.yaml:7:20: unsupported tag: tag:yaml.org,2002:js/function']],
  [
    'remediation-duplicate-problem-type',
    [
      'remediation.yaml:10:20: duplicated problemType "Response time degradation": the entry at line 7 already handles it',
    ],
  ],
  ['remediation-duplicated-key', ['remediation.yaml:12:11: duplicated key']],
  ['remediation-empty-actions', ['remediation.yaml:8:22: actionsOnOpen is empty: add at least one action']],
  [
    'remediation-legacy-missing-name',
    ['remediation.yaml:6:3: missing "name": name the problem this entry handles (or "default")'],
  ],
  [
    'remediation-many-errors',
    [
      'remediation.yaml:10:18: scale value "+one" must be N, +N or -N (replicas, e.g. "2" or "+1")',
      'remediation.yaml:13:18: featuretoggle value "EnablePromotion:of" must be Flag:on or Flag:off (e.g. "EnablePromotion:off")',
      'remediation.yaml:19:11: missing "action": one of scale, scaling, featuretoggle',
    ],
  ],
  [
    'remediation-missing-problem-type',
    ['remediation.yaml:12:7: missing "problemType": name the problem this entry handles (or "default")'],
  ],
  [
    'remediation-missing-value',
    ['remediation.yaml:9:11: missing "value": scale needs one (N, +N or -N replicas, e.g. "2" or "+1")'],
  ],
  [
    'remediation-not-a-mapping',
    [
      'remediation.yaml:1:1: not a remediation file: expected apiVersion spec.keptn.sh/0.1.4 or a top-level "remediations" list',
    ],
  ],
  [
    'remediation-scale-decimal',
    ['remediation.yaml:11:18: scaling value "1.5" must be N, +N or -N (replicas, e.g. "2" or "+1")'],
  ],
  [
    'remediation-scale-not-a-number',
    ['remediation.yaml:11:18: scale value "one" must be N, +N or -N (replicas, e.g. "2" or "+1")'],
  ],
  ['remediation-syntax-error', ['remediation.yaml:7:46: Missing closing "quote']],
  [
    'remediation-toggle-bad-state',
    [
      'remediation.yaml:11:18: featuretoggle value "EnablePromotion:disabled" must be Flag:on or Flag:off (e.g. "EnablePromotion:off")',
    ],
  ],
  [
    'remediation-toggle-map-bad-state',
    [
      'remediation.yaml:6:7: toggle-feature value {"EnablePromotion":"disabled"} must map each flag to on, off, true or false (at most 16 flags)',
    ],
  ],
  [
    'remediation-toggle-no-state',
    [
      'remediation.yaml:11:18: featuretoggle value "EnablePromotion" must be Flag:on or Flag:off (e.g. "EnablePromotion:off")',
    ],
  ],
  [
    'remediation-webhook-in-git',
    [
      'remediation.yaml:9:19: webhook actions are allowed only in a Remediation resource, whose spec.webhook.allowedHosts says which hosts may be called',
    ],
  ],
  [
    'remediation-unknown-api-version',
    ['remediation.yaml:1:13: unknown apiVersion "spec.keptn.sh/0.1.3": expected spec.keptn.sh/0.1.4'],
  ],
  ['remediation-unknown-kind', ['remediation.yaml:2:7: unknown kind "Remediations": expected Remediation']],
  [
    'shipyard-bad-stage-name',
    [
      'shipyard.yaml:3:11: stage name "Production" must be a DNS-1123 label: lower-case letters, digits and "-", at most 63 characters',
    ],
  ],
  [
    'shipyard-bad-triggered-after',
    ['shipyard.yaml:12:31: triggeredAfter "ten minutes" must be a duration like "10m" or "90s"'],
  ],
  ['shipyard-duplicate-stage', ['shipyard.yaml:6:13: duplicated stage "production": already defined at line 5']],
  [
    'shipyard-selector-never-matches',
    ['shipyard.yaml:12:27: "failed" never matches: a result is pass, warning or fail'],
  ],
  ['shipyard-sequence-without-tasks', ['shipyard.yaml:7:11: a sequence needs at least one task in "tasks"']],
  ['shipyard-stages-not-a-list', ['shipyard.yaml:5:5: stages must be a list']],
  [
    'shipyard-trigger-unknown-stage',
    ['shipyard.yaml:9:22: triggeredOn event "qa.delivery.finished" names an unknown stage "qa"'],
  ],
  [
    'shipyard-unknown-api-version',
    ['shipyard.yaml:1:13: unknown apiVersion "spec.keptn.sh/0.1.7": expected spec.keptn.sh/0.2.x (0.2.0 or later)'],
  ],
  ['sli-missing-indicators', ['sli.yaml:1:1: missing required field: indicators']],
  ['slo-bad-criterion', ['slo.yaml:6:13: could not parse criteria target value in "<<600"']],
  ['slo-missing-total-score', ['slo.yaml:1:1: total_score is missing: add total_score.pass (e.g. "90%")']],
];

describe('the broken-file corpus', () => {
  it('has an expectation for every case and a case for every expectation', async () => {
    const cases = (await readdir(CORPUS, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(cases).toEqual(expected.map(([name]) => name).sort());
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(expected)('%s', async (name, lines) => {
    const reports = await validatePath(join(CORPUS, name));
    expect(reports).toHaveLength(1);
    expect(reports.flatMap((r) => r.errors).map(formatDiagnostic)).toEqual(lines);
  });
});
