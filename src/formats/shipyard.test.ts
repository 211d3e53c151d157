import { describe, expect, it } from 'vitest';
import { isSupportedShipyardApiVersion, parseShipyardFile } from './shipyard.ts';
import { formatDiagnostic } from './yaml.ts';

function errors(text: string): string[] {
  const result = parseShipyardFile('shipyard.yaml', text);
  return result.ok ? [] : result.diagnostics.map(formatDiagnostic);
}

const v01 = `stages:
  - name: "dev"
    deployment_strategy: "direct"
    test_strategy: "functional"
  - name: "staging"
    deployment_strategy: "blue_green_service"
    test_strategy: "performance"
  - name: "production"
    deployment_strategy: "blue_green_service"
    remediation_strategy: "automated"
`;

const v02 = `apiVersion: "spec.keptn.sh/0.2.2"
kind: "Shipyard"
metadata:
  name: "shipyard-delivery"
spec:
  stages:
    - name: "qa"
      sequences:
        - name: "delivery"
          tasks:
            - name: "je-deployment"
            - name: "evaluation"
              properties:
                timeframe: "2m"
    - name: "production"
      sequences:
        - name: "delivery"
          triggeredOn:
            - event: "qa.delivery.finished"
          tasks:
            - name: "approval"
        - name: "remediation"
          triggeredOn:
            - event: "production.remediation.finished"
              selector:
                match:
                  evaluation.result: "fail"
          tasks:
            - name: "get-action"
            - name: "action"
            - name: "evaluation"
              triggeredAfter: "2m"
              properties:
                timeframe: "2m"
`;

describe('parseShipyardFile: 0.1', () => {
  it('reads the stages in promotion order and the remediation strategy', () => {
    expect(parseShipyardFile('s.yaml', v01)).toEqual({
      ok: true,
      warnings: [],
      shipyard: {
        format: '0.1',
        stages: [
          { name: 'dev', path: ['stages', 0] },
          { name: 'staging', path: ['stages', 1] },
          { name: 'production', remediation: 'automated', path: ['stages', 2] },
        ],
      },
    });
  });

  it('reports bad and duplicated stage names with locations', () => {
    expect(errors('stages:\n  - name: Dev\n  - name: prod\n  - name: prod\n  - deployment_strategy: direct\n')).toEqual(
      [
        'shipyard.yaml:2:11: stage name "Dev" must be a DNS-1123 label: lower-case letters, digits and "-", at most 63 characters',
        'shipyard.yaml:4:11: duplicated stage "prod": already defined at line 3',
        'shipyard.yaml:5:5: missing "name": every stage needs one',
      ],
    );
  });

  it('warns when a remediation strategy other than automated leaves remediation off', () => {
    const result = parseShipyardFile('s.yaml', v01.replace('"automated"', '"manual"'));
    expect(result.ok && result.warnings.map(formatDiagnostic)).toEqual([
      's.yaml:10:27: remediation_strategy "manual" leaves remediation off: only "automated" turns it on',
    ]);
  });
});

describe('parseShipyardFile: spec.keptn.sh/0.2.x', () => {
  it('marks the stages that have a remediation sequence as automated, with its tasks in order', () => {
    const tasks = ['spec', 'stages', 1, 'sequences', 1, 'tasks'];
    expect(parseShipyardFile('s.yaml', v02)).toEqual({
      ok: true,
      warnings: [],
      shipyard: {
        format: '0.2',
        stages: [
          { name: 'qa', path: ['spec', 'stages', 0] },
          {
            name: 'production',
            remediation: 'automated',
            path: ['spec', 'stages', 1],
            remediationTasks: [
              { name: 'get-action', path: [...tasks, 0] },
              { name: 'action', path: [...tasks, 1] },
              { name: 'evaluation', triggeredAfter: '2m', properties: { timeframe: '2m' }, path: [...tasks, 2] },
            ],
          },
        ],
      },
    });
  });

  it.each([
    ['spec.keptn.sh/0.2.0', true],
    ['spec.keptn.sh/0.2.4', true],
    ['spec.keptn.sh/0.10.1', true],
    ['spec.keptn.sh/1.0.0', true],
    ['spec.keptn.sh/0.1.4', false],
    ['spec.keptn.sh/v0.2.0', false],
    ['keptn.sh/0.2.0', false],
    ['spec.keptn.sh/0.2.x', false],
  ])('apiVersion %s supported: %s', (apiVersion, ok) => {
    expect(isSupportedShipyardApiVersion(apiVersion)).toBe(ok);
  });

  it('rejects an unknown apiVersion and kind at their values', () => {
    expect(errors(v02.replace('0.2.2', '0.1.4').replace('kind: "Shipyard"', 'kind: "Remediation"'))).toEqual([
      'shipyard.yaml:1:13: unknown apiVersion "spec.keptn.sh/0.1.4": expected spec.keptn.sh/0.2.x (0.2.0 or later)',
      'shipyard.yaml:2:7: unknown kind "Remediation": expected Shipyard',
    ]);
  });

  it('warns at an approval setting that is neither automatic nor manual (it is taken as manual)', () => {
    const text = v02.replace(
      '            - name: "get-action"\n',
      '            - name: "get-action"\n            - name: "approval"\n              properties:\n                pass: "auto"\n',
    );
    const parsed = parseShipyardFile('shipyard.yaml', text);
    expect(parsed.ok && parsed.warnings.map(formatDiagnostic)).toEqual([
      'shipyard.yaml:32:23: pass "auto" is neither "automatic" nor "manual": it is taken as manual (Keptn approved on its own only on "automatic")',
    ]);
  });

  it('checks triggers, selectors, tasks and durations', () => {
    const text = v02
      .replace('"qa.delivery.finished"', '"staging.delivery.finished"')
      .replace('"production.remediation.finished"', '"production.remediate.finished"')
      .replace('evaluation.result: "fail"', 'evaluation.result: "failed"')
      .replace('triggeredAfter: "2m"', 'triggeredAfter: "2 minutes"')
      .replace('            - name: "approval"\n', '');
    expect(errors(text)).toEqual([
      'shipyard.yaml:20:11: a sequence needs at least one task in "tasks"',
      'shipyard.yaml:26:38: "failed" never matches: a result is pass, warning or fail',
      'shipyard.yaml:31:31: triggeredAfter "2 minutes" must be a duration like "10m" or "90s"',
      'shipyard.yaml:19:22: triggeredOn event "staging.delivery.finished" names an unknown stage "staging"',
      'shipyard.yaml:23:22: triggeredOn event "production.remediate.finished" names an unknown sequence "remediate" in stage "production"',
    ]);
  });

  it('refuses a task name that cannot name an event, and warns of a timeframe that is not a duration', () => {
    const text = v02
      .replace('- name: "get-action"', '- name: "load test"')
      .replace('timeframe: "2m"\n`', 'timeframe: "two minutes"\n`');
    expect(errors(text)).toEqual([
      'shipyard.yaml:29:21: task name "load test" must be letters, digits, "-" and "_" (it names the event sh.keptn.event.<name>.triggered)',
    ]);
    const parsed = parseShipyardFile('shipyard.yaml', v02.replace(/timeframe: "2m"\n$/, 'timeframe: "two minutes"\n'));
    expect(parsed.ok && parsed.warnings.map((w) => w.message)).toEqual([
      'timeframe "two minutes" is not a duration like "2m": the evaluation\'s window is the time since the action took effect',
    ]);
  });

  it('still checks the sequences of a stage whose name is wrong', () => {
    const text =
      'apiVersion: spec.keptn.sh/0.2.0\nkind: Shipyard\nspec:\n  stages:\n    - name: Prod\n      sequences:\n        - name: remediation\n';
    expect(errors(text)).toEqual([
      'shipyard.yaml:5:13: stage name "Prod" must be a DNS-1123 label: lower-case letters, digits and "-", at most 63 characters',
      'shipyard.yaml:7:11: a sequence needs at least one task in "tasks"',
    ]);
  });

  it('requires spec.stages', () => {
    expect(errors('apiVersion: spec.keptn.sh/0.2.0\nkind: Shipyard\nspec:\n  stages: []\n')).toEqual([
      'shipyard.yaml:4:11: stages is empty: add at least one stage',
    ]);
  });
});

describe('parseShipyardFile: not a shipyard', () => {
  it('says what a shipyard looks like', () => {
    expect(errors('objectives: []\n')).toEqual([
      'shipyard.yaml:1:1: not a shipyard file: expected apiVersion spec.keptn.sh/0.2.x or a top-level "stages" list',
    ]);
  });
});
