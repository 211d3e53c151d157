import { describe, expect, it } from 'vitest';
import { REMOVED, describeSetBack, restoreKeys, setBackKeys } from './holds.ts';

const before =
  '# carts\nreplicaCount: 1   # scaled by Rebound\nimage:\n  tag: 0.1.0\nfeatureFlags:\n  EnablePromotion: true\n';
const written = before.replace('replicaCount: 1', 'replicaCount: 2');

describe('setBackKeys', () => {
  it('finds the next deploy resetting replicaCount', () => {
    const head = written.replace('replicaCount: 2', 'replicaCount: 1').replace('tag: 0.1.0', 'tag: 0.2.0');
    expect(setBackKeys(before, written, head)).toEqual([{ key: 'replicaCount', wanted: '2', found: '1' }]);
    expect(describeSetBack(setBackKeys(before, written, head))).toEqual(['replicaCount: 2 → 1']);
  });

  it('ignores a push that changes only values Rebound did not write', () => {
    const head = written.replace('tag: 0.1.0', 'tag: 0.2.0').replace('EnablePromotion: true', 'EnablePromotion: false');
    expect(setBackKeys(before, written, head)).toEqual([]);
  });

  it('keeps a value Rebound wrote that is still there, with other formatting', () => {
    expect(setBackKeys(before, written, written.replace('# carts\n', ''))).toEqual([]);
  });

  it('reports any other value, not only the one before, and nested keys', () => {
    const b = 'featureFlags:\n  EnablePromotion: true\nreplicaCount: 2\n';
    const w = 'featureFlags:\n  EnablePromotion: false\nreplicaCount: 2\n';
    const h = 'featureFlags: {EnablePromotion: true}\nreplicaCount: 3\n';
    expect(setBackKeys(b, w, h)).toEqual([{ key: 'featureFlags.EnablePromotion', wanted: 'false', found: 'true' }]);
  });

  it('a removed key or file sets the value back; an unparsable head sets nothing back', () => {
    expect(setBackKeys(before, written, 'image:\n  tag: 0.1.0\n')).toEqual([
      { key: 'replicaCount', wanted: '2', found: REMOVED },
    ]);
    expect(setBackKeys(before, written, undefined)).toEqual([{ key: 'replicaCount', wanted: '2', found: REMOVED }]);
    expect(setBackKeys(before, written, 'replicaCount: [1\n')).toEqual([]);
  });

  it('a quoted "2" written and a bare 2 found are the same value', () => {
    const w = before.replace('replicaCount: 1', 'replicaCount: "2"');
    expect(setBackKeys(before, w, written)).toEqual([]);
  });

  it('an added key that the head lacks is set back', () => {
    const b = 'featureFlags:\n  A: true\n';
    const w = 'featureFlags:\n  A: true\n  B: false\n';
    expect(setBackKeys(b, w, b)).toEqual([{ key: 'featureFlags.B', wanted: 'false', found: REMOVED }]);
  });
});

describe('restoreKeys', () => {
  it('writes the wanted values back in place, keeping comments, quoting and other changes', () => {
    const head = written.replace('replicaCount: 2', 'replicaCount: 1').replace('tag: 0.1.0', 'tag: 0.2.0');
    const keys = setBackKeys(before, written, head);
    const restored = restoreKeys('carts/values.yaml', head, keys);
    expect(restored).toBe(written.replace('tag: 0.1.0', 'tag: 0.2.0'));
    expect(setBackKeys(before, written, restored)).toEqual([]);
    expect(restoreKeys('v.yaml', 'replicaCount: "1"\n', [{ key: 'replicaCount', wanted: '2', found: '1' }])).toBe(
      'replicaCount: "2"\n',
    );
  });

  it('adds a removed key back', () => {
    const restored = restoreKeys('v.yaml', 'featureFlags:\n  A: true\n', [
      { key: 'featureFlags.B', wanted: 'false', found: REMOVED },
    ]);
    expect(restored).toBe('featureFlags:\n  A: true\n  B: false\n');
  });
});

describe('holds in a file of several documents', () => {
  const doc = (replicas: string, tag: string): string =>
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: carts-feature-flags\ndata:\n  EnablePromotion: "true"\n' +
    `---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: carts\nspec:\n  replicas: ${replicas}\n` +
    `  template:\n    spec:\n      containers:\n        - image: carts:${tag}\n`;

  it("finds the next render resetting the Deployment's replicas, and writes them back in that document", () => {
    const head = doc('1', '0.2.0');
    const keys = setBackKeys(doc('1', '0.1.0'), doc('2', '0.1.0'), head);
    expect(keys).toEqual([{ key: 'spec.replicas', wanted: '2', found: '1' }]);
    expect(restoreKeys('carts/manifests.yaml', head, keys)).toBe(doc('2', '0.2.0'));
  });

  it('a render that changes only the image breaks no hold', () => {
    expect(setBackKeys(doc('1', '0.1.0'), doc('2', '0.1.0'), doc('2', '0.2.0'))).toEqual([]);
  });
});
