// The healthy waits: a limit holds the next action back, an action waits for its callback, an
// evaluation is not due yet. None is an error. (Waiting for the service's turn: turn.ts.)
import { REASONS } from '../../../api/index.ts';
import type { StepFor } from './types.ts';

export const throttled: StepFor<'throttled'> = async (draft, _deps, { decision }) => {
  const reason = decision.limit === 'cooldown' ? REASONS.CoolingDown : REASONS.LimitReached;
  const what = decision.limit === 'cooldown' ? 'cooldown between actions' : 'maximum actions per hour';
  draft.markReconciling(reason, `${what} holds the next action back until ${decision.until.toISOString()}`);
  await draft.write(draft.status.phase ?? 'Pending');
  return draft.delayUntil(decision.until);
};

/** A Project rule holds the next attempt back: say which and until when; a change wakes it earlier. */
export const held: StepFor<'held'> = async (draft, deps, { decision }) => {
  const changed = !(draft.problem.status?.conditions ?? []).some(
    (c) => c.type === 'Reconciling' && c.reason === decision.reason && c.message === decision.message,
  );
  if (changed) {
    draft.markReconciling(decision.reason, decision.message);
    await draft.write(draft.status.phase ?? 'Pending');
    draft.event('Normal', 'HeldBack', decision.message);
    deps.metrics?.held?.(decision.reason);
  }
  return decision.until ? draft.delayUntil(decision.until) : { requeueAfterMs: deps.settings.turnPollMs };
};

export const waitAction: StepFor<'wait-action'> = (draft, _deps, { decision }) =>
  Promise.resolve(draft.delayUntil(decision.until));

export const waitEvaluation: StepFor<'wait-evaluation'> = (draft, _deps, { decision }) =>
  Promise.resolve(draft.delayUntil(decision.at));
