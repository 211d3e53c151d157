// The service's turn, claimed on the API server before any step that needs it (service-turn.ts):
// the step between decide() and "start attempt" (and every later step of the holder). Held, the
// decided step runs; held by another problem, this one waits, Queued written once and woken when
// the turn frees (wake.ts), never by polling.
import { CONDITION_TYPES, REASONS } from '../../../api/index.ts';
import { actsOutside, needsTurn } from '../decide.ts';
import type { ProblemLoopPorts } from '../ports.ts';
import type { StatusDraft } from './draft.ts';
import { failStep } from './finish.ts';
import type { Chain, StepContext, StepResult } from './types.ts';

/** undefined: the turn is this problem's (or the decision needs none), go on; otherwise what to return. */
export async function claimTurn(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: StepContext,
  chain: Chain,
): Promise<StepResult | undefined> {
  if (!needsTurn(ctx.decision)) return undefined;
  const confirm = actsOutside(ctx.decision) && !chain.turnConfirmed;
  let turn;
  try {
    // Read fresh from the API server before acting outside the status (a commit, an apply, a call),
    // once per reconcile: the steps chained after the first are the same action.
    turn = await deps.turns.claim(draft.problem, { confirm });
  } catch (err) {
    return failStep(draft, deps, ctx.log, err, REASONS.TurnUnavailable, 'the service turn could not be claimed');
  }
  if (turn.held) {
    if (confirm) chain.turnConfirmed = true;
    return undefined;
  }
  return waitTurn(draft, deps, turn.holder);
}

/** Another problem holds the turn: say Queued once; the requeue is only a safety net. */
async function waitTurn(draft: StatusDraft, deps: ProblemLoopPorts, holder: string): Promise<StepResult> {
  const reconciling = draft.problem.status?.conditions?.find((c) => c.type === CONDITION_TYPES.Reconciling);
  if (reconciling?.status !== 'True' || reconciling.reason !== REASONS.Queued) {
    draft.markReconciling(REASONS.Queued, `waiting for ${holder}: one remediation at a time per service`);
    await draft.write(draft.status.phase ?? 'Pending');
  }
  return { requeueAfterMs: deps.settings.turnPollMs };
}
