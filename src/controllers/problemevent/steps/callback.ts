// An action that waits for its callback: the runbook (or executor) reported back, or its deadline
// passed without a word. Success starts the evaluation's wait; failure and silence fail the attempt.
import { REASONS } from '../../../api/index.ts';
import type { Attempt } from '../../../api/index.ts';
import { applied, failAttempt } from './outcome.ts';
import { NEXT } from './types.ts';
import type { StepFor } from './types.ts';

export const completeAction: StepFor<'complete-action'> = async (draft, deps, { decision, remediation, stage }) => {
  const attempt = draft.attempt(decision.index);
  const recorded = attempt?.execution;
  if (!attempt || !recorded?.callbackStatus) return NEXT;
  // A callback can overtake the loop's record of the call it answers: keep what the call reported
  // (status code, tries) when it has settled, and stop it when it has not.
  const call = deps.background.state(recorded.id);
  const execution = call.kind === 'settled' ? { ...call.outcome.execution, ...recorded } : recorded;
  deps.background.acknowledge(recorded.id);
  const said = execution.callbackMessage ? `: ${execution.callbackMessage}` : '';
  const finishedTime = execution.callbackTime ?? draft.now.toISOString();
  const who = execution.executor ?? 'the action';
  if (execution.callbackStatus === 'succeeded') {
    const done: Attempt = { ...attempt, execution: { ...execution, state: 'Succeeded', finishedTime } };
    return applied(draft, deps, remediation, done, draft.now, `${who} reported success${said}`, stage.sequence);
  }
  const failed: Attempt = { ...attempt, execution: { ...execution, state: 'Failed', finishedTime } };
  return failAttempt(draft, deps, failed, REASONS.ActionFailed, `${who} reported failure${said}`);
};

export const actionTimedOut: StepFor<'action-timed-out'> = (draft, deps, { decision }) => {
  const attempt = draft.attempt(decision.index);
  const execution = attempt?.execution;
  if (!attempt || !execution) return Promise.resolve(NEXT);
  deps.background.acknowledge(execution.id);
  const timedOut: Attempt = {
    ...attempt,
    execution: { ...execution, state: 'Failed', finishedTime: draft.now.toISOString() },
  };
  return failAttempt(
    draft,
    deps,
    timedOut,
    REASONS.ActionTimedOut,
    `no callback for action ${execution.id} before its deadline ${execution.deadline ?? ''}`,
  );
};
