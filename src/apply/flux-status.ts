// What Flux's objects say, read without I/O: which Kustomizations track a stage branch and path, the
// commit in a Flux revision string, and whether a Kustomization has applied (or failed) a commit.
// The shapes are the few fields of kustomize.toolkit.fluxcd.io/v1 and source.toolkit.fluxcd.io/v1
// that Rebound reads; everything else is ignored.
import type { SyncState } from './types.ts';

export interface FluxCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

export interface FluxObject {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
}

export interface Kustomization extends FluxObject {
  spec?: { path?: string; suspend?: boolean; sourceRef?: { kind?: string; name?: string; namespace?: string } };
  status?: {
    lastAppliedRevision?: string;
    lastAttemptedRevision?: string;
    lastHandledReconcileAt?: string;
    conditions?: FluxCondition[];
  };
}

export interface GitRepository extends FluxObject {
  spec?: { url?: string; ref?: { branch?: string } };
  status?: { artifact?: { revision?: string }; conditions?: FluxCondition[] };
}

/** `flux reconcile` sets this annotation to the request time; the controllers reconcile at once. */
export const RECONCILE_REQUEST_ANNOTATION = 'reconcile.fluxcd.io/requestedAt';

/**
 * The commit in a Flux revision: `main@sha1:<sha>` (Flux 2.x), `sha1:<sha>`, or the older
 * `main/<sha>`. Undefined when there is none (an empty status, an OCI digest).
 */
export function revisionCommit(revision: string | undefined): string | undefined {
  if (!revision) return undefined;
  const modern = /(?:^|@)sha1:([0-9a-f]{40})$/.exec(revision);
  if (modern) return modern[1];
  const legacy = /^[^@]*\/([0-9a-f]{40})$/.exec(revision);
  return legacy?.[1];
}

/** Two Git URLs name the same repository: scheme, credentials, case of the host, `.git` and a trailing slash aside. */
export function sameRepository(a: string, b: string): boolean {
  return normalizeUrl(a) === normalizeUrl(b);
}

function normalizeUrl(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname.replace(/\/+$/, '').replace(/\.git$/, '');
    return `${u.hostname.toLowerCase()}:${u.port}${path}`;
  } catch {
    return url;
  }
}

/** A Kustomization's path (`./apps/podtato`, `/`, empty) holds the repository file `file`. */
export function pathHolds(kustomizationPath: string | undefined, file: string): boolean {
  const dir = (kustomizationPath ?? '').replace(/^\.?\/*/, '').replace(/\/+$/, '');
  if (dir === '' || dir === '.') return true;
  return file === dir || file.startsWith(`${dir}/`);
}

export function keyOfObject(object: FluxObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/** The Kustomizations whose GitRepository tracks `branch` of `repoUrl` and whose path holds `file`. */
export function trackingKustomizations(
  kustomizations: readonly Kustomization[],
  repositories: readonly GitRepository[],
  want: { repoUrl: string; branch: string; file: string },
): Kustomization[] {
  const tracks = new Set(
    repositories
      .filter(
        (r) =>
          r.spec?.ref?.branch === want.branch && r.spec.url !== undefined && sameRepository(r.spec.url, want.repoUrl),
      )
      .map(keyOfObject),
  );
  return kustomizations
    .filter((k) => {
      const ref = k.spec?.sourceRef;
      if (ref?.kind !== 'GitRepository' || !ref.name) return false;
      const source = `${ref.namespace ?? k.metadata?.namespace ?? ''}/${ref.name}`;
      return tracks.has(source) && pathHolds(k.spec?.path, want.file);
    })
    .sort((a, b) => keyOfObject(a).localeCompare(keyOfObject(b)));
}

/** The GitRepository a Kustomization reads, as `namespace/name`. */
export function sourceKey(kustomization: Kustomization): string | undefined {
  const ref = kustomization.spec?.sourceRef;
  if (ref?.kind !== 'GitRepository' || !ref.name) return undefined;
  return `${ref.namespace ?? kustomization.metadata?.namespace ?? ''}/${ref.name}`;
}

export function condition(
  object: { status?: { conditions?: FluxCondition[] } },
  type: string,
): FluxCondition | undefined {
  return object.status?.conditions?.find((c) => c.type === type);
}

/** What the caller found out about the revisions the objects name: does each contain the attempt's commit? */
export interface RevisionFacts {
  /** lastAppliedRevision holds the commit (it is the commit or a later one containing it). */
  applied: boolean;
  /** lastAttemptedRevision holds the commit. */
  attempted: boolean;
  /** The GitRepository's artifact holds the commit (the source has fetched it). */
  fetched: boolean;
}

/** One Kustomization's state for the attempt's commit. */
export function kustomizationState(
  k: Kustomization,
  source: GitRepository | undefined,
  facts: RevisionFacts,
): SyncState {
  const name = `Kustomization ${keyOfObject(k)}`;
  const ready = condition(k, 'Ready');
  if (facts.applied && ready?.status === 'True') {
    return {
      kind: 'synced',
      revision: k.status?.lastAppliedRevision ?? '',
      detail: `${name} applied ${k.status?.lastAppliedRevision ?? ''}`,
    };
  }
  if (facts.attempted && ready?.status === 'False') {
    return {
      kind: 'failed',
      detail: `${name} failed at ${k.status?.lastAttemptedRevision ?? ''}: ${ready.reason ?? 'Failed'}: ${ready.message ?? ''}`,
    };
  }
  if (k.spec?.suspend) return { kind: 'pending', detail: `${name} is suspended` };
  if (!facts.fetched) {
    const sourceReady = source ? condition(source, 'Ready') : undefined;
    const why = sourceReady?.status === 'False' ? `: ${sourceReady.reason ?? ''}: ${sourceReady.message ?? ''}` : '';
    const at = source?.status?.artifact?.revision;
    return {
      kind: 'pending',
      detail: `GitRepository ${source ? keyOfObject(source) : '?'} has not fetched the commit yet${at ? ` (at ${at})` : ''}${why}`,
    };
  }
  const requested = k.metadata?.annotations?.[RECONCILE_REQUEST_ANNOTATION];
  if (requested && k.status?.lastHandledReconcileAt !== requested) {
    return { kind: 'pending', detail: `${name} has not handled the reconcile request of ${requested} yet` };
  }
  return {
    kind: 'pending',
    detail: `${name} is applying (Ready ${ready?.status ?? 'Unknown'}${ready?.message ? `: ${ready.message}` : ''})`,
  };
}

/** All objects together: synced only when every one is, failed when any one failed. */
export function combineStates(states: readonly SyncState[]): SyncState {
  const failed = states.find((s) => s.kind === 'failed' || s.kind === 'untracked');
  if (failed) return failed;
  const pending = states.find((s) => s.kind === 'pending');
  if (pending) return pending;
  const synced = states.filter((s): s is Extract<SyncState, { kind: 'synced' }> => s.kind === 'synced');
  const first = synced[0];
  if (!first) return { kind: 'untracked', detail: 'no Kustomization was recorded for the attempt' };
  return { kind: 'synced', revision: first.revision, detail: synced.map((s) => s.detail).join('; ') };
}
