import { describe, expect, it } from 'vitest';
import type { Project } from '../../api/index.ts';
import type { GitStore } from '../../gitstore/store.ts';
import { CachedProjectLookup } from './project-lookup.ts';

const SHIPYARD = `apiVersion: spec.keptn.sh/0.2.2
kind: Shipyard
metadata:
  name: shipyard-sockshop
spec:
  stages:
    - name: production
      sequences:
        - name: remediation
          tasks:
            - name: action
`;

function world(project: Project): { lookup: CachedProjectLookup; reads: () => number } {
  let reads = 0;
  const store = {
    readFile: (_branch: string, path: string) => {
      reads++;
      return Promise.resolve(
        path === 'shipyard.yaml' ? { text: SHIPYARD, commit: 'a'.repeat(40), blob: 'b'.repeat(40) } : undefined,
      );
    },
  } as unknown as GitStore;
  const empty = { get: () => undefined, list: () => [] };
  return {
    lookup: new CachedProjectLookup({ get: () => project, list: () => [project] }, empty, {
      storeFor: () => Promise.resolve(store),
    }),
    reads: () => reads,
  };
}

const base: Project = {
  apiVersion: 'rebound.dev/v1alpha1',
  kind: 'Project',
  metadata: { name: 'sockshop', namespace: 'team', generation: 2 },
  spec: { git: { url: 'http://127.0.0.1:1/sockshop.git' } },
};

describe('CachedProjectLookup.resolveStage', () => {
  it('uses the stages the Project controller recorded for the current generation, without reading Git', async () => {
    const project: Project = {
      ...base,
      status: {
        observedGeneration: 2,
        stages: [
          {
            name: 'production',
            branch: 'prod',
            namespace: 'shop-prod',
            remediation: 'automated',
            apply: 'kubernetes',
            commit: 'c'.repeat(40),
          },
        ],
      },
    };
    const { lookup, reads } = world(project);
    expect(await lookup.resolveStage(project, 'production')).toEqual({
      name: 'production',
      branch: 'prod',
      namespace: 'shop-prod',
      remediation: 'automated',
      apply: 'kubernetes',
    });
    expect(await lookup.resolveStage(project, 'staging')).toBeUndefined();
    expect(reads()).toBe(0);
  });

  it('reads shipyard.yaml when the recorded stages describe an older spec, or none were recorded yet', async () => {
    const stale: Project = {
      ...base,
      status: { observedGeneration: 1, stages: [{ name: 'production', branch: 'old', remediation: 'automated' }] },
    };
    const { lookup, reads } = world(stale);
    expect(await lookup.resolveStage(stale, 'production')).toMatchObject({
      branch: 'production',
      namespace: 'sockshop-production',
      remediation: 'automated',
      apply: 'helm',
    });
    expect(await lookup.resolveStage(base, 'production')).toMatchObject({ branch: 'production' });
    expect(reads()).toBe(2);
  });
});
