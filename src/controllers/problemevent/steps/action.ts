// Carry the attempt's action out: apply its commit, call its webhook, hand it to an executor. A
// slow endpoint never holds a worker: such actions run in the background and enqueue the problem
// when they settle; this step only starts one, or records what it came to.
import { REASONS } from '../../../api/index.ts';
import type { ActionExecution, Attempt } from '../../../api/index.ts';
import { actionIdFor } from '../../../actions/types.ts';
import type { ActionContext, ActionHandler, ActionOutcome } from '../../../actions/types.ts';
import { errorMessage } from '../../../errors.ts';
import type { ProblemLoopPorts } from '../ports.ts';
import { keyOf } from '../decide.ts';
import type { StatusDraft } from './draft.ts';
import { label } from './draft.ts';
import { failStep, stall } from './finish.ts';
import { applied, failAttempt } from './outcome.ts';
import { syncRequested } from './sync.ts';
import type { StepContext, StepFor, StepResult } from './types.ts';

/** An action running in the background enqueues its problem when it settles; this is only the safety net. */
const BACKGROUND_RECHECK_MS = 60_000;

export const applyAttempt: StepFor<'apply-attempt'> = async (draft, deps, ctx) => {
  const {
    project,
    stage,
    remediation,
    decision: { index },
  } = ctx;
  const attempt = draft.attempt(index);
  if (!attempt) return stall(draft, deps, REASONS.ApplyFailed, `attempt ${index} is not in the status`);
  const handler = deps.actions.handlerFor(attempt.action);
  if (!handler) {
    return stall(
      draft,
      deps,
      REASONS.UnknownAction,
      `attempt ${index} "${attempt.action}" has nothing to carry it out any more (was the executor sink removed?)`,
    );
  }
  const context = async (signal: AbortSignal): Promise<ActionContext> => ({
    problem: draft.problem,
    project,
    stage,
    remediation,
    attempt,
    actionId: attempt.execution?.id ?? actionIdFor(draft.problem, index),
    repository: await deps.repositories.forProject(project),
    signal,
  });
  if (handler.background) return runInBackground(draft, deps, ctx, { attempt, handler, context });
  let outcome: ActionOutcome;
  const span = ctx.span.child(handler.editValues ? 'apply' : 'action', {
    ...(handler.editValues ? { 'rebound.apply': stage.apply } : { 'rebound.executor': handler.executor }),
  });
  try {
    outcome = await handler.run(await context(ctx.signal));
    span.setAttributes({
      'rebound.outcome': outcome.kind,
      ...(outcome.kind === 'done' && outcome.helmRevision ? { 'helm.revision': outcome.helmRevision } : {}),
    });
    if (outcome.kind === 'failed') span.fail(outcome.detail);
    span.end();
  } catch (err) {
    span.fail(errorMessage(err));
    span.end();
    deps.metrics?.attempt(attempt.action, 'apply_failed');
    const how = handler.editValues ? `applied with ${stage.apply}` : `carried out by ${handler.executor}`;
    return failStep(draft, deps, ctx.log, err, REASONS.ApplyFailed, `attempt ${index} could not be ${how}`);
  }
  return recordOutcome(draft, deps, ctx, attempt, outcome);
};

interface Run {
  attempt: Attempt;
  handler: ActionHandler;
  context: (signal: AbortSignal) => Promise<ActionContext>;
}

async function runInBackground(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: StepContext,
  { attempt, handler, context }: Run,
): Promise<StepResult> {
  const background = deps.background;
  const id = attempt.execution?.id ?? actionIdFor(draft.problem, attempt.index);
  const state = background.state(id);
  if (state.kind === 'none') {
    background.start(id, keyOf(draft.problem), async (signal) => handler.run(await context(signal)));
    return { requeueAfterMs: BACKGROUND_RECHECK_MS };
  }
  if (state.kind === 'running') return { requeueAfterMs: BACKGROUND_RECHECK_MS };
  if (state.kind === 'errored') {
    // Forgotten first: a retry after the backoff starts the action again.
    background.acknowledge(id);
    deps.metrics?.attempt(attempt.action, 'apply_failed');
    return failStep(
      draft,
      deps,
      ctx.log,
      state.error,
      REASONS.ApplyFailed,
      `attempt ${attempt.index} (${label(attempt)}) could not be carried out by ${handler.executor}`,
    );
  }
  const result = await recordOutcome(draft, deps, ctx, attempt, state.outcome);
  background.acknowledge(id);
  return result;
}

/** What the action came to: the evaluation's wait starts, a callback is awaited, or the attempt fails. */
async function recordOutcome(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: StepContext,
  attempt: Attempt,
  outcome: ActionOutcome,
): Promise<StepResult> {
  const execution = (
    state: ActionExecution['state'],
    extra: Partial<ActionExecution> = {},
  ): Pick<Attempt, 'execution'> =>
    attempt.execution || outcome.execution
      ? {
          execution: {
            ...attempt.execution,
            id: attempt.execution?.id ?? actionIdFor(draft.problem, attempt.index),
            ...outcome.execution,
            ...extra,
            state,
          },
        }
      : {};
  switch (outcome.kind) {
    case 'done': {
      const finished = deps.clock();
      const done = {
        ...attempt,
        ...execution('Succeeded', { finishedTime: finished.toISOString() }),
        ...(outcome.helmRevision ? { helmRevision: outcome.helmRevision } : {}),
      };
      // Handed to a GitOps engine: applied only once it reports the commit (steps/sync.ts).
      if (outcome.sync) return syncRequested(draft, deps, { ...done, sync: outcome.sync }, outcome.detail);
      return applied(
        draft,
        deps,
        ctx.remediation,
        done,
        finished,
        outcome.detail,
        ctx.stage.sequence,
        outcome.warning,
        { rollout: outcome.rollout === true },
      );
    }
    case 'waiting': {
      draft.replaceAttempt({ ...attempt, ...execution('Waiting', { deadline: outcome.deadline.toISOString() }) });
      const message = `attempt ${attempt.index} (${label(attempt)}): ${outcome.detail}`;
      draft.markReconciling(REASONS.ActionInProgress, message);
      await draft.write('Remediating');
      draft.event('Normal', 'ActionStarted', message);
      return draft.delayUntil(outcome.deadline);
    }
    case 'failed':
      return failAttempt(
        draft,
        deps,
        { ...attempt, ...execution('Failed', { finishedTime: deps.clock().toISOString() }) },
        outcome.reason,
        outcome.detail,
        ctx,
      );
  }
}
