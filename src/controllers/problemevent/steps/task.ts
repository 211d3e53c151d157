// The shipyard's remediation sequence after the action: each task between the action and the
// evaluation (a load test run by an executor, say) is sent as `sh.keptn.event.<task>.triggered` and
// awaited until its `.finished` comes back, one after another; then the evaluation's wait starts. A
// failed or silent task fails the attempt, as a failed action does, and the loop escalates.
//
// A task is recorded before it is sent (so its answer always finds it), sent off the worker (a slow
// sink never holds one), and its answer is written into the attempt by the callback route; this step
// turns each of those states into the next one.
import { REASONS } from '../../../api/index.ts';
import type { Attempt, SequenceTaskRun } from '../../../api/index.ts';
import { taskIdFor } from '../../../actions/types.ts';
import { taskEventType } from '../../../actions/keptn-action-event.ts';
import type { ActionOutcome } from '../../../actions/types.ts';
import { keyOf } from '../decide.ts';
import type { ProblemLoopPorts } from '../ports.ts';
import { NO_SEQUENCE } from '../../../remediation/stage.ts';
import type { DispatchedTask } from '../../../remediation/stage.ts';
import type { StatusDraft } from './draft.ts';
import { failStep, stall } from './finish.ts';
import { awaitEvaluation, failAttempt } from './outcome.ts';
import { NEXT } from './types.ts';
import type { StepContext, StepFor, StepResult } from './types.ts';

/** A task sent in the background enqueues its problem when the send settles; this is only the safety net. */
const BACKGROUND_RECHECK_MS = 60_000;

type TaskContext = StepContext<{ kind: 'run-task'; index: number; task: string }>;

export const runTask: StepFor<'run-task'> = async (draft, deps, ctx) => {
  const {
    decision: { index, task: name },
    stage,
  } = ctx;
  const attempt = draft.attempt(index);
  const task = stage.sequence?.tasks.find((t) => t.name === name);
  // The shipyard changed under a running attempt: decide() no longer asks for this task.
  if (!attempt || !task) return NEXT;
  const run = attempt.tasks?.find((t) => t.name === name);
  if (!run) return recordTask(draft, deps, attempt, task);
  if (run.callbackStatus !== undefined) return completeTask(draft, deps, ctx, attempt, run);
  if (run.state === 'Waiting') {
    const deadline = new Date(run.deadline ?? 0);
    return deadline.getTime() > draft.now.getTime()
      ? draft.delayUntil(deadline)
      : taskTimedOut(draft, deps, attempt, run);
  }
  if (run.state === 'Failed')
    return failAttempt(draft, deps, attempt, REASONS.TaskFailed, `task ${name}: ${run.message ?? 'failed'}`, ctx);
  return sendTask(draft, deps, ctx, attempt, task, run);
};

/** Recorded first, so an executor that answers at once finds the task, and a restart sends it again with the same id. */
async function recordTask(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  attempt: Attempt,
  task: DispatchedTask,
): Promise<StepResult> {
  if (!deps.tasks) {
    return stall(
      draft,
      deps,
      REASONS.NoTaskExecutor,
      `the shipyard's remediation sequence has task "${task.name}" after the action and nothing to send it to: start the controller with --action-sink, or remove the task`,
    );
  }
  const run: SequenceTaskRun = {
    name: task.name,
    id: taskIdFor(draft.problem, attempt.index, task.name),
    executor: 'keptn',
    state: 'Running',
    startedTime: draft.now.toISOString(),
  };
  draft.replaceAttempt({ ...attempt, tasks: [...(attempt.tasks ?? []).filter((t) => t.name !== task.name), run] });
  const message = `attempt ${attempt.index}: task ${task.name} starting (${taskEventType(task.name, 'triggered')}, task id ${run.id})`;
  draft.markReconciling(REASONS.TaskInProgress, message);
  await draft.write('Remediating');
  draft.event('Normal', 'TaskStarted', message);
  return NEXT;
}

/** Sends the task off the worker, or records what the send came to. */
async function sendTask(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: TaskContext,
  attempt: Attempt,
  task: DispatchedTask,
  run: SequenceTaskRun,
): Promise<StepResult> {
  const dispatcher = deps.tasks;
  if (!dispatcher)
    return stall(
      draft,
      deps,
      REASONS.NoTaskExecutor,
      `task ${task.name} was started but the controller has no executor sink any more (--action-sink)`,
    );
  const state = deps.background.state(run.id);
  if (state.kind === 'none') {
    deps.background.start(run.id, keyOf(draft.problem), (signal) =>
      dispatcher.dispatch({
        problem: draft.problem,
        stage: ctx.stage.name,
        attempt,
        taskId: run.id,
        task: task.name,
        ...(task.properties ? { properties: task.properties } : {}),
        signal,
      }),
    );
    return { requeueAfterMs: BACKGROUND_RECHECK_MS };
  }
  if (state.kind === 'running') return { requeueAfterMs: BACKGROUND_RECHECK_MS };
  if (state.kind === 'errored') {
    // Forgotten first: a retry after the backoff sends the task again.
    deps.background.acknowledge(run.id);
    return failStep(
      draft,
      deps,
      ctx.log,
      state.error,
      REASONS.ExecutorUnavailable,
      `task ${task.name} of attempt ${attempt.index} could not be sent`,
    );
  }
  const result = await recordSend(draft, deps, ctx, attempt, run, state.outcome);
  deps.background.acknowledge(run.id);
  return result;
}

async function recordSend(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: TaskContext,
  attempt: Attempt,
  run: SequenceTaskRun,
  outcome: ActionOutcome,
): Promise<StepResult> {
  switch (outcome.kind) {
    case 'waiting': {
      const sent: SequenceTaskRun = {
        ...run,
        ...outcome.execution,
        state: 'Waiting',
        deadline: outcome.deadline.toISOString(),
      };
      draft.replaceAttempt(withRun(attempt, sent));
      const message = `attempt ${attempt.index}: task ${run.name}: ${outcome.detail}`;
      draft.markReconciling(REASONS.TaskInProgress, message);
      await draft.write('Remediating');
      return draft.delayUntil(outcome.deadline);
    }
    case 'failed': {
      const failed: SequenceTaskRun = {
        ...run,
        ...outcome.execution,
        state: 'Failed',
        finishedTime: deps.clock().toISOString(),
      };
      return failAttempt(
        draft,
        deps,
        withRun(attempt, failed),
        outcome.reason,
        `task ${run.name}: ${outcome.detail}`,
        ctx,
      );
    }
    case 'done':
      // A dispatcher only sends; a task is done when its executor says so.
      return completeTask(draft, deps, ctx, attempt, {
        ...run,
        callbackStatus: 'succeeded',
        callbackMessage: outcome.detail,
        callbackTime: deps.clock().toISOString(),
      });
  }
}

/** The executor answered: the next task, or the evaluation's wait; a failure fails the attempt with its message. */
async function completeTask(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: TaskContext,
  attempt: Attempt,
  run: SequenceTaskRun,
): Promise<StepResult> {
  // The answer may overtake the loop's record of the send: keep what the send reported, stop it if it runs.
  const send = deps.background.state(run.id);
  const merged: SequenceTaskRun = send.kind === 'settled' ? { ...send.outcome.execution, ...run } : run;
  deps.background.acknowledge(run.id);
  const finishedTime = merged.callbackTime ?? draft.now.toISOString();
  const said = merged.callbackMessage ? `: ${merged.callbackMessage}` : '';
  if (merged.callbackStatus !== 'succeeded') {
    const failed = withRun(attempt, { ...merged, state: 'Failed', finishedTime });
    return failAttempt(draft, deps, failed, REASONS.TaskFailed, `task ${run.name} reported failure${said}`);
  }
  const done = withRun(attempt, { ...merged, state: 'Succeeded', finishedTime });
  const sequence = ctx.stage.sequence ?? NO_SEQUENCE;
  const following = sequence.tasks[sequence.tasks.findIndex((t) => t.name === run.name) + 1];
  if (following) {
    draft.replaceAttempt(done);
    const message = `attempt ${attempt.index}: task ${run.name} succeeded${said}${following ? `; next task ${following.name}` : ''}`;
    draft.markReconciling(REASONS.TaskInProgress, message);
    await draft.write('Remediating');
    draft.event('Normal', 'TaskFinished', message);
    return NEXT;
  }
  return awaitEvaluation(
    draft,
    deps,
    ctx.remediation,
    done,
    new Date(finishedTime),
    `attempt ${attempt.index}: task ${run.name} succeeded${said}`,
    'TaskFinished',
    sequence,
  );
}

function taskTimedOut(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  attempt: Attempt,
  run: SequenceTaskRun,
): Promise<StepResult> {
  deps.background.acknowledge(run.id);
  const timedOut = withRun(attempt, { ...run, state: 'Failed', finishedTime: draft.now.toISOString() });
  return failAttempt(
    draft,
    deps,
    timedOut,
    REASONS.TaskTimedOut,
    `no ${taskEventType(run.name, 'finished')} for task ${run.id} before its deadline ${run.deadline ?? ''}`,
  );
}

function withRun(attempt: Attempt, run: SequenceTaskRun): Attempt {
  return { ...attempt, tasks: (attempt.tasks ?? []).map((t) => (t.name === run.name ? run : t)) };
}

export const waitTask: StepFor<'wait-task'> = (draft, _deps, { decision }) =>
  Promise.resolve(draft.delayUntil(decision.until));
