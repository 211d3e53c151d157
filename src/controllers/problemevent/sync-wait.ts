// "Wait until the engine reports the commit": with `apply: flux` an attempt is applied only once the
// GitOps engine says it applied the attempt's commit (or a later one that contains it: a person
// pushed on top), so the evaluation never measures the service before the change is live. Waiting
// never holds a worker: each check is one read of the engine's objects, then a requeue-after.
//
// What can go wrong stalls the problem with a reason and the engine's own words, and the checks go
// on: the commit stays on the branch, so when the engine comes back or a person fixes the branch,
// the loop carries on from where it was.
import { REASONS } from '../../api/index.ts';
import type { Attempt, Reason } from '../../api/index.ts';
import type { SyncCheck, SyncState } from '../../apply/types.ts';
import { parseDuration } from '../../api/duration.ts';
import type { ResolvedStage, StageRepository } from '../../remediation/stage.ts';

/** From the reconcile request until the engine must have reported the commit, unless the stage says otherwise. */
export const DEFAULT_SYNC_TIMEOUT = '10m';

export type SyncVerdict =
  /** The engine reports the commit: the evaluation's wait starts now. */
  | { kind: 'synced'; revision: string; detail: string }
  /** Not yet, and still in time. */
  | { kind: 'waiting'; reason: Reason; message: string }
  /** Only a person (or the engine coming back) can move this on. */
  | { kind: 'stalled'; reason: Reason; message: string };

/** What the engine's state means for the loop, given when the sync was requested. Pure. */
export function judgeSync(state: SyncState, requested: Date, now: Date, timeoutMs: number): SyncVerdict {
  switch (state.kind) {
    case 'synced':
      return { kind: 'synced', revision: state.revision, detail: state.detail };
    case 'failed':
      return { kind: 'stalled', reason: REASONS.SyncFailed, message: state.detail };
    case 'untracked':
      return { kind: 'stalled', reason: REASONS.SyncTargetNotFound, message: state.detail };
    case 'pending': {
      const waited = now.getTime() - requested.getTime();
      if (waited < timeoutMs) return { kind: 'waiting', reason: REASONS.WaitingForSync, message: state.detail };
      // No running count in the message: the status stays the same between checks.
      return {
        kind: 'stalled',
        reason: REASONS.SyncTimedOut,
        message: `the engine has not reported the commit within ${Math.round(timeoutMs / 1000)}s of the request (is it running?): ${state.detail}`,
      };
    }
  }
}

/** Asks the engine about the attempt's commit and judges the answer. */
export async function checkSync(args: {
  check: SyncCheck;
  attempt: Attempt;
  stage: ResolvedStage;
  repository: StageRepository;
  now: Date;
  signal?: AbortSignal;
}): Promise<SyncVerdict> {
  const { attempt, stage, repository } = args;
  const sync = attempt.sync;
  const commit = attempt.commit;
  if (!sync || !commit) {
    return {
      kind: 'stalled',
      reason: REASONS.ApplyFailed,
      message: `attempt ${attempt.index} has no commit handed to a GitOps engine`,
    };
  }
  const committed = attempt.committedTime ? new Date(attempt.committedTime) : undefined;
  const state = await args.check.check(
    { engine: sync.engine, branch: attempt.branch ?? stage.branch, commit, objects: sync.objects ?? [] },
    (ancestor, descendant) => repository.contains(attempt.branch ?? stage.branch, ancestor, descendant, committed),
    args.signal,
  );
  const requested = new Date(sync.requestedTime ?? attempt.committedTime ?? args.now.toISOString());
  return judgeSync(state, requested, args.now, syncTimeoutMs(stage));
}

export function syncTimeoutMs(stage: ResolvedStage): number {
  try {
    return parseDuration(stage.gitops?.timeout ?? DEFAULT_SYNC_TIMEOUT);
  } catch {
    return parseDuration(DEFAULT_SYNC_TIMEOUT);
  }
}
