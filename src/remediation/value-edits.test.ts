import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ReboundError } from '../errors.ts';
import {
  applyAction,
  clampReplicas,
  describeChange,
  formatToggles,
  parseScaleValue,
  parseToggleValue,
} from './value-edits.ts';
import type { EditOptions, EditResult } from './value-edits.ts';
import { unifiedDiff } from './diff.ts';

function fixture(name: string): string {
  return readFileSync(new URL(`../../test/fixtures/values/${name}`, import.meta.url), 'utf8');
}

function edit(name: string, action: string, value: unknown, options: Partial<EditOptions> = {}): EditResult {
  return applyAction({ action, value }, fixture(name), { file: `carts/${name}`, ...options });
}

/** The edited text, asserting that something changed. */
function changed(result: EditResult): string {
  expect(result.changed, result.changed ? '' : result.reason).toBe(true);
  return result.text;
}

/** The thrown error, asserting it is a ReboundError. */
function failure(run: () => unknown): ReboundError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ReboundError);
    return err as ReboundError;
  }
  throw new Error('expected an error');
}

describe('scale', () => {
  it('adds a scaling value to the count, as Keptn did, and sets a scale value as the count', () => {
    const values = 'replicaCount: 3\n';
    const added = applyAction({ action: 'scaling', value: '1' }, values, { file: 'v.yaml' });
    expect(changed(added)).toBe('replicaCount: 4\n');
    expect(added.change).toMatchObject({ kind: 'replicas', from: 3, to: 4, rule: 'added' });
    const set = applyAction({ action: 'scale', value: '1' }, values, { file: 'v.yaml' });
    expect(changed(set)).toBe('replicaCount: 1\n');
    expect(set.change).toMatchObject({ kind: 'replicas', from: 3, to: 1, rule: 'absolute' });
    expect(applyAction({ action: 'scale', value: '+1' }, values, { file: 'v.yaml' }).change).toMatchObject({
      to: 4,
      rule: 'relative',
    });
  });

  it('sets an absolute replica count and keeps the comment on the line', () => {
    const before = fixture('commented.yaml');
    const result = edit('commented.yaml', 'scale', '2');
    expect(changed(result)).toBe(
      before.replace('replicaCount: 1   # scaled by Rebound', 'replicaCount: 2   # scaled by Rebound'),
    );
    expect(result.changed && result.summary).toBe('replicaCount 1 → 2');
  });

  it('treats a signed value as relative (Keptn\'s older name "scaling" too)', () => {
    const before = fixture('commented.yaml');
    expect(changed(edit('commented.yaml', 'scaling', '+2'))).toBe(
      before.replace('replicaCount: 1 ', 'replicaCount: 3 '),
    );
    expect(changed(edit('flow.yaml', 'scale', '-1'))).toBe(
      fixture('flow.yaml').replace('replicaCount: 2', 'replicaCount: 1'),
    );
  });

  it('clamps to maxReplicas and says so', () => {
    const result = edit('commented.yaml', 'scale', '+10', { limits: { maxReplicas: 4 } });
    expect(changed(result)).toBe(fixture('commented.yaml').replace('replicaCount: 1 ', 'replicaCount: 4 '));
    expect(result.change).toMatchObject({ kind: 'replicas', from: 1, to: 4, requested: 11, clampedBy: 'maxReplicas' });
    expect(result.changed && result.summary).toBe('replicaCount 1 → 4 (11 clamped to maxReplicas 4)');
  });

  it('never goes below zero or minReplicas', () => {
    expect(changed(edit('commented.yaml', 'scale', '-5'))).toBe(
      fixture('commented.yaml').replace('replicaCount: 1 ', 'replicaCount: 0 '),
    );
    const result = edit('flow.yaml', 'scale', '-5', { limits: { minReplicas: 1 } });
    expect(changed(result)).toBe(fixture('flow.yaml').replace('replicaCount: 2', 'replicaCount: 1'));
    expect(result.change).toMatchObject({ clampedBy: 'minReplicas', to: 1 });
  });

  it('changes nothing, with a reason, when the count is already the target', () => {
    const result = edit('flow.yaml', 'scale', '2');
    expect(result).toMatchObject({
      changed: false,
      text: fixture('flow.yaml'),
      reason: 'replicaCount in carts/flow.yaml is already 2',
    });
    const clamped = edit('flow.yaml', 'scale', '+3', { limits: { maxReplicas: 2 } });
    expect(clamped.changed).toBe(false);
    expect(!clamped.changed && clamped.reason).toBe(
      'replicaCount in carts/flow.yaml is already 2 (5 clamped to maxReplicas 2)',
    );
  });

  it('keeps single quotes on a quoted count', () => {
    expect(changed(edit('quoted.yaml', 'scale', '3'))).toBe(
      fixture('quoted.yaml').replace("replicaCount: '1'", "replicaCount: '3'"),
    );
  });

  it('keeps CRLF line endings', () => {
    const before = fixture('crlf.yaml');
    expect(changed(edit('crlf.yaml', 'scale', '+1'))).toBe(
      before.replace('replicaCount: 1\r\n', 'replicaCount: 2\r\n'),
    );
  });

  it('follows a configured key path with 4-space indentation', () => {
    const result = edit('indent4.yaml', 'scale', '6', { replicasPath: ['carts', 'replicaCount'] });
    expect(changed(result)).toBe(fixture('indent4.yaml').replace('    replicaCount: 4', '    replicaCount: 6'));
  });

  it('keeps an anchor that nothing refers to', () => {
    expect(changed(edit('anchored-unused.yaml', 'scale', '5'))).toBe(
      fixture('anchored-unused.yaml').replace('&rc 3 #', '&rc 5 #'),
    );
  });

  it('refuses to change an anchored value that aliases share', () => {
    const err = failure(() => edit('anchors.yaml', 'scale', '3', { replicasPath: ['defaults', 'replicaCount'] }));
    expect(err.code).toBe('ValueShared');
    expect(err.message).toBe(
      'carts/anchors.yaml:2:27: defaults.replicaCount is anchored (&replicas) and used elsewhere through *replicas; refusing an edit that would also change those places',
    );
  });

  it('refuses to change an alias', () => {
    const err = failure(() => edit('anchors.yaml', 'scale', '3', { replicasPath: ['canary', 'replicaCount'] }));
    expect(err.code).toBe('ValueShared');
    expect(err.message).toContain('carts/anchors.yaml:7:17: canary.replicaCount is an alias (*replicas)');
  });

  it('refuses to edit inside an anchored map that aliases share', () => {
    const text = 'defaults: &defaults\n  replicaCount: 1\n  featureFlags: {A: true}\nstable: *defaults\n';
    const err = failure(() =>
      applyAction({ action: 'scale', value: '2' }, text, {
        file: 'v.yaml',
        replicasPath: ['defaults', 'replicaCount'],
      }),
    );
    expect(err.code).toBe('ValueShared');
    expect(err.message).toBe(
      'v.yaml:1:1: defaults is anchored (&defaults) and used elsewhere through *defaults; refusing an edit inside it that would also change those places',
    );
    expect(
      failure(() =>
        applyAction({ action: 'featuretoggle', value: 'B:on' }, text, {
          file: 'v.yaml',
          flagsPath: ['defaults', 'featureFlags'],
        }),
      ).code,
    ).toBe('ValueShared');
    // The same map without an alias pointing at it can be edited.
    const unshared = applyAction({ action: 'scale', value: '2' }, text.replace('stable: *defaults\n', ''), {
      file: 'v.yaml',
      replicasPath: ['defaults', 'replicaCount'],
    });
    expect(unshared.text).toBe('defaults: &defaults\n  replicaCount: 2\n  featureFlags: {A: true}\n');
  });

  it('refuses to edit through an aliased map', () => {
    const err = failure(() => edit('anchors.yaml', 'scale', '3', { replicasPath: ['stable', 'replicaCount'] }));
    expect(err.code).toBe('ValueShared');
    expect(err.message).toBe(
      'carts/anchors.yaml:13:9: stable is an alias (*base) of a shared map; refusing to edit through it',
    );
    expect(failure(() => edit('anchors.yaml', 'scale', '3', { replicasPath: ['base', 'replicaCount'] })).message).toBe(
      'carts/anchors.yaml:11:1: base is anchored (&base) and used elsewhere through *base; refusing an edit inside it that would also change those places',
    );
  });

  it('names the file and key when replicaCount is missing', () => {
    const err = failure(() => edit('no-replicas.yaml', 'scale', '2'));
    expect(err.code).toBe('ValueNotFound');
    expect(err.reason).toBe('ValuesFileInvalid');
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(
      'carts/no-replicas.yaml:1:1: carts/no-replicas.yaml has no replicaCount; add it (for example "replicaCount: 1") so Rebound can scale the service',
    );
  });

  it('names the file, line and key when replicaCount is not a number', () => {
    const err = failure(() => edit('not-a-number.yaml', 'scale', '2'));
    expect(err.code).toBe('ValueWrongType');
    expect(err.message).toBe('carts/not-a-number.yaml:1:15: replicaCount is "two", not a whole number of replicas');
  });

  it('reports a values file that does not parse with its position', () => {
    const err = failure(() =>
      applyAction({ action: 'scale', value: '2' }, 'replicaCount: 1\nreplicaCount: 2\n', { file: 'carts/values.yaml' }),
    );
    expect(err.code).toBe('ValuesFileInvalid');
    expect(err.message).toBe('cannot edit carts/values.yaml: carts/values.yaml:2:1: duplicated key');
  });
});

describe('scale with a HorizontalPodAutoscaler', () => {
  const hpaValues = [
    'replicaCount: 1',
    'autoscaling:',
    '  enabled: true',
    '  minReplicas: 1 # the HPA never goes below this',
    '  maxReplicas: 3',
    '',
  ].join('\n');
  const options: EditOptions = { file: 'carts/values.yaml' };

  it('raises the HPA minimum instead of the replica count the HPA overrides', () => {
    const result = applyAction({ action: 'scale', value: '+1' }, hpaValues, options);
    expect(result.changed).toBe(true);
    if (!result.changed) return;
    expect(parse(result.text)).toEqual({
      replicaCount: 1,
      autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 3 },
    });
    expect(result.text).toContain('minReplicas: 2 # the HPA never goes below this');
    expect(result.summary).toBe(
      'autoscaling.minReplicas 1 → 2 (a HorizontalPodAutoscaler owns the replica count, so its minimum is raised)',
    );
    expect(describeChange(result.change, 'carts', 'production')).toBe(
      'raise the autoscaler minimum of carts in production to 2 replicas',
    );
  });

  it('clamps to the HPA maximum and says so', () => {
    const result = applyAction({ action: 'scale', value: '5' }, hpaValues, options);
    expect(result).toMatchObject({ changed: true, change: { to: 3, requested: 5, clampedBy: 'hpaMaxReplicas' } });
  });

  it('changes nothing, with a reason, when the minimum is already the HPA maximum', () => {
    const atMax = hpaValues.replace('minReplicas: 1', 'minReplicas: 3');
    const result = applyAction({ action: 'scale', value: '+1' }, atMax, options);
    expect(result.changed).toBe(false);
    if (result.changed) return;
    expect(result.reason).toContain("clamped to the HorizontalPodAutoscaler's maxReplicas 3");
  });

  it('scales the replica count when the HPA is disabled', () => {
    const off = hpaValues.replace('enabled: true', 'enabled: false');
    const result = applyAction({ action: 'scale', value: '+1' }, off, options);
    expect(result).toMatchObject({ changed: true, change: { path: 'replicaCount', to: 2 } });
  });

  it('follows a configured minReplicasKey', () => {
    const text = 'replicaCount: 1\nhpa:\n  min: 2\n  maxReplicas: 4\n';
    const result = applyAction({ action: 'scale', value: '+1' }, text, { ...options, minReplicasPath: ['hpa', 'min'] });
    expect(result).toMatchObject({ changed: true, change: { path: 'hpa.min', from: 2, to: 3, autoscaler: true } });
  });

  it('a values file whose autoscaling is not a map scales the count', () => {
    const result = applyAction({ action: 'scale', value: '+1' }, 'replicaCount: 1\nautoscaling: false\n', options);
    expect(result).toMatchObject({ changed: true, change: { path: 'replicaCount', to: 2 } });
  });
});

describe('featuretoggle', () => {
  it('keeps an aligned trailing comment in its column', () => {
    const before = 'featureFlags:\n  EnablePromotion: true    # campaign\n  EnableItemCache: false   # cache\n';
    expect(
      changed(applyAction({ action: 'featuretoggle', value: 'EnablePromotion:off' }, before, { file: 'v.yaml' })),
    ).toBe('featureFlags:\n  EnablePromotion: false   # campaign\n  EnableItemCache: false   # cache\n');
    expect(
      changed(applyAction({ action: 'featuretoggle', value: 'EnableItemCache:on' }, before, { file: 'v.yaml' })),
    ).toBe('featureFlags:\n  EnablePromotion: true    # campaign\n  EnableItemCache: true    # cache\n');
    // One space is the minimum: the comment moves rather than touching the value.
    expect(
      changed(
        applyAction({ action: 'featuretoggle', value: 'A:off' }, 'featureFlags:\n  A: true # x\n', { file: 'v.yaml' }),
      ),
    ).toBe('featureFlags:\n  A: false # x\n');
    expect(changed(applyAction({ action: 'scale', value: '12' }, 'replicaCount: 1  # n\n', { file: 'v.yaml' }))).toBe(
      'replicaCount: 12 # n\n',
    );
  });

  it('turns a flag off in place', () => {
    const result = edit('commented.yaml', 'featuretoggle', 'EnablePromotion:off');
    expect(changed(result)).toBe(fixture('commented.yaml').replace('EnablePromotion: true', 'EnablePromotion: false'));
    expect(result.changed && result.summary).toBe('featureFlags.EnablePromotion true → false (off)');
  });

  it('adds a missing flag as one line under the existing map', () => {
    const before = fixture('commented.yaml');
    const result = edit('commented.yaml', 'featuretoggle', 'EnableNewCheckout:on');
    expect(changed(result)).toBe(
      before.replace('  EnablePromotion: true\n', '  EnablePromotion: true\n  EnableNewCheckout: true\n'),
    );
    expect(result.change).toEqual({
      kind: 'flags',
      flags: [{ path: 'featureFlags.EnableNewCheckout', flag: 'EnableNewCheckout', from: undefined, to: true }],
    });
  });

  it('sets every flag of a several-flag value in one edit', () => {
    const result = applyAction(
      { action: 'featuretoggle', value: 'A:off,B:on,C:on' },
      'featureFlags:\n  A: true\n  C: true\n',
      { file: 'v.yaml' },
    );
    expect(changed(result)).toBe('featureFlags:\n  A: false\n  C: true\n  B: true\n');
    expect(result.changed && result.summary).toBe(
      'featureFlags.A true → false (off); featureFlags.B added as true (on)',
    );
    expect(result.change).toEqual({
      kind: 'flags',
      flags: [
        { path: 'featureFlags.A', flag: 'A', from: true, to: false },
        { path: 'featureFlags.B', flag: 'B', from: undefined, to: true },
        { path: 'featureFlags.C', flag: 'C', from: true, to: true },
      ],
    });
    const same = applyAction(
      { action: 'featuretoggle', value: { A: 'off', C: 'on' } },
      'featureFlags:\n  A: false\n  C: true\n',
      { file: 'v.yaml' },
    );
    expect(same).toMatchObject({
      changed: false,
      reason: 'featureFlags.A in v.yaml is already false (off); featureFlags.C in v.yaml is already true (on)',
    });
  });

  it('creates a missing featureFlags map at the end of the file', () => {
    expect(changed(edit('no-flags.yaml', 'featuretoggle', 'EnableItemCache:on'))).toBe(
      `${fixture('no-flags.yaml')}featureFlags:\n  EnableItemCache: true\n`,
    );
  });

  it('keeps quotes on quoted flags', () => {
    const before = fixture('quoted.yaml');
    expect(changed(edit('quoted.yaml', 'featuretoggle', 'EnableItemCache:on'))).toBe(
      before.replace('EnableItemCache: "false"', 'EnableItemCache: "true"'),
    );
    expect(changed(edit('quoted.yaml', 'featuretoggle', 'EnablePromotion:off'))).toBe(
      before.replace("EnablePromotion: 'true'", "EnablePromotion: 'false'"),
    );
  });

  it('edits and extends flow maps', () => {
    const before = fixture('flow.yaml');
    expect(changed(edit('flow.yaml', 'featuretoggle', 'EnableItemCache:on'))).toBe(
      before.replace('{EnableItemCache: false,', '{EnableItemCache: true,'),
    );
    expect(changed(edit('flow.yaml', 'featuretoggle', 'EnableX:off'))).toBe(
      before.replace('EnablePromotion: true}', 'EnablePromotion: true, EnableX: false}'),
    );
    expect(
      applyAction({ action: 'featuretoggle', value: 'A:on' }, 'featureFlags: {}\n', { file: 'v.yaml' }),
    ).toMatchObject({ text: 'featureFlags: {A: true}\n' });
  });

  it('inserts with CRLF endings and the sibling indentation', () => {
    const before = fixture('crlf.yaml');
    expect(changed(edit('crlf.yaml', 'featuretoggle', 'EnablePromotion:on'))).toBe(
      before.replace('  EnableItemCache: false\r\n', '  EnableItemCache: false\r\n  EnablePromotion: true\r\n'),
    );
    const nested = edit('indent4.yaml', 'featuretoggle', 'EnablePromotion:off', {
      flagsPath: ['carts', 'featureFlags'],
    });
    expect(changed(nested)).toBe(
      fixture('indent4.yaml').replace(
        '        EnableItemCache: true\n',
        '        EnableItemCache: true\n        EnablePromotion: false\n',
      ),
    );
  });

  it('fills an empty flags key and appends at a file end without a newline', () => {
    expect(
      applyAction({ action: 'featuretoggle', value: 'A:on' }, 'replicaCount: 1\nfeatureFlags:\nother: 2\n', {
        file: 'v.yaml',
      }),
    ).toMatchObject({
      text: 'replicaCount: 1\nfeatureFlags:\n  A: true\nother: 2\n',
    });
    expect(changed(edit('no-final-newline.yaml', 'featuretoggle', 'EnablePromotion:off'))).toBe(
      `${fixture('no-final-newline.yaml')}\n  EnablePromotion: false`,
    );
  });

  it('changes nothing when the flag already has the value', () => {
    expect(edit('commented.yaml', 'featuretoggle', 'EnableItemCache:off')).toMatchObject({
      changed: false,
      text: fixture('commented.yaml'),
      reason: 'featureFlags.EnableItemCache in carts/commented.yaml is already false (off)',
    });
  });

  it('refuses a shared anchored flag and a flag that is not a boolean', () => {
    expect(
      failure(() =>
        edit('anchors.yaml', 'featuretoggle', 'EnablePromotion:off', { flagsPath: ['defaults', 'featureFlags'] }),
      ).code,
    ).toBe('ValueShared');
    const err = failure(() =>
      applyAction({ action: 'featuretoggle', value: 'A:on' }, 'featureFlags:\n  A: maybe\n', { file: 'v.yaml' }),
    );
    expect(err.message).toBe('v.yaml:2:6: featureFlags.A is "maybe", not true or false');
    expect(
      failure(() => applyAction({ action: 'featuretoggle', value: 'A:on' }, 'featureFlags: [a]\n', { file: 'v.yaml' }))
        .code,
    ).toBe('ValueParentNotAMap');
  });
});

describe('action values', () => {
  it.each([
    ['2', { mode: 'absolute', replicas: 2 }],
    [' 3 ', { mode: 'absolute', replicas: 3 }],
    [4, { mode: 'absolute', replicas: 4 }],
    ['+1', { mode: 'relative', delta: 1, rule: 'relative' }],
    ['-2', { mode: 'relative', delta: -2, rule: 'relative' }],
  ])('scale %j', (value, expected) => {
    expect(parseScaleValue(value)).toEqual(expected);
    expect(parseScaleValue(value, 'scale')).toEqual(expected);
  });

  it.each([
    // Keptn's helm-service added the value to the replicas: "1" is one more, "2" two more.
    ['1', { mode: 'relative', delta: 1, rule: 'added' }],
    [2, { mode: 'relative', delta: 2, rule: 'added' }],
    ['+1', { mode: 'relative', delta: 1, rule: 'relative' }],
    ['-1', { mode: 'relative', delta: -1, rule: 'relative' }],
  ])('scaling %j', (value, expected) => {
    expect(parseScaleValue(value, 'scaling')).toEqual(expected);
  });

  it.each([['one'], ['1.5'], [''], [-1], [null], ['+'], ['1e3']])('rejects scale %j', (value) => {
    const err = failure(() => parseScaleValue(value));
    expect(err.code).toBe('InvalidActionValue');
    expect(err.reason).toBe('InvalidActionValue');
  });

  it.each([
    ['EnablePromotion:off', { flag: 'EnablePromotion', on: false }],
    ['EnableItemCache:on', { flag: 'EnableItemCache', on: true }],
    ['EnableItemCache: ON', { flag: 'EnableItemCache', on: true }],
    [{ EnablePromotion: 'off' }, { flag: 'EnablePromotion', on: false }],
    [{ EnablePromotion: false }, { flag: 'EnablePromotion', on: false }],
    [{ EnableItemCache: 'true' }, { flag: 'EnableItemCache', on: true }],
  ])('featuretoggle %j', (value, expected) => {
    expect(parseToggleValue(value)).toEqual([expected]);
  });

  it('reads several flags, from a map or a comma-separated string, in order', () => {
    const expected = [
      { flag: 'EnableItemCache', on: true },
      { flag: 'EnablePromotion', on: false },
    ];
    expect(parseToggleValue({ EnableItemCache: 'on', EnablePromotion: 'off' })).toEqual(expected);
    expect(parseToggleValue('EnableItemCache:on,EnablePromotion:off')).toEqual(expected);
    expect(formatToggles(expected)).toBe('EnableItemCache:on,EnablePromotion:off');
  });

  it.each([
    ['EnablePromotion'],
    [':on'],
    ['Flag:maybe'],
    ['a b:on'],
    [true],
    [{}],
    ['A:on,A:off'],
    ['A:on,'],
    [{ A: 1 }],
    [Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`F${i}`, 'on']))],
  ])('rejects featuretoggle %j', (value) => {
    expect(failure(() => parseToggleValue(value)).code).toBe('InvalidActionValue');
  });

  it('rejects an unknown action', () => {
    const err = failure(() => edit('commented.yaml', 'slowdown', '100ms'));
    expect(err.code).toBe('UnknownAction');
    expect(err.message).toBe('unknown action "slowdown": Rebound knows scale, scaling, featuretoggle');
  });

  it.each([
    [5, {}, 5, undefined],
    [5, { maxReplicas: 3 }, 3, 'maxReplicas'],
    [-1, {}, 0, 'zero'],
    [0, { minReplicas: 2 }, 2, 'minReplicas'],
    [2, { minReplicas: 2, maxReplicas: 2 }, 2, undefined],
  ] as const)('clamps %d with %j to %d', (requested, limits, to, clampedBy) => {
    expect(clampReplicas(requested, limits)).toEqual(clampedBy ? { to, clampedBy } : { to });
  });

  it('describes a change for a commit subject', () => {
    expect(
      describeChange(
        { kind: 'replicas', path: 'replicaCount', from: 1, to: 2, requested: 2, rule: 'absolute' },
        'carts',
        'production',
      ),
    ).toBe('scale carts in production to 2 replicas');
    expect(
      describeChange(
        { kind: 'flags', flags: [{ path: 'featureFlags.X', flag: 'X', from: true, to: false }] },
        'carts',
        'production',
      ),
    ).toBe('turn X off for carts in production');
    const two = [
      { path: 'featureFlags.X', flag: 'X', from: true, to: false },
      { path: 'featureFlags.Y', flag: 'Y', from: undefined, to: true },
    ];
    expect(describeChange({ kind: 'flags', flags: two }, 'carts', 'production')).toBe(
      'turn X off, Y on for carts in production',
    );
  });
});

describe('every fixture: the edit changes the one value and nothing else', () => {
  const editable = [
    'commented.yaml',
    'anchored-unused.yaml',
    'quoted.yaml',
    'crlf.yaml',
    'flow.yaml',
    'no-flags.yaml',
    'no-final-newline.yaml',
  ];

  /** +/- lines of a unified diff, without the file headers. */
  function changedLines(diff: string): string[] {
    return diff.split('\n').filter((l) => /^[+-](?![+-]{2} [ab]\/)/.test(l));
  }

  it.each(editable)('%s', (name) => {
    const before = fixture(name);
    const original = parse(before) as Record<string, unknown>;
    const flags = (original['featureFlags'] ?? {}) as Record<string, boolean>;
    const cases: [string, string, (js: Record<string, unknown>) => void][] = [
      [
        'featuretoggle',
        'BrandNewFlag:on',
        // A new flag is written as its neighbours are: a string beside quoted flags.
        (js) =>
          void (js['featureFlags'] = {
            ...flags,
            BrandNewFlag: Object.values(flags).some((v) => typeof v === 'string') ? 'true' : true,
          }),
      ],
      ...Object.entries(flags).map(([flag, on]): [string, string, (js: Record<string, unknown>) => void] => [
        'featuretoggle',
        `${flag}:${on === true || String(on) === 'true' ? 'off' : 'on'}`,
        (js) =>
          void (js['featureFlags'] = { ...flags, [flag]: typeof on === 'string' ? String(!(on === 'true')) : !on }),
      ]),
    ];
    if ('replicaCount' in original) {
      const count = Number(original['replicaCount']);
      cases.push([
        'scale',
        '+1',
        (js) =>
          void (js['replicaCount'] = typeof original['replicaCount'] === 'string' ? String(count + 1) : count + 1),
      ]);
    }
    for (const [action, value, expectChange] of cases) {
      const result = applyAction({ action, value }, before, { file: name });
      const expected = structuredClone(original);
      expectChange(expected);
      expect(parse(result.text), `${action} ${value}`).toEqual(expected);
      const lines = changedLines(unifiedDiff(name, before, result.text));
      const added = lines.filter((l) => l.startsWith('+')).length;
      const removed = lines.filter((l) => l.startsWith('-')).length;
      // One line replaced, or one or two lines added (a flag, or a new flags map and its flag); a file
      // without a final newline also shows its old last line as replaced.
      expect(removed, `${action} ${value}: ${lines.join(' | ')}`).toBeLessThanOrEqual(1);
      expect(added, `${action} ${value}: ${lines.join(' | ')}`).toBeLessThanOrEqual(
        removed === 1 && name !== 'no-final-newline.yaml' ? 1 : 3,
      );
      if (before.includes('\r\n')) expect(result.text.replaceAll('\r\n', '')).not.toContain('\n');
    }
  });
});

describe('a file of several documents (rendered manifests, as `helm template` writes them)', () => {
  const name = 'rendered-manifests.yaml';
  const manifests = { replicasPath: ['spec', 'replicas'], flagsPath: ['data'] };

  /** The diff's changed lines, without the file headers. */
  function changes(before: string, after: string): string[] {
    return unifiedDiff(name, before, after)
      .split('\n')
      .filter((l) => /^[+-](?![+-]{2} [ab]\/)/.test(l));
  }

  it("scales the Deployment's spec.replicas: one line, nothing else", () => {
    const before = fixture(name);
    const after = changed(edit(name, 'scale', '+1', manifests));
    expect(changes(before, after)).toEqual(['-  replicas: 1', '+  replicas: 2']);
  });

  it("turns a flag off in the ConfigMap's data, keeping its quotes (a ConfigMap holds strings)", () => {
    const before = fixture(name);
    const after = changed(edit(name, 'featuretoggle', 'EnablePromotion:off', manifests));
    expect(changes(before, after)).toEqual(['-  EnablePromotion: "true"', '+  EnablePromotion: "false"']);
  });

  it('adds a new flag to the one document that has the flags map, quoted: a ConfigMap holds strings', () => {
    const after = changed(edit(name, 'featuretoggle', 'NewCheckout:on', manifests));
    expect(after).toContain('  EnableItemCache: "false"\n  NewCheckout: "true"\n---');
    // The ConfigMap as the API server would take it: every data value a string.
    const configMap = parseAllDocuments(after)
      .map((d) => d.toJS() as { kind?: string; data?: Record<string, unknown> })
      .find((d) => d.kind === 'ConfigMap');
    expect(Object.values(configMap?.data ?? {}).every((v) => typeof v === 'string')).toBe(true);
    // An empty data map has no neighbour to copy: still quoted.
    const empty = fixture(name).replace(/^data:\n( {2}.*\n)+/m, 'data: {}\n');
    const added = applyAction({ action: 'featuretoggle', value: 'NewCheckout:off' }, empty, {
      file: name,
      ...manifests,
    });
    expect(changed(added)).toContain('data: {NewCheckout: "false"}');
  });

  it('quotes a new flag in a values file when the flags beside it are quoted, and not otherwise', () => {
    const quoted = "featureFlags:\n  EnablePromotion: 'true'\n";
    expect(changed(applyAction({ action: 'featuretoggle', value: 'New:on' }, quoted, { file: 'values.yaml' }))).toBe(
      "featureFlags:\n  EnablePromotion: 'true'\n  New: 'true'\n",
    );
    const plain = 'featureFlags:\n  EnablePromotion: true\n';
    expect(changed(applyAction({ action: 'featuretoggle', value: 'New:on' }, plain, { file: 'values.yaml' }))).toBe(
      'featureFlags:\n  EnablePromotion: true\n  New: true\n',
    );
  });

  it('refuses a key path that two documents could hold, naming them', () => {
    // No document has spec.replicas: the Service and the Deployment both have spec.
    const noReplicas = fixture(name).replace('  replicas: 1\n', '');
    const err = failure(() => applyAction({ action: 'scale', value: '+1' }, noReplicas, { file: name, ...manifests }));
    expect(err.code).toBe('ValueAmbiguous');
    expect(err.reason).toBe('ValuesFileInvalid');
    expect(err.message).toBe(
      `${name}: spec (on the way to spec.replicas) is in documents 2 (Service carts) and 3 (Deployment carts); ` +
        'a key path must lead into one document: give a longer path that only one object has, or keep the objects in separate files',
    );
    // Two Deployments both hold spec.replicas.
    const two = `${fixture(name)}---\n${fixture(name).split('---\n').at(-1)?.replace('name: carts', 'name: carts-canary') ?? ''}`;
    const both = failure(() => applyAction({ action: 'scale', value: '+1' }, two, { file: name, ...manifests }));
    expect(both.message).toContain(
      'spec.replicas is in documents 3 (Deployment carts) and 4 (Deployment carts-canary)',
    );
  });

  it('names the line of a wrong value in the whole file', () => {
    const text = fixture(name).replace('replicas: 1', 'replicas: many');
    const err = failure(() => applyAction({ action: 'scale', value: '+1' }, text, { file: name, ...manifests }));
    const line = text.split('\n').findIndex((l) => l.includes('replicas: many')) + 1;
    expect(err.message).toContain(`${name}:${String(line)}:`);
  });

  it('refuses a file whose second document does not parse, naming its line', () => {
    const text = fixture(name).replace('kind: Service', 'kind: [Service');
    const err = failure(() => applyAction({ action: 'scale', value: '+1' }, text, { file: name, ...manifests }));
    expect(err.code).toBe('ValuesFileInvalid');
  });
});

describe('the HorizontalPodAutoscaler check in a file of several documents', () => {
  const name = 'rendered-manifests.yaml';
  const hpa = [
    '---',
    '# Source: carts/templates/hpa.yaml',
    'apiVersion: autoscaling/v2',
    'kind: HorizontalPodAutoscaler',
    'metadata:',
    '  name: carts',
    'spec:',
    '  minReplicas: 1',
    '  maxReplicas: 3',
    '',
  ].join('\n');
  const keys = { file: name, replicasPath: ['spec', 'replicas'], flagsPath: ['data'] };

  it("raises the HPA object's spec.minReplicas, clamped to its spec.maxReplicas, and leaves the Deployment", () => {
    const before = fixture(name) + hpa;
    const result = applyAction({ action: 'scale', value: '+5' }, before, {
      ...keys,
      minReplicasPath: ['spec', 'minReplicas'],
    });
    expect(result).toMatchObject({
      changed: true,
      change: { path: 'spec.minReplicas', from: 1, to: 3, clampedBy: 'hpaMaxReplicas', autoscaler: true },
    });
    expect(changed(result)).toBe(before.replace('  minReplicas: 1', '  minReplicas: 3'));
  });

  it('without an HPA document, spec.minReplicas leads nowhere and scale edits the Deployment', () => {
    // spec is in the Service and the Deployment alike: the check finds no HPA instead of refusing.
    const result = applyAction({ action: 'scale', value: '+1' }, fixture(name), {
      ...keys,
      minReplicasPath: ['spec', 'minReplicas'],
    });
    expect(changed(result)).toBe(fixture(name).replace('  replicas: 1', '  replicas: 2'));
  });

  it('with the default autoscaling.minReplicas, which no document has, scale edits the Deployment', () => {
    const result = applyAction({ action: 'scale', value: '+1' }, fixture(name), keys);
    expect(result).toMatchObject({ changed: true, change: { path: 'spec.replicas', from: 1, to: 2 } });
  });

  it('a featuretoggle key no document has is added to the first document, as in a one-document file', () => {
    const result = applyAction({ action: 'featuretoggle', value: 'NewCheckout:on' }, fixture(name), {
      file: name,
    });
    const after = changed(result);
    expect(after.split('---\n').slice(2)).toEqual(fixture(name).split('---\n').slice(2));
    expect(after.split('---\n')[1]).toContain('featureFlags:\n  NewCheckout: true\n');
  });
});
