// How a problem stops: a final phase (Resolved, Exhausted, Unhandled), a stall only a person can
// clear, or a failed step (retried when the failure may pass, else a stall).
import { REASONS } from '../../../api/index.ts';
import type { Phase, Reason } from '../../../api/index.ts';
import { ReboundError, errorMessage, failureReason } from '../../../errors.ts';
import type { ProblemLoopPorts } from '../ports.ts';
import { keyOf } from '../decide.ts';
import type { StatusDraft } from './draft.ts';
import { closeOpenProposal } from './forge-status.ts';
import { DONE } from './types.ts';
import type { StepFor, StepLog, StepResult } from './types.ts';

type FinalPhase = Extract<Phase, 'Resolved' | 'Exhausted' | 'Unhandled'>;

/**
 * A final phase. Resolved is Ready. Exhausted and Unhandled are Stalled (kstatus "Failed"): the loop
 * will do nothing more, the service is not known to be healthy, and only a person can take it from
 * here (fix the service by hand, change the policy, open a new problem). Leaving them Ready=False
 * without Stalled would read as "in progress" forever to `kubectl wait`, Flux and Argo CD health.
 */
export async function finish(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  phase: FinalPhase,
  reason: Reason,
  message: string,
  type: 'Normal' | 'Warning',
): Promise<StepResult> {
  deps.background.cancel(keyOf(draft.problem));
  draft.update({ completionTime: draft.now.toISOString() });
  draft.clearNextEvaluation();
  if (phase === 'Resolved') draft.markReady(reason, message);
  else draft.markStalled(reason, message);
  await draft.write(phase);
  draft.event(type, phase, message);
  // After the final status: the turn goes to the next problem of the service (never throws; a
  // claim left behind is taken over, its holder being visibly finished).
  await deps.turns.release(draft.problem);
  return DONE;
}

/** Only a person can fix this: say so, and look again later in case they did. */
export async function stall(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  reason: Reason,
  message: string,
): Promise<StepResult> {
  draft.markStalled(reason, message);
  await draft.write(draft.status.phase ?? 'Pending');
  draft.event('Warning', reason, message);
  return { requeueAfterMs: deps.settings.stalledRecheckMs };
}

/** A failed step: a failure that may pass goes back to the queue's backoff, the rest stall. */
export async function failStep(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  log: StepLog,
  err: unknown,
  fallback: Reason,
  context: string,
): Promise<StepResult> {
  const reason = failureReason(err, fallback);
  const message = `${context}: ${errorMessage(err)}`;
  if (err instanceof ReboundError && err.retryable) {
    log.warn({ reason, err: message }, 'remediation step failed; retrying with backoff');
    draft.markReconciling(reason, message);
    await draft.write(draft.status.phase ?? 'Pending');
    return { retry: err };
  }
  if (!(err instanceof ReboundError)) log.error({ err }, 'unexpected error in a remediation step');
  return stall(draft, deps, reason, message);
}

export const resolveBySource: StepFor<'resolve-by-source'> = (draft, deps, ctx) => {
  const message = 'the source reported the problem as resolved';
  closeOpenProposal(draft, deps, ctx, draft.status.currentAttempt, `${message}; this proposal is no longer needed`);
  return finish(draft, deps, 'Resolved', REASONS.ProblemResolved, message, 'Normal');
};

export const unhandledByStage: StepFor<'unhandled-by-stage'> = (draft, deps, { decision, stage }) =>
  finish(
    draft,
    deps,
    'Unhandled',
    REASONS.RemediationDisabled,
    `remediation is ${decision.mode} for stage ${stage.name}`,
    'Normal',
  );
