import { describe, expect, it } from 'vitest';
import type { Remediation, RemediationAction } from '../api/index.ts';
import { parseRemediationFile } from '../formats/remediation.ts';
import type { RemediationPolicy } from '../formats/remediation.ts';
import {
  chooseAction,
  describeSource,
  findEntry,
  policyFromResource,
  selectPolicy,
  sourceWithMatch,
} from './policy.ts';
import type { ProblemKey } from './policy.ts';

const scale = (value: string, name = `scale ${value}`): RemediationAction => ({ name, action: 'scale', value });
const toggle = (value: string): RemediationAction => ({ name: `toggle ${value}`, action: 'featuretoggle', value });

const spec: RemediationPolicy = {
  format: '0.1.4',
  entries: [
    {
      problemType: 'Response time degradation',
      match: 'exact',
      actions: [scale('+1'), scale('+2'), toggle('EnableItemCache:on')],
    },
    { problemType: 'Failure rate increase', match: 'exact', actions: [toggle('EnablePromotion:off')] },
    { problemType: 'response', match: 'exact', actions: [scale('5', 'case-sensitive twin')] },
    { problemType: 'default', match: 'exact', actions: [scale('3', 'default scale')] },
    { problemType: 'Failure rate increase', match: 'exact', actions: [scale('9', 'shadowed duplicate')] },
  ],
};

const legacy: RemediationPolicy = {
  format: 'legacy',
  entries: [
    { problemType: 'Response time', match: 'prefix', actions: [scale('+1', 'scaling'), scale('+1', 'scaling again')] },
    { problemType: 'Failure rate increase', match: 'prefix', actions: [toggle('EnablePromotion:off')] },
  ],
};

describe('findEntry and chooseAction', () => {
  it.each<[string, RemediationPolicy, ProblemKey, number, string | null, string | null]>([
    // [case, policy, problem, attempt, action name or null, matchedOn or null]
    ['exact title', spec, { problemTitle: 'Failure rate increase' }, 1, 'toggle EnablePromotion:off', 'problemTitle'],
    [
      'first entry in file order wins',
      spec,
      { problemTitle: 'Failure rate increase' },
      1,
      'toggle EnablePromotion:off',
      'problemTitle',
    ],
    [
      'rootCause before title',
      spec,
      { problemTitle: 'Response time degradation', rootCause: 'Failure rate increase' },
      1,
      'toggle EnablePromotion:off',
      'rootCause',
    ],
    [
      'unknown rootCause falls back to title',
      spec,
      { problemTitle: 'Response time degradation', rootCause: 'disk full' },
      1,
      'scale +1',
      'problemTitle',
    ],
    [
      'empty rootCause is no rootCause',
      spec,
      { problemTitle: 'Response time degradation', rootCause: '' },
      1,
      'scale +1',
      'problemTitle',
    ],
    ['attempt 2 takes action 2', spec, { problemTitle: 'Response time degradation' }, 2, 'scale +2', 'problemTitle'],
    [
      'attempt 3 takes action 3',
      spec,
      { problemTitle: 'Response time degradation' },
      3,
      'toggle EnableItemCache:on',
      'problemTitle',
    ],
    ['exact match is case-sensitive', spec, { problemTitle: 'Response' }, 1, 'default scale', 'default'],
    [
      '0.1.4 does not match prefixes',
      spec,
      { problemTitle: 'Response time degradation (p90)' },
      1,
      'default scale',
      'default',
    ],
    ['lower-case twin', spec, { problemTitle: 'response' }, 1, 'case-sensitive twin', 'problemTitle'],
    ['legacy prefix', legacy, { problemTitle: 'Response time degradation on carts' }, 1, 'scaling', 'prefix'],
    [
      'legacy uses every action',
      legacy,
      { problemTitle: 'Response time degradation on carts' },
      2,
      'scaling again',
      'prefix',
    ],
    ['legacy prefix is case-sensitive', legacy, { problemTitle: 'response time degradation' }, 1, null, null],
    [
      'legacy ignores rootCause',
      legacy,
      { problemTitle: 'Failure rate increase', rootCause: 'Response time' },
      1,
      'toggle EnablePromotion:off',
      'prefix',
    ],
  ])('%s', (_case, policy, problem, attempt, actionName, matchedOn) => {
    const choice = chooseAction(policy, problem, attempt);
    if (actionName === null) {
      expect(choice.kind).toBe('unmatched');
      return;
    }
    expect(choice.kind).toBe('action');
    if (choice.kind !== 'action') return;
    expect(choice.action.name).toBe(actionName);
    expect(choice.match.matchedOn).toBe(matchedOn);
  });

  it('is exhausted past the last action, with Keptn-like wording', () => {
    expect(chooseAction(spec, { problemTitle: 'Failure rate increase' }, 2)).toMatchObject({
      kind: 'exhausted',
      attempt: 2,
      reason:
        'there is no action 2 for problem title "Failure rate increase": entry "Failure rate increase" has 1 action',
    });
    expect(chooseAction(spec, { problemTitle: 'x' }, 2)).toMatchObject({
      kind: 'exhausted',
      match: { matchedOn: 'default' },
    });
  });

  it('says why nothing matched', () => {
    expect(chooseAction(legacy, { problemTitle: 'Disk full' }, 1)).toEqual({
      kind: 'unmatched',
      attempt: 1,
      reason: 'unable to find action for problem title "Disk full": no entry matches and there is no "default" entry',
    });
    expect(chooseAction(legacy, { problemTitle: 'Disk full', rootCause: 'disk' }, 1)).toMatchObject({
      reason:
        'unable to find action for root cause "disk" or problem title "Disk full": no entry matches and there is no "default" entry',
    });
  });

  it('counts the actions left', () => {
    expect(chooseAction(spec, { problemTitle: 'Response time degradation' }, 1)).toMatchObject({ remaining: 2 });
    expect(chooseAction(spec, { problemTitle: 'Response time degradation' }, 3)).toMatchObject({ remaining: 0 });
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses attempt %d', (attempt) => {
    expect(() => chooseAction(spec, { problemTitle: 'x' }, attempt)).toThrow(/attempts count from 1/);
  });

  it('works on policies parsed from both Keptn formats', () => {
    const modern = parseRemediationFile(
      'carts/remediation.yaml',
      [
        'apiVersion: spec.keptn.sh/0.1.4',
        'kind: Remediation',
        'metadata:',
        '  name: carts-remediation',
        'spec:',
        '  remediations:',
        '    - problemType: http_response_time_seconds_main_page_sum',
        '      actionsOnOpen:',
        '        - action: scale',
        '          name: scale',
        '          description: Scale up',
        '          value: "2"',
        '',
      ].join('\n'),
    );
    const old = parseRemediationFile(
      'carts/remediation.yaml',
      [
        'remediations:',
        '- name: "Failure rate increase"',
        '  actions:',
        '  - action: featuretoggle',
        '    value: EnablePromotion:off',
        '',
      ].join('\n'),
    );
    expect(modern.ok && old.ok).toBe(true);
    if (!modern.ok || !old.ok) return;
    expect(chooseAction(modern.policy, { problemTitle: 'http_response_time_seconds_main_page_sum' }, 1)).toMatchObject({
      kind: 'action',
      action: { action: 'scale', value: '2' },
    });
    expect(findEntry(old.policy, { problemTitle: 'Failure rate increase on carts' })?.entry.actions[0]).toMatchObject({
      action: 'featuretoggle',
      value: 'EnablePromotion:off',
    });
  });
});

describe('policy sources', () => {
  const resource: Remediation = {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Remediation',
    metadata: { name: 'carts-production', namespace: 'sockshop' },
    spec: {
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      remediations: [{ problemType: 'Response time degradation', actionsOnOpen: [scale('+1')] }],
    },
  };
  const file = { branch: 'production', commit: 'a'.repeat(40), path: 'carts/remediation.yaml', policy: legacy };

  it('prefers the Remediation resource over the file', () => {
    const chosen = selectPolicy({ resource, file });
    expect(chosen?.source).toEqual({ kind: 'Remediation', name: 'carts-production' });
    expect(chosen?.policy.entries).toEqual([
      { problemType: 'Response time degradation', match: 'exact', actions: [scale('+1')] },
    ]);
    expect(describeSource(chosen!.source)).toBe('Remediation carts-production');
  });

  it('uses the file when there is no resource, recording branch, commit and path', () => {
    const chosen = selectPolicy({ file });
    expect(chosen?.source).toEqual({
      kind: 'Git',
      branch: 'production',
      commit: file.commit,
      path: 'carts/remediation.yaml',
    });
    expect(describeSource(chosen!.source)).toBe(`production@${file.commit}:carts/remediation.yaml`);
    expect(selectPolicy({})).toBeUndefined();
  });

  it('records the entry that matched', () => {
    const chosen = policyFromResource(resource);
    const choice = chooseAction(chosen.policy, { problemTitle: 'Response time degradation' }, 1);
    if (choice.kind !== 'action') throw new Error(choice.reason);
    expect(sourceWithMatch(chosen.source, choice.match)).toEqual({
      kind: 'Remediation',
      name: 'carts-production',
      problemType: 'Response time degradation',
      match: 'problemTitle',
    });
  });
});
