import { describe, expect, it } from 'vitest';
import { describeEdits, editsOf, undoEdits } from './revert.ts';

describe('undoEdits', () => {
  it('sets each key back, the last edit first', () => {
    const edits = [
      ...editsOf({ kind: 'replicas', path: 'replicaCount', from: 1, to: 2, requested: 2, rule: 'relative' }),
      ...editsOf({ kind: 'replicas', path: 'replicaCount', from: 2, to: 3, requested: 3, rule: 'relative' }),
    ];
    const result = undoEdits('carts/values.yaml', 'replicaCount: 3 # pods\nimage: x\n', edits);
    expect(result.text).toBe('replicaCount: 1 # pods\nimage: x\n');
    expect(result.conflicts).toEqual([]);
    expect(describeEdits(result.undone)).toBe('replicaCount 3 → 2, replicaCount 2 → 1');
    // Undoing the undo restores the remediated value.
    expect(undoEdits('carts/values.yaml', result.text, result.undone).text).toBe('replicaCount: 3 # pods\nimage: x\n');
  });

  it('leaves a key someone changed since, and says what it found', () => {
    const edits = editsOf({ kind: 'replicas', path: 'replicaCount', from: 1, to: 2, requested: 2, rule: 'relative' });
    const result = undoEdits('carts/values.yaml', 'replicaCount: 5\n', edits);
    expect(result.text).toBe('replicaCount: 5\n');
    expect(result.undone).toEqual([]);
    expect(result.conflicts).toEqual([{ key: 'replicaCount', wrote: '2', found: '5' }]);
  });

  it('reports a key that is gone, and leaves a key the edit added', () => {
    const edits = editsOf({
      kind: 'flags',
      flags: [
        { path: 'featureFlags.A', flag: 'A', from: true, to: false },
        { path: 'featureFlags.B', flag: 'B', from: undefined, to: true },
      ],
    });
    const result = undoEdits('v.yaml', 'featureFlags:\n  B: true\n', edits);
    expect(result.added).toEqual(['featureFlags.B']);
    expect(result.conflicts).toEqual([{ key: 'featureFlags.A', wrote: 'false', found: undefined }]);
    const quoted = undoEdits('v.yaml', 'featureFlags:\n  A: "false"\n', edits.slice(0, 1));
    expect(quoted.text).toBe('featureFlags:\n  A: "true"\n');
  });
});

describe('undoEdits in a file of several documents', () => {
  const manifests =
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: carts-feature-flags\ndata:\n  EnablePromotion: "false"\n' +
    '---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: carts\nspec:\n  replicas: 2\n';

  it("sets back the Deployment's replicas and the ConfigMap's flag, each in its own document", () => {
    const edits = [
      ...editsOf({ kind: 'replicas', path: 'spec.replicas', from: 1, to: 2, requested: 2, rule: 'relative' }),
      ...editsOf({
        kind: 'flags',
        flags: [{ path: 'data.EnablePromotion', flag: 'EnablePromotion', from: true, to: false }],
      }),
    ];
    const result = undoEdits('carts/manifests.yaml', manifests, edits);
    expect(result.text).toBe(manifests.replace('replicas: 2', 'replicas: 1').replace('"false"', '"true"'));
    expect(result.conflicts).toEqual([]);
  });
});
