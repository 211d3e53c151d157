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
    expect(
      checkRemediationSpec(
        spec([
          { action: 'scale', value: '+1' },
          { action: 'scaling', value: '3' },
          { action: 'featuretoggle', value: 'EnablePromotion:off' },
        ]),
      ),
    ).toEqual([]);
  });

  it.each([
    [{ action: 'restart', value: 'now' }, 'remediations[0].actionsOnOpen[0]: unknown action "restart"'],
    [{ action: 'scale', value: 'two' }, 'remediations[0].actionsOnOpen[0]: invalid scale value "two"'],
    [
      { action: 'featuretoggle', value: 'EnablePromotion' },
      'remediations[0].actionsOnOpen[0]: invalid featuretoggle value "EnablePromotion"',
    ],
  ])('names the field of a bad action %j', (action, message) => {
    const faults = checkRemediationSpec(spec([action]));
    expect(faults).toHaveLength(1);
    expect(faults[0]).toContain(message);
  });

  it('checks limits, durations and key paths the schema cannot', () => {
    const faults = checkRemediationSpec(
      spec([{ action: 'scale', value: '+1' }], {
        limits: { minReplicas: 5, maxReplicas: 2, cooldown: '5 minutes' },
        evaluation: { wait: '2m' },
        values: { replicaCountKey: 'deployment..replicas' },
      }),
    );
    expect(faults).toEqual([
      expect.stringContaining('limits.cooldown: "5 minutes" is not a duration'),
      'limits: minReplicas 5 is greater than maxReplicas 2',
      expect.stringContaining('values.replicaCountKey: invalid key path "deployment..replicas"'),
    ]);
  });

  it('accepts an unknown action type only when an external executor takes it', () => {
    expect(checkRemediationSpec(spec([{ action: 'restart-pod', value: 'carts' }]), { externalActions: true })).toEqual(
      [],
    );
    expect(checkRemediationSpec(spec([{ action: 'restart-pod', value: 'carts' }]))[0]).toContain(
      'other types need an external executor',
    );
  });

  it('checks webhook actions against the endpoints and the allowed hosts', () => {
    const webhook = {
      allowedHosts: ['runbooks.example.com'],
      endpoints: [
        { name: 'restart', url: 'https://runbooks.example.com/restart' },
        { name: 'sneaky', url: 'http://169.254.169.254/latest/meta-data' },
      ],
    };
    const faults = checkRemediationSpec(
      spec(
        [
          { action: 'webhook', value: 'restart' },
          { action: 'webhook', value: 'https://runbooks.example.com/other' },
          { action: 'webhook', value: 'missing' },
          { action: 'webhook', value: 'https://elsewhere.example.org/x' },
        ],
        { webhook },
      ),
    );
    expect(faults).toEqual([
      expect.stringMatching(
        /^remediations\[0\]\.actionsOnOpen\[2\]: webhook "missing" is not in spec\.webhook\.endpoints \(restart, sneaky\)/,
      ),
      expect.stringMatching(/^remediations\[0\]\.actionsOnOpen\[3\]: .*elsewhere\.example\.org/),
      expect.stringMatching(/^webhook\.endpoints\[1\] \(sneaky\): .*169\.254\.169\.254/),
    ]);
    expect(checkRemediationSpec(spec([{ action: 'webhook', value: 'restart' }]))[0]).toContain(
      'webhook actions need spec.webhook.allowedHosts',
    );
  });
});
