import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RemediationPolicy } from '../formats/remediation.ts';
import { planRemediation } from './plan.ts';
import type { PlanInput } from './plan.ts';

const policy: RemediationPolicy = {
  format: '0.1.4',
  entries: [
    {
      problemType: 'Response time degradation',
      match: 'exact',
      actions: [
        { name: 'scale up', action: 'scale', value: '+3' },
        { name: 'restart', action: 'restart', value: 'now' },
      ],
    },
  ],
};

const input = (overrides: Partial<PlanInput> = {}): PlanInput => ({
  branch: 'production',
  service: 'carts',
  problem: { problemTitle: 'Response time degradation' },
  attempt: 1,
  policy: { policy, source: { kind: 'Remediation', name: 'carts-production' } },
  policyPath: 'carts/remediation.yaml',
  valuesFile: 'carts/values.yaml',
  valuesText: 'replicaCount: 2 # scaled\nservice:\n  port: 80\n',
  ...overrides,
});

describe('planRemediation', () => {
  it('plans the action with the resource as source and clamps to the limits', () => {
    const outcome = planRemediation(input({ limits: { maxReplicas: 4 } }));
    expect(outcome.kind).toBe('planned');
    expect(outcome.json).toEqual({
      source: 'Remediation carts-production',
      branch: 'production',
      file: 'carts/values.yaml',
      action: { name: 'scale up', action: 'scale', value: '+3' },
      exhausted: false,
      reason: null,
      diff: '--- a/carts/values.yaml\n+++ b/carts/values.yaml\n@@ -1,3 +1,3 @@\n-replicaCount: 2 # scaled\n+replicaCount: 4 # scaled\n service:\n   port: 80\n',
      approval: null,
    });
    expect(outcome.source).toEqual({
      kind: 'Remediation',
      name: 'carts-production',
      problemType: 'Response time degradation',
      match: 'problemTitle',
    });
    expect(outcome.kind === 'planned' && outcome.summary).toBe('replicaCount 2 → 4 (5 clamped to maxReplicas 4)');
  });

  it('says when the action waits for approval', () => {
    const gated: RemediationPolicy = {
      format: '0.1.4',
      entries: [
        {
          problemType: 'Response time degradation',
          match: 'exact',
          actions: [{ name: 'scale up', action: 'scale', value: '+1', approval: 'required' }],
        },
      ],
    };
    const outcome = planRemediation(
      input({ policy: { policy: gated, source: { kind: 'Remediation', name: 'carts-production' } } }),
    );
    expect(outcome.kind).toBe('planned');
    expect(outcome.json.approval).toBe('required');
  });

  it('plans an action that changes nothing with an empty diff and the reason', () => {
    const outcome = planRemediation(input({ limits: { maxReplicas: 2 } }));
    expect(outcome).toMatchObject({
      kind: 'planned',
      summary: null,
      json: { diff: '', reason: 'replicaCount in carts/values.yaml is already 2 (5 clamped to maxReplicas 2)' },
    });
  });

  it('uses the configured replicas path', () => {
    const outcome = planRemediation(
      input({ valuesText: 'carts:\n  replicas: 1\n', replicasPath: ['carts', 'replicas'] }),
    );
    expect(outcome.json.diff).toContain('-  replicas: 1\n+  replicas: 4\n');
  });

  it('plans an action type that is not built in as handed to an external executor, with no file and no diff', () => {
    const outcome = planRemediation(input({ attempt: 2 }));
    expect(outcome).toMatchObject({
      kind: 'handed-off',
      json: { action: { action: 'restart' }, file: null, diff: null },
    });
    expect(outcome.json.reason).toContain('sh.keptn.event.action.triggered');
  });

  it('reports a value Rebound cannot carry out as invalid, naming it', () => {
    const bad: RemediationPolicy = {
      ...policy,
      entries: [
        {
          problemType: 'Response time degradation',
          match: 'exact',
          actions: [{ name: 'x', action: 'scale', value: 'lots' }],
        },
      ],
    };
    const outcome = planRemediation(
      input({ policy: { policy: bad, source: { kind: 'Remediation', name: 'carts-production' } } }),
    );
    expect(outcome).toMatchObject({ kind: 'invalid', json: { action: { action: 'scale' }, diff: null } });
    expect(outcome.json.reason).toContain('"lots"');
  });

  it('reports a missing values file as invalid', () => {
    expect(planRemediation(input({ valuesText: undefined }))).toMatchObject({
      kind: 'invalid',
      json: { reason: 'carts/values.yaml does not exist on branch production', diff: null },
    });
  });

  it('has no action and says why when exhausted, unmatched or without a policy', () => {
    expect(planRemediation(input({ attempt: 3 }))).toMatchObject({
      kind: 'none',
      json: { action: null, exhausted: true, file: null, diff: null },
    });
    const unmatched = planRemediation(input({ problem: { problemTitle: 'x' } }));
    expect(unmatched).toMatchObject({
      kind: 'none',
      source: { kind: 'Remediation', name: 'carts-production' },
      json: { action: null, exhausted: false },
    });
    expect(unmatched.json.reason).toMatch(/^unable to find action for problem title "x"/);
    expect(planRemediation(input({ policy: undefined }))).toMatchObject({
      kind: 'none',
      source: null,
      json: {
        source: null,
        reason: 'no remediation policy: carts/remediation.yaml does not exist on branch production',
      },
    });
  });
});

describe('planRemediation in rendered manifests (the diff an approver and `rebound plan` see)', () => {
  const manifests = readFileSync(
    new URL('../../test/fixtures/values/rendered-manifests.yaml', import.meta.url),
    'utf8',
  );
  const rendered = (value: string): Partial<PlanInput> => ({
    valuesFile: 'carts/manifests/carts.yaml',
    valuesText: manifests,
    replicasPath: ['spec', 'replicas'],
    flagsPath: ['data'],
    policy: {
      policy: {
        format: '0.1.4',
        entries: [
          {
            problemType: 'Response time degradation',
            match: 'exact',
            actions: [{ name: 'act', action: value.includes(':') ? 'featuretoggle' : 'scale', value }],
          },
        ],
      },
      source: { kind: 'Remediation', name: 'carts-manifests' },
    },
  });

  it('shows one changed line in the Deployment for scale and one in the ConfigMap for a flag', () => {
    const scale = planRemediation(input(rendered('+1')));
    expect(scale.json.diff).toBe(
      [
        '--- a/carts/manifests/carts.yaml',
        '+++ b/carts/manifests/carts.yaml',
        '@@ -28,7 +28,7 @@',
        ' metadata:',
        '   name: carts',
        ' spec:',
        '-  replicas: 1',
        '+  replicas: 2',
        '   selector:',
        '     matchLabels:',
        '       app.kubernetes.io/name: carts',
        '',
      ].join('\n'),
    );
    const flag = planRemediation(input(rendered('EnablePromotion:off')));
    expect(flag.json.diff?.split('\n').filter((l) => /^[-+] /.test(l))).toEqual([
      '-  EnablePromotion: "true"',
      '+  EnablePromotion: "false"',
    ]);
  });

  it('plans no edit for a key path two documents hold, and says which', () => {
    const outcome = planRemediation(input({ ...rendered('+1'), valuesText: manifests.replace('  replicas: 1\n', '') }));
    expect(outcome.kind).toBe('invalid');
    expect(outcome.json.diff).toBeNull();
    expect(outcome.json.reason).toContain(
      'spec (on the way to spec.replicas) is in documents 2 (Service carts) and 3 (Deployment carts)',
    );
  });
});
