import { describe, expect, it } from 'vitest';
import type { RemediationSpec } from '../../api/index.ts';
import { checkRemediationSpec } from './reconciler.ts';

function spec(actions: { action: string; value: string }[], extra: Partial<RemediationSpec> = {}): RemediationSpec {
  return {
    project: 'sockshop',
    stage: 'production',
    service: 'carts',
    remediations: [{ problemType: 'default', actionsOnOpen: actions.map((a, i) => ({ name: `step ${i}`, ...a })) }],
    ...extra,
  };
}

describe('checkRemediationSpec', () => {
  it('accepts the actions Rebound carries out', () => {
    expect(checkRemediationSpec(spec([{ action: 'scale', value: '+1' }, { action: 'scaling', value: '3' }, { action: 'featuretoggle', value: 'EnablePromotion:off' }]))).toEqual([]);
  });

  it.each([
    [{ action: 'restart', value: 'now' }, 'remediations[0].actionsOnOpen[0]: unknown action "restart"'],
    [{ action: 'scale', value: 'two' }, 'remediations[0].actionsOnOpen[0]: invalid scale value "two"'],
    [{ action: 'featuretoggle', value: 'EnablePromotion' }, 'remediations[0].actionsOnOpen[0]: invalid featuretoggle value "EnablePromotion"'],
  ])('names the field of a bad action %j', (action, message) => {
    const faults = checkRemediationSpec(spec([action]));
    expect(faults).toHaveLength(1);
    expect(faults[0]).toContain(message);
  });

  it('checks limits, durations and key paths the schema cannot', () => {
    const faults = checkRemediationSpec(spec([{ action: 'scale', value: '+1' }], {
      limits: { minReplicas: 5, maxReplicas: 2, cooldown: '5 minutes' },
      evaluation: { wait: '2m' },
      values: { replicaCountKey: 'deployment..replicas' },
    }));
    expect(faults).toEqual([
      expect.stringContaining('limits.cooldown: "5 minutes" is not a duration'),
      'limits: minReplicas 5 is greater than maxReplicas 2',
      expect.stringContaining('values.replicaCountKey: invalid key path "deployment..replicas"'),
    ]);
  });
});
