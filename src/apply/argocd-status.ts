// What Argo CD's Applications say, read without I/O, for the `apply: argocd` applier to come: which
// Applications track a stage branch and path, and where one is with an attempt's commit. The shape is
// the few fields of argoproj.io/v1alpha1 Application that Rebound reads; everything else is ignored.
import { pathHolds, sameRepository } from './flux-status.ts';
import type { SyncState } from './types.ts';

export interface ApplicationSource {
  repoURL?: string;
  targetRevision?: string;
  path?: string;
}

export interface Application {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: {
    project?: string;
    source?: ApplicationSource;
    sources?: ApplicationSource[];
    destination?: { server?: string; name?: string; namespace?: string };
    syncPolicy?: { automated?: object };
  };
  /** Set while a sync is asked for or running. */
  operation?: object;
  status?: {
    sync?: { status?: string; revision?: string; revisions?: string[] };
    health?: { status?: string; message?: string };
    operationState?: {
      phase?: string;
      message?: string;
      /** Set once a sync failed and Argo CD tries again (automated sync retries 5 times by default). */
      retryCount?: number;
      operation?: { sync?: { revision?: string; revisions?: string[] } };
      syncResult?: { revision?: string; revisions?: string[] };
    };
    conditions?: { type?: string; message?: string }[];
  };
}

/** `argocd app get --refresh` sets this; the application-controller compares with Git at once, then removes it. */
export const REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh';

export function keyOfApplication(app: Application): string {
  return `${app.metadata?.namespace ?? ''}/${app.metadata?.name ?? ''}`;
}

function sourcesOf(app: Application): ApplicationSource[] {
  return [...(app.spec?.source ? [app.spec.source] : []), ...(app.spec?.sources ?? [])];
}

/**
 * The Applications with a source on `branch` of `repoUrl` whose path holds `file`. `targetRevision`
 * may name the branch as `refs/heads/<branch>` too; `HEAD` or a tag or commit never tracks a branch.
 */
export function trackingApplications(
  apps: readonly Application[],
  want: { repoUrl: string; branch: string; file: string },
): Application[] {
  return apps
    .filter((app) =>
      sourcesOf(app).some(
        (s) =>
          s.repoURL !== undefined &&
          sameRepository(s.repoURL, want.repoUrl) &&
          (s.targetRevision === want.branch || s.targetRevision === `refs/heads/${want.branch}`) &&
          pathHolds(s.path, want.file),
      ),
    )
    .sort((a, b) => keyOfApplication(a).localeCompare(keyOfApplication(b)));
}

/** The commit(s) Argo CD reports as synced: `status.sync.revision`, or `revisions` for several sources. */
export function syncedRevisions(app: Application): string[] {
  const sync = app.status?.sync;
  return [...(sync?.revision ? [sync.revision] : []), ...(sync?.revisions ?? [])];
}

/** What the caller found out: does a revision Argo CD names contain the attempt's commit? */
export interface ApplicationFacts {
  /** status.sync.revision(s) holds the commit. */
  synced: boolean;
  /** The last operation (what it was asked to sync, or its syncResult) is for a revision holding the commit. */
  operated: boolean;
}

/** One Application's state for the attempt's commit. */
export function applicationState(app: Application, facts: ApplicationFacts): SyncState {
  const name = `Application ${keyOfApplication(app)}`;
  const sync = app.status?.sync;
  const health = app.status?.health;
  const operation = app.status?.operationState;
  if (facts.operated && (operation?.phase === 'Failed' || operation?.phase === 'Error')) {
    return { kind: 'failed', detail: `${name} failed to sync: ${operation.phase}: ${operation.message ?? ''}` };
  }
  // Still Running, but a try already failed: Argo CD's message says why (and when it tries again).
  // Failed it is; a later try that succeeds moves the problem on.
  if (facts.operated && operation?.phase === 'Running' && (operation.retryCount ?? 0) > 0) {
    return { kind: 'failed', detail: `${name} failed to sync, Argo CD retries: ${operation.message ?? ''}` };
  }
  if (facts.synced && sync?.status === 'Synced') {
    if (health?.status === 'Healthy')
      return {
        kind: 'synced',
        revision: sync.revision ?? '',
        detail: `${name} synced ${sync.revision ?? ''}, Healthy`,
      };
    if (health?.status === 'Degraded')
      return { kind: 'failed', detail: `${name} synced but Degraded: ${health.message ?? ''}` };
    return {
      kind: 'pending',
      detail: `${name} synced, health ${health?.status ?? 'Unknown'}${health?.message ? `: ${health.message}` : ''}`,
    };
  }
  // A sync window that denies an automated sync leaves no trace here: argocd.ts reads the AppProject.
  const requested = app.metadata?.annotations?.[REFRESH_ANNOTATION];
  if (requested) return { kind: 'pending', detail: `${name} has not handled the refresh request yet` };
  const at = sync?.revision ? ` (at ${sync.revision})` : '';
  return { kind: 'pending', detail: `${name} has not synced the commit yet${at}: ${sync?.status ?? 'Unknown'}` };
}
