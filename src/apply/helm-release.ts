// A Helm release's state as `helm get metadata -o json` and `helm history -o json` print it, and
// what to do about a release left pending.
//
// A `helm upgrade` killed mid-way (the controller OOM-killed, its node lost) leaves the release
// `pending-upgrade` (or `-install`, `-rollback`), and every later upgrade fails with "another
// operation (install/upgrade/rollback) is in progress". Retrying that never helps. Rebound labels
// each revision it creates with the revision number it expects to create (`--labels`, stored with the
// release); Helm carries custom labels over to later revisions, so a pending revision whose label
// names its own number was started by Rebound, and one with any other (or no) label was not. Ours is
// recovered the way a person would (roll back to the last good revision, or uninstall a first
// install that never finished); anyone else's is left alone and reported with what to do.

/** The custom release label that says which revision Rebound's upgrade was creating. */
export const REVISION_LABEL = 'rebound.dev/revision';

export const PENDING_STATUSES = ['pending-install', 'pending-upgrade', 'pending-rollback'] as const;
export type PendingStatus = (typeof PENDING_STATUSES)[number];

export interface ReleaseMetadata {
  revision: number;
  status: string;
  labels: Readonly<Record<string, string>>;
  deployedAt?: string;
}

export interface HistoryEntry {
  revision: number;
  status: string;
}

export function isPending(status: string): status is PendingStatus {
  return (PENDING_STATUSES as readonly string[]).includes(status);
}

/** The release's newest revision, from `helm get metadata -o json`; undefined when it is not JSON. */
export function parseMetadata(stdout: string): ReleaseMetadata | undefined {
  const value = parseJson(stdout);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v['revision'] !== 'number' || typeof v['status'] !== 'string') return undefined;
  const labels: Record<string, string> = {};
  const raw = v['labels'];
  if (typeof raw === 'object' && raw !== null) {
    for (const [key, label] of Object.entries(raw)) if (typeof label === 'string') labels[key] = label;
  }
  return {
    revision: v['revision'],
    status: v['status'],
    labels,
    ...(typeof v['deployedAt'] === 'string' ? { deployedAt: v['deployedAt'] } : {}),
  };
}

/** Revisions from `helm history -o json`, oldest first. */
export function parseHistory(stdout: string): HistoryEntry[] {
  const value = parseJson(stdout);
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const e = entry as Record<string, unknown>;
    return typeof e['revision'] === 'number' && typeof e['status'] === 'string'
      ? [{ revision: e['revision'], status: e['status'] }]
      : [];
  });
}

/** True when the pending revision is the one a Rebound upgrade was creating. */
export function startedByRebound(release: ReleaseMetadata): boolean {
  return release.labels[REVISION_LABEL] === String(release.revision);
}

export type Recovery = { kind: 'rollback'; toRevision: number } | { kind: 'uninstall' };

/**
 * How to undo a pending revision: roll back to the newest revision before it that was live
 * (deployed or superseded), else to the one before it; a first install has nothing to roll back
 * to and is uninstalled (the upgrade that follows installs it again).
 */
export function recoveryFor(pending: ReleaseMetadata, history: readonly HistoryEntry[]): Recovery {
  const earlier = history.filter((h) => h.revision < pending.revision).sort((a, b) => b.revision - a.revision);
  const live = earlier.find((h) => h.status === 'deployed' || h.status === 'superseded');
  const target = live ?? earlier[0];
  if (pending.status === 'pending-install' || target === undefined) return { kind: 'uninstall' };
  return { kind: 'rollback', toRevision: target.revision };
}

/** What a person should run when the pending release is not ours to touch. */
export function pendingAdvice(
  release: string,
  namespace: string,
  pending: ReleaseMetadata,
  history: readonly HistoryEntry[],
): string {
  const recovery = recoveryFor(pending, history);
  const command =
    recovery.kind === 'rollback'
      ? `helm rollback ${release} ${recovery.toRevision} --namespace ${namespace}`
      : `helm uninstall ${release} --namespace ${namespace}`;
  return (
    `helm release ${release} in ${namespace} is ${pending.status} at revision ${pending.revision}, an operation Rebound did not start: ` +
    `if it is still running, wait for it; if it was interrupted, run \`${command}\`; Rebound tries again at its next recheck`
  );
}

function parseJson(stdout: string): unknown {
  const start = stdout.search(/[[{]/);
  if (start < 0) return undefined;
  try {
    return JSON.parse(stdout.slice(start));
  } catch {
    return undefined;
  }
}
