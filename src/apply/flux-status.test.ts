import { describe, expect, it } from 'vitest';
import {
  combineStates,
  kustomizationState,
  pathHolds,
  revisionCommit,
  sameRepository,
  trackingKustomizations,
} from './flux-status.ts';
import type { GitRepository, Kustomization } from './flux-status.ts';

const SHA = 'a'.repeat(40);
const OTHER = 'b'.repeat(40);

describe('revisionCommit', () => {
  it.each([
    [`production@sha1:${SHA}`, SHA],
    [`sha1:${SHA}`, SHA],
    [`production/${SHA}`, SHA],
    [`feature/x@sha1:${SHA}`, SHA],
    ['latest@sha256:' + 'c'.repeat(64), undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%s → %s', (revision, sha) => {
    expect(revisionCommit(revision)).toBe(sha);
  });
});

describe('matching a stage to its Kustomizations', () => {
  it('compares repository URLs without credentials, case of the host, .git or a trailing slash', () => {
    expect(sameRepository('http://user:pw@Git.example:8080/team/app.git', 'http://git.example:8080/team/app/')).toBe(
      true,
    );
    expect(sameRepository('http://git.example/team/app', 'http://git.example/team/other')).toBe(false);
    expect(sameRepository('http://git.example:8080/team/app', 'http://git.example:9090/team/app')).toBe(false);
  });

  it.each([
    ['./carts', 'carts/deployment.yaml', true],
    ['./carts/', 'carts/values.yaml', true],
    ['carts', 'carts-db/values.yaml', false],
    ['./', 'carts/values.yaml', true],
    [undefined, 'carts/values.yaml', true],
    ['./apps/carts', 'carts/values.yaml', false],
  ])('path %s holds %s: %s', (path, file, holds) => {
    expect(pathHolds(path, file)).toBe(holds);
  });

  it('picks the Kustomizations whose GitRepository tracks the branch of the repository and whose path holds the file', () => {
    const repo = (name: string, branch: string, url = 'http://127.0.0.1:1/sockshop.git'): GitRepository => ({
      metadata: { namespace: 'flux-system', name },
      spec: { url, ref: { branch } },
    });
    const ks = (name: string, source: string, path: string, namespace = 'flux-system'): Kustomization => ({
      metadata: { namespace, name },
      spec: {
        path,
        sourceRef: {
          kind: 'GitRepository',
          name: source,
          ...(namespace === 'flux-system' ? {} : { namespace: 'flux-system' }),
        },
      },
    });
    const found = trackingKustomizations(
      [
        ks('carts', 'prod', './carts'),
        ks('db', 'prod', './carts-db'),
        ks('staging', 'staging', './carts'),
        ks('other-repo', 'elsewhere', './carts'),
        ks('all', 'prod', './', 'team-a'),
      ],
      [
        repo('prod', 'production'),
        repo('staging', 'staging'),
        repo('elsewhere', 'production', 'http://127.0.0.1:1/other.git'),
      ],
      { repoUrl: 'http://127.0.0.1:1/sockshop', branch: 'production', file: 'carts/values.yaml' },
    );
    expect(found.map((k) => `${k.metadata?.namespace}/${k.metadata?.name}`)).toEqual([
      'flux-system/carts',
      'team-a/all',
    ]);
  });
});

describe('kustomizationState', () => {
  const ks = (status: Kustomization['status'], annotations: Record<string, string> = {}): Kustomization => ({
    metadata: { namespace: 'flux-system', name: 'carts', annotations },
    spec: { path: './carts', sourceRef: { kind: 'GitRepository', name: 'prod' } },
    ...(status ? { status } : {}),
  });
  const ready = (status: string, reason: string, message = '') => [{ type: 'Ready', status, reason, message }];
  const source: GitRepository = {
    metadata: { namespace: 'flux-system', name: 'prod' },
    status: {
      artifact: { revision: `production@sha1:${OTHER}` },
      conditions: ready('False', 'GitOperationFailed', 'authentication required'),
    },
  };
  const none = { applied: false, attempted: false, fetched: false };

  it('is synced when the applied revision holds the commit and the Kustomization is Ready', () => {
    const state = kustomizationState(
      ks({ lastAppliedRevision: `production@sha1:${SHA}`, conditions: ready('True', 'ReconciliationSucceeded') }),
      undefined,
      { applied: true, attempted: true, fetched: true },
    );
    expect(state).toEqual({
      kind: 'synced',
      revision: `production@sha1:${SHA}`,
      detail: `Kustomization flux-system/carts applied production@sha1:${SHA}`,
    });
  });

  it('is not synced while Ready is not True, even with the revision applied (health checks running)', () => {
    const state = kustomizationState(
      ks({
        lastAppliedRevision: `production@sha1:${SHA}`,
        conditions: ready('Unknown', 'Progressing', 'Reconciliation in progress'),
      }),
      undefined,
      { applied: true, attempted: true, fetched: true },
    );
    expect(state).toEqual({
      kind: 'pending',
      detail: 'Kustomization flux-system/carts is applying (Ready Unknown: Reconciliation in progress)',
    });
  });

  it("fails with Flux's message when the attempted revision holds the commit and Ready is False", () => {
    const state = kustomizationState(
      ks({
        lastAttemptedRevision: `production@sha1:${SHA}`,
        conditions: ready('False', 'BuildFailed', 'kustomize build failed: missing resource'),
      }),
      undefined,
      { applied: false, attempted: true, fetched: true },
    );
    expect(state).toEqual({
      kind: 'failed',
      detail: `Kustomization flux-system/carts failed at production@sha1:${SHA}: BuildFailed: kustomize build failed: missing resource`,
    });
  });

  it('does not blame the commit for a failure of an older revision', () => {
    const state = kustomizationState(
      ks({
        lastAttemptedRevision: `production@sha1:${OTHER}`,
        conditions: ready('False', 'BuildFailed', 'old failure'),
      }),
      source,
      none,
    );
    expect(state.kind).toBe('pending');
    expect(state.detail).toBe(
      `GitRepository flux-system/prod has not fetched the commit yet (at production@sha1:${OTHER}): GitOperationFailed: authentication required`,
    );
  });

  it('says when the reconcile request has not been handled (the controller may be down)', () => {
    const state = kustomizationState(
      ks(
        { lastHandledReconcileAt: 'earlier', conditions: ready('True', 'ReconciliationSucceeded') },
        { 'reconcile.fluxcd.io/requestedAt': '2026-12-02T10:00:00Z' },
      ),
      undefined,
      { applied: false, attempted: false, fetched: true },
    );
    expect(state).toEqual({
      kind: 'pending',
      detail: 'Kustomization flux-system/carts has not handled the reconcile request of 2026-12-02T10:00:00Z yet',
    });
  });

  it('combines objects: synced only when all are, failed when any is', () => {
    const synced = { kind: 'synced', revision: 'r', detail: 'a' } as const;
    expect(combineStates([synced, { kind: 'pending', detail: 'b' }]).kind).toBe('pending');
    expect(
      combineStates([
        { kind: 'pending', detail: 'b' },
        { kind: 'failed', detail: 'c' },
      ]),
    ).toEqual({ kind: 'failed', detail: 'c' });
    expect(combineStates([synced, { ...synced, detail: 'd' }])).toEqual({
      kind: 'synced',
      revision: 'r',
      detail: 'a; d',
    });
    expect(combineStates([]).kind).toBe('untracked');
  });
});
