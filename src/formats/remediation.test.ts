import { describe, expect, it } from 'vitest';
import { parseRemediationFile } from './remediation.ts';
import { formatDiagnostic } from './yaml.ts';

function errors(text: string): string[] {
  const result = parseRemediationFile('carts/remediation.yaml', text);
  return result.ok ? [] : result.diagnostics.map(formatDiagnostic);
}

const v014 = `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
metadata:
  name: carts-remediation
spec:
  remediations:
    - problemType: Response time degradation
      actionsOnOpen:
        - action: scale
          name: scale
          description: Scale up
          value: "+1"
        - action: featuretoggle
          name: toggle promotion
          value: EnablePromotion:off
    - problemType: default
      actionsOnOpen:
        - action: scaling
          name: scaling
          value: 2
`;

describe('parseRemediationFile: spec.keptn.sh/0.1.4', () => {
  it('reads entries in file order with exact matching and string values', () => {
    const result = parseRemediationFile('r.yaml', v014);
    expect(result).toEqual({
      ok: true,
      warnings: [],
      policy: {
        format: '0.1.4',
        entries: [
          {
            problemType: 'Response time degradation',
            match: 'exact',
            actions: [
              { name: 'scale', action: 'scale', description: 'Scale up', value: '+1' },
              { name: 'toggle promotion', action: 'featuretoggle', value: 'EnablePromotion:off' },
            ],
          },
          { problemType: 'default', match: 'exact', actions: [{ name: 'scaling', action: 'scaling', value: '2' }] },
        ],
      },
    });
  });

  it('keeps the sign of an unquoted +1 (YAML 1.2 would read the number 1)', () => {
    const result = parseRemediationFile('r.yaml', v014.replace('value: "+1"', 'value: +1'));
    expect(result.ok && result.policy.entries[0]?.actions[0]?.value).toBe('+1');
  });

  it('names the action after its type when "name" is missing', () => {
    const result = parseRemediationFile('r.yaml', v014.replace('          name: scale\n', ''));
    expect(result.ok && result.policy.entries[0]?.actions[0]?.name).toBe('scale');
  });

  it('rejects an unknown apiVersion and kind at their values', () => {
    expect(errors(v014.replace('0.1.4', '0.1.3').replace('kind: Remediation', 'kind: Shipyard'))).toEqual([
      'carts/remediation.yaml:1:13: unknown apiVersion "spec.keptn.sh/0.1.3": expected spec.keptn.sh/0.1.4',
      'carts/remediation.yaml:2:7: unknown kind "Shipyard": expected Remediation',
    ]);
  });

  it('reports every bad value, not only the first', () => {
    const text = v014
      .replace('value: "+1"', 'value: one')
      .replace('EnablePromotion:off', 'EnablePromotion:maybe')
      .replace('value: 2', 'value: 2.5');
    expect(errors(text)).toEqual([
      'carts/remediation.yaml:12:18: scale value "one" must be N, +N or -N (replicas, e.g. "2" or "+1")',
      'carts/remediation.yaml:15:18: featuretoggle value "EnablePromotion:maybe" must be Flag:on or Flag:off (e.g. "EnablePromotion:off")',
      'carts/remediation.yaml:20:18: scaling value "2.5" must be N, +N or -N (replicas, e.g. "2" or "+1")',
    ]);
  });

  it('reports a missing problemType at its entry', () => {
    expect(errors(v014.replace('    - problemType: default\n      actionsOnOpen:', '    - actionsOnOpen:'))).toEqual([
      'carts/remediation.yaml:16:7: missing "problemType": name the problem this entry handles (or "default")',
    ]);
  });

  it('rejects webhooks in Git, missing values, empty lists and duplicated problem types', () => {
    const text = `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
spec:
  remediations:
    - problemType: a
      actionsOnOpen:
        - action: restart
          value: pod
        - action: scale
        - action: webhook
          value: http://10.0.0.1/
    - problemType: b
      actionsOnOpen: []
    - problemType: a
      actionsOnOpen:
        - {action: scale, value: "1"}
`;
    expect(errors(text)).toEqual([
      'carts/remediation.yaml:9:11: missing "value": scale needs one (N, +N or -N replicas, e.g. "2" or "+1")',
      'carts/remediation.yaml:10:19: webhook actions are allowed only in a Remediation resource, whose spec.webhook.allowedHosts says which hosts may be called',
      'carts/remediation.yaml:13:22: actionsOnOpen is empty: add at least one action',
      'carts/remediation.yaml:14:20: duplicated problemType "a": the entry at line 5 already handles it',
    ]);
  });

  it('keeps an action type that is not built in, with a warning (it is for an external executor)', () => {
    const result = parseRemediationFile(
      'r.yaml',
      `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
spec:
  remediations:
    - problemType: default
      actionsOnOpen:
        - action: restart-pod
          name: restart
          value: carts
`,
    );
    expect(result.ok && result.policy.entries[0]?.actions).toEqual([
      { name: 'restart', action: 'restart-pod', value: 'carts' },
    ]);
    expect(result.ok && result.warnings.map(formatDiagnostic)).toEqual([
      'r.yaml:7:19: action "restart-pod" is not built in (scale, scaling, featuretoggle): it runs only when the controller sends such actions to an external executor (--action-sink); otherwise the problem stalls with UnknownAction',
    ]);
  });

  it('requires apiVersion, kind and spec.remediations', () => {
    expect(errors('kind: Remediation\nspec: {}\n')).toEqual([
      'carts/remediation.yaml:1:1: missing "apiVersion": expected spec.keptn.sh/0.1.4',
      'carts/remediation.yaml:2:7: missing "remediations": list the problem types this file handles',
    ]);
  });

  it('warns about unknown keys without failing', () => {
    const result = parseRemediationFile(
      'r.yaml',
      v014.replace('          description: Scale up\n', '          descripton: Scale up\n'),
    );
    expect(result.ok).toBe(true);
    expect(result.ok && result.warnings.map(formatDiagnostic)).toEqual([
      'r.yaml:11:11: unknown key "descripton" is ignored (expected one of: name, action, description, value, approval)',
    ]);
  });

  it('reads approval: required on an action, and refuses any other value', () => {
    const required = parseRemediationFile(
      'r.yaml',
      v014.replace(
        '          description: Scale up\n',
        '          description: Scale up\n          approval: required\n',
      ),
    );
    expect(required.ok && required.policy.entries[0]?.actions[0]).toEqual({
      name: 'scale',
      action: 'scale',
      description: 'Scale up',
      value: '+1',
      approval: 'required',
    });
    const yes = parseRemediationFile(
      'r.yaml',
      v014.replace('          description: Scale up\n', '          description: Scale up\n          approval: yes\n'),
    );
    expect(yes.ok).toBe(false);
    expect(!yes.ok && yes.diagnostics.map(formatDiagnostic).join('\n')).toContain(
      'approval must be "required" (or left out), not "yes"',
    );
  });
});

describe('parseRemediationFile: values as Keptn accepted them', () => {
  const file = (actions: string): string => `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
metadata:
  name: carts-remediation
spec:
  remediations:
    - problemType: Response time degradation
      actionsOnOpen:
${actions}
    - problemType: default
      actionsOnOpen:
        - action: scale
          value: "2"
`;

  it('hands an action without a value, or with an empty one, to the executor with an empty value', () => {
    const result = parseRemediationFile(
      'r.yaml',
      file(`        - action: restart
          name: restart the pods
        - action: escalate
          value: ""
        - action: page
          value:`),
    );
    expect(result.ok && result.policy.entries[0]?.actions).toEqual([
      { name: 'restart the pods', action: 'restart', value: '' },
      { name: 'escalate', action: 'escalate', value: '' },
      { name: 'page', action: 'page', value: '' },
    ]);
  });

  it('still requires a value for scale, scaling and featuretoggle', () => {
    expect(errors(file('        - action: scaling\n          name: more'))).toEqual([
      'carts/remediation.yaml:9:11: missing "value": scaling needs one (N, +N or -N replicas, e.g. "2" or "+1")',
    ]);
    expect(errors(file('        - action: scale\n          value: ""'))).toEqual([
      'carts/remediation.yaml:10:18: scale value "" must be N, +N or -N (replicas, e.g. "2" or "+1")',
    ]);
    expect(errors(file('        - action: featuretoggle\n          name: off'))).toEqual([
      'carts/remediation.yaml:9:11: missing "value": featuretoggle needs one (Flag:on or Flag:off, e.g. "EnablePromotion:off", or a map {Flag: "on"})',
    ]);
    expect(errors(file('        - action: featuretoggle\n          value: ""'))).toEqual([
      'carts/remediation.yaml:10:18: featuretoggle value "" must be Flag:on or Flag:off (e.g. "EnablePromotion:off")',
    ]);
  });

  it("reads Keptn's toggle-feature with a map as featuretoggle, each key a flag, and keeps the default entry", () => {
    // Keptn's unleash tutorial (0.7 to 0.15), with a second flag and a boolean.
    const result = parseRemediationFile(
      'r.yaml',
      file(`        - action: toggle-feature
          name: Toogle feature flag
          value:
            EnableItemCache: "on"
            EnablePromotion: false`),
    );
    expect(result.ok).toBe(true);
    expect(result.ok && result.policy.entries.map((e) => e.actions)).toEqual([
      [{ name: 'Toogle feature flag', action: 'featuretoggle', value: 'EnableItemCache:on,EnablePromotion:off' }],
      [{ name: 'scale', action: 'scale', value: '2' }],
    ]);
    expect(result.ok && result.warnings.map(formatDiagnostic)).toEqual([
      "r.yaml:9:19: toggle-feature (Keptn's unleash-service action) is carried out as featuretoggle EnableItemCache:on,EnablePromotion:off: Rebound sets the flags in the values file, and in Unleash when the Project names it as the provider",
    ]);
  });

  it('accepts a map for featuretoggle too, and refuses states that are not on/off/true/false', () => {
    const ok = parseRemediationFile(
      'r.yaml',
      file('        - action: featuretoggle\n          value: {EnablePromotion: "off"}'),
    );
    expect(ok.ok && ok.policy.entries[0]?.actions).toEqual([
      { name: 'featuretoggle', action: 'featuretoggle', value: 'EnablePromotion:off' },
    ]);
    expect(errors(file('        - action: toggle-feature\n          value: {EnableItemCache: enabled}'))).toEqual([
      'carts/remediation.yaml:10:18: toggle-feature value {"EnableItemCache":"enabled"} must map each flag to on, off, true or false (at most 16 flags)',
    ]);
  });

  it('hands any other map to the executor as it is, with its JSON as the value', () => {
    const result = parseRemediationFile(
      'r.yaml',
      file(`        - action: run-job
          value:
            image: busybox
            args: [sleep, "1"]`),
    );
    expect(result.ok && result.policy.entries[0]?.actions).toEqual([
      {
        name: 'run-job',
        action: 'run-job',
        value: '{"image":"busybox","args":["sleep","1"]}',
        valueMap: { image: 'busybox', args: ['sleep', '1'] },
      },
    ]);
    const long = `{${Array.from({ length: 40 }, (_, i) => `k${i}: value${i}`).join(', ')}}`;
    expect(errors(file(`        - action: run-job\n          value: ${long}`))[0]).toMatch(
      /^carts\/remediation.yaml:10:18: the map value is \d+ characters as JSON, more than 256/,
    );
  });
});

describe('parseRemediationFile: the legacy format', () => {
  it('reads the tutorial file with prefix matching, mapping each action to {name: action, action, value}', () => {
    const text = `remediations:
- name: response_time_p90
  actions:
  - action: scaling
    value: +1
- name: "Failure rate increase"
  actions:
  - action: featuretoggle
    value: EnablePromotion:off
`;
    const result = parseRemediationFile('r.yaml', text);
    expect(result.ok && result.policy).toEqual({
      format: 'legacy',
      entries: [
        {
          problemType: 'response_time_p90',
          match: 'prefix',
          actions: [{ name: 'scaling', action: 'scaling', value: '+1' }],
        },
        {
          problemType: 'Failure rate increase',
          match: 'prefix',
          actions: [{ name: 'featuretoggle', action: 'featuretoggle', value: 'EnablePromotion:off' }],
        },
      ],
    });
  });

  it('reports a missing name and bad values with locations', () => {
    expect(errors('remediations:\n- actions:\n  - action: featuretoggle\n    value: EnablePromotion\n')).toEqual([
      'carts/remediation.yaml:2:3: missing "name": name the problem this entry handles (or "default")',
      'carts/remediation.yaml:4:12: featuretoggle value "EnablePromotion" must be Flag:on or Flag:off (e.g. "EnablePromotion:off")',
    ]);
  });
});

describe('parseRemediationFile: not a remediation file', () => {
  it.each([
    [
      'a list',
      '- a\n- b\n',
      'carts/remediation.yaml:1:1: not a remediation file: expected apiVersion spec.keptn.sh/0.1.4 or a top-level "remediations" list',
    ],
    [
      'an unrelated mapping',
      'replicaCount: 1\n',
      'carts/remediation.yaml:1:1: not a remediation file: expected apiVersion spec.keptn.sh/0.1.4 or a top-level "remediations" list',
    ],
    [
      'a YAML syntax error',
      'remediations: [\n',
      'carts/remediation.yaml:2:1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
  ])('rejects %s', (_what, text, expected) => {
    expect(errors(text)[0]).toBe(expected);
  });
});
