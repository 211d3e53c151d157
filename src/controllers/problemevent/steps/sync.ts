// apply: flux or argocd: between the sync request and the evaluation, the attempt waits until the engine
// reports the commit (sync-wait.ts judges what it says). Each look is one read of the engine's
// objects and a requeue-after; an answer the status already shows writes nothing.
import { CONDITION_TYPES, GITOPS_ENGINE_NAMES, REASONS } from '../../../api/index.ts';
import type { Attempt, Reason } from '../../../api/index.ts';
import type { ProblemLoopPorts } from '../ports.ts';
import { checkSync } from '../sync-wait.ts';
import type { StatusDraft } from './draft.ts';
import { stall } from './finish.ts';
import { applied } from './outcome.ts';
import { NEXT } from './types.ts';
import type { StepFor, StepResult } from './types.ts';

/** The engine was asked to sync the attempt's commit: record it; the attempt is applied once the engine reports it. */
export async function syncRequested(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  attempt: Attempt,
  detail: string,
): Promise<StepResult> {
  draft.replaceAttempt(attempt);
  const message = `attempt ${attempt.index}: ${detail}; waiting until it reports the commit`;
  draft.markReconciling(REASONS.WaitingForSync, message);
  await draft.write('Remediating');
  draft.event('Normal', 'SyncRequested', message);
  return { requeueAfterMs: deps.settings.syncPollMs };
}

/** One look at the engine: the commit reported starts the evaluation's wait; otherwise look again later. */
export const waitSync: StepFor<'wait-sync'> = async (
  draft,
  deps,
  { decision: { index }, project, stage, remediation, signal },
) => {
  const attempt = draft.attempt(index);
  if (!attempt?.sync) return NEXT;
  const verdict = await checkSync({
    check: deps.sync,
    attempt,
    stage,
    repository: await deps.repositories.forProject(project),
    now: draft.now,
    signal,
  });
  const again = { requeueAfterMs: deps.settings.syncPollMs };
  const message = `attempt ${index}: ${verdict.kind === 'synced' ? verdict.detail : verdict.message}`;
  switch (verdict.kind) {
    case 'synced': {
      const synced = deps.clock();
      const sync = { ...attempt.sync, revision: verdict.revision, syncedTime: synced.toISOString() };
      return applied(
        draft,
        deps,
        remediation,
        { ...attempt, sync },
        synced,
        `synced by ${GITOPS_ENGINE_NAMES[attempt.sync.engine]} at ${verdict.revision}`,
        stage.sequence,
        undefined,
        // The engine applied the commit; its workloads roll out from here.
        { rollout: true },
      );
    }
    case 'waiting':
      if (shows(draft, CONDITION_TYPES.Reconciling, verdict.reason, message)) return again;
      draft.markReconciling(verdict.reason, message);
      await draft.write('Remediating');
      return again;
    case 'stalled':
      // Looked at again at the sync pace: the engine coming back, or a fix pushed on top, moves it on.
      if (!shows(draft, CONDITION_TYPES.Stalled, verdict.reason, message))
        await stall(draft, deps, verdict.reason, message);
      return again;
  }
};

/** The status already holds this condition as it would be written: no write, no repeated event. */
function shows(draft: StatusDraft, type: string, reason: Reason, message: string): boolean {
  const c = draft.problem.status?.conditions?.find((x) => x.type === type);
  return c?.status === 'True' && c.reason === reason && c.message === message;
}
