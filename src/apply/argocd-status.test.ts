import { describe, expect, it } from 'vitest';
import { applicationState, syncedRevisions, trackingApplications } from './argocd-status.ts';
import type { Application } from './argocd-status.ts';

const REPO = 'http://git.example.com/sockshop.git';
const SHA = 'a'.repeat(40);

const app = (
  name: string,
  source: NonNullable<Application['spec']>,
  status: NonNullable<Application['status']> = {},
): Application => ({
  metadata: { name, namespace: 'argocd' },
  spec: source,
  status,
});

describe('trackingApplications', () => {
  const apps = [
    app('carts-prod', { source: { repoURL: `${REPO}/`, targetRevision: 'production', path: 'carts' } }),
    app('all-prod', {
      sources: [{ repoURL: 'http://other/x' }, { repoURL: REPO, targetRevision: 'refs/heads/production' }],
    }),
    app('carts-dev', { source: { repoURL: REPO, targetRevision: 'dev', path: 'carts' } }),
    app('orders-prod', { source: { repoURL: REPO, targetRevision: 'production', path: 'orders' } }),
    app('head', { source: { repoURL: REPO, targetRevision: 'HEAD', path: 'carts' } }),
    app('other-repo', { source: { repoURL: 'http://git.example.com/other.git', targetRevision: 'production' } }),
  ];

  it('finds the Applications on the branch of the repository whose path holds the file, by key', () => {
    const found = trackingApplications(apps, { repoUrl: REPO, branch: 'production', file: 'carts/values.yaml' });
    expect(found.map((a) => a.metadata?.name)).toEqual(['all-prod', 'carts-prod']);
  });

  it('finds none for a branch nobody tracks', () => {
    expect(trackingApplications(apps, { repoUrl: REPO, branch: 'staging', file: 'carts/values.yaml' })).toEqual([]);
  });
});

describe('applicationState', () => {
  const synced = { synced: true, operated: true };
  const notYet = { synced: false, operated: false };

  it('is synced once the commit is synced and the Application Healthy', () => {
    const a = app('carts', {}, { sync: { status: 'Synced', revision: SHA }, health: { status: 'Healthy' } });
    expect(applicationState(a, synced)).toEqual({
      kind: 'synced',
      revision: SHA,
      detail: `Application argocd/carts synced ${SHA}, Healthy`,
    });
  });

  it('waits for health after the sync, and fails on Degraded', () => {
    const progressing = app(
      'carts',
      {},
      { sync: { status: 'Synced', revision: SHA }, health: { status: 'Progressing', message: '1 of 3 updated' } },
    );
    expect(applicationState(progressing, synced)).toEqual({
      kind: 'pending',
      detail: 'Application argocd/carts synced, health Progressing: 1 of 3 updated',
    });
    const degraded = app(
      'carts',
      {},
      { sync: { status: 'Synced', revision: SHA }, health: { status: 'Degraded', message: 'crash loop' } },
    );
    expect(applicationState(degraded, synced).kind).toBe('failed');
  });

  it("reports a failed sync of the commit with Argo CD's message", () => {
    const a = app(
      'carts',
      {},
      {
        sync: { status: 'OutOfSync', revision: 'b'.repeat(40) },
        operationState: { phase: 'Failed', message: 'one or more objects failed to apply' },
      },
    );
    expect(applicationState(a, { synced: false, operated: true })).toEqual({
      kind: 'failed',
      detail: 'Application argocd/carts failed to sync: Failed: one or more objects failed to apply',
    });
    // A failed operation on an older commit says nothing about ours.
    expect(applicationState(a, notYet).kind).toBe('pending');
  });

  it('reports a sync of the commit that failed and that Argo CD retries, with its message', () => {
    const retrying = app(
      'carts',
      {},
      {
        sync: { status: 'OutOfSync', revision: SHA },
        operationState: {
          phase: 'Running',
          retryCount: 1,
          message:
            'one or more objects failed to apply, reason: ConfigMap "X" is invalid. Retrying attempt #1 at 7:14AM.',
        },
      },
    );
    expect(applicationState(retrying, { synced: true, operated: true })).toEqual({
      kind: 'failed',
      detail:
        'Application argocd/carts failed to sync, Argo CD retries: one or more objects failed to apply, reason: ConfigMap "X" is invalid. Retrying attempt #1 at 7:14AM.',
    });
    // Running without a failed try yet: still waiting.
    const running = app(
      'carts',
      {},
      { sync: { status: 'OutOfSync', revision: SHA }, operationState: { phase: 'Running' } },
    );
    expect(applicationState(running, { synced: true, operated: true }).kind).toBe('pending');
  });

  it('says what it waits for: the refresh request, the commit', () => {
    const asked: Application = {
      ...app('carts', {}, { sync: { status: 'Synced', revision: 'b'.repeat(40) } }),
      metadata: { name: 'carts', namespace: 'argocd', annotations: { 'argocd.argoproj.io/refresh': 'normal' } },
    };
    expect(applicationState(asked, notYet).detail).toBe(
      'Application argocd/carts has not handled the refresh request yet',
    );
    const old = app('carts', {}, { sync: { status: 'Synced', revision: 'b'.repeat(40) } });
    expect(applicationState(old, notYet).detail).toBe(
      `Application argocd/carts has not synced the commit yet (at ${'b'.repeat(40)}): Synced`,
    );
  });
});

describe('syncedRevisions', () => {
  it('reads one source or several', () => {
    expect(syncedRevisions(app('a', {}, { sync: { revision: SHA } }))).toEqual([SHA]);
    expect(syncedRevisions(app('a', {}, { sync: { revisions: [SHA, 'x'] } }))).toEqual([SHA, 'x']);
    expect(syncedRevisions(app('a', {}))).toEqual([]);
  });
});
