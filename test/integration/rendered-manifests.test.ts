// Rebound's edits of manifests rendered by the real `helm template` (what a team that lets Flux or
// Argo CD apply plain manifests keeps on its branches) give the file Helm itself renders from the
// new values: the same bytes, so the pod template's checksum of the flags ConfigMap follows a flag
// and the pods that read the flags at start roll out, as after a `helm upgrade`.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scaleReplicas, toggleFeature } from '../../src/remediation/value-edits.ts';
import type { EditResult } from '../../src/remediation/value-edits.ts';
import { editsOf, undoEdits } from '../../src/remediation/revert.ts';
import { restoreKeys } from '../../src/remediation/holds.ts';
import { runCommand } from '../harness/process.ts';
import { toolPath } from '../harness/tools.ts';
import { REPO_ROOT } from '../harness/world.ts';

const CHART = join(REPO_ROOT, 'examples', 'sockshop', 'carts', 'chart');
const FILE = 'carts/manifests/carts.yaml';
const KEYS = { file: FILE, replicasPath: ['spec', 'replicas'], flagsPath: ['data'] };

/** `helm template carts chart` with these values, under the header the demo writes. */
async function helmTemplate(set: string[]): Promise<string> {
  const args = ['template', 'carts', CHART, ...set.flatMap((s) => ['--set', s])];
  const { stdout } = await runCommand(toolPath('helm'), args);
  return `# carts rendered by helm template, applied by Flux.\n${stdout}`;
}

const checksum = (text: string): string | undefined => /checksum\/feature-flags: ([0-9a-f]{64})/.exec(text)?.[1];

function edited(result: EditResult): string {
  if (!result.changed) throw new Error(`expected a change: ${result.reason}`);
  return result.text;
}

describe('edits of manifests rendered by helm template (real helm)', () => {
  const flags = (promotion: boolean, cache: boolean): string[] => [
    `featureFlags.EnablePromotion=${String(promotion)}`,
    `featureFlags.EnableItemCache=${String(cache)}`,
  ];

  it("a flag turned off gives helm's own render: the ConfigMap and the pods' checksum of it", async () => {
    const before = await helmTemplate(flags(true, false));
    const result = toggleFeature(before, [{ flag: 'EnablePromotion', on: false }], KEYS);
    const after = edited(result);
    expect(after).toBe(await helmTemplate(flags(false, false)));
    expect(checksum(after)).not.toBe(checksum(before));
    if (!result.changed) throw new Error('unreachable');
    expect(result.summary).toContain('checksum/feature-flags updated');
    // Two flags at once, and back: each render matches, and the undo gives the first file again.
    const both = edited(
      toggleFeature(
        before,
        [
          { flag: 'EnablePromotion', on: false },
          { flag: 'EnableItemCache', on: true },
        ],
        KEYS,
      ),
    );
    expect(both).toBe(await helmTemplate(flags(false, true)));
    const undone = undoEdits(FILE, after, editsOf(result.change));
    expect(undone.conflicts).toEqual([]);
    expect(undone.text).toBe(before);
  });

  it('a hold writing the flag again restores the checksum with it', async () => {
    const remediated = await helmTemplate(flags(false, false));
    const setBack = await helmTemplate(flags(true, false));
    const restored = restoreKeys(FILE, setBack, [{ key: 'data.EnablePromotion', wanted: 'false', found: 'true' }]);
    expect(restored).toBe(remediated);
  });

  it('a replica change touches the Deployment only, as helm renders it', async () => {
    const before = await helmTemplate(['replicaCount=1']);
    const after = edited(scaleReplicas(before, { mode: 'absolute', replicas: 2 }, KEYS));
    expect(after).toBe(await helmTemplate(['replicaCount=2']));
    expect(checksum(after)).toBe(checksum(before));
  });
});
