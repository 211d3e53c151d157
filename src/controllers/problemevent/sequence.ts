// The shipyard's remediation sequence as the loop follows it (keptn-semantics.md §2.2, §2.3). Keptn's
// shipyard-controller ran the tasks in order: get-action, action, then whatever came next (a load test
// run by an executor, `je-test` in the full tour), then the evaluation. Rebound's loop does get-action
// and action itself; every task between the action and the evaluation is dispatched to an executor
// as `sh.keptn.event.<task>.triggered` and awaited; the evaluation task's `timeframe` is the SLI window
// and its `triggeredAfter` the wait before it. Pure: where an attempt is in the sequence, and the
// loop's decision for it (shipyard-sequence.ts reads the plan from the shipyard's tasks).
import type { Attempt, SequenceTaskRun } from '../../api/index.ts';
import type { DispatchedTask, RemediationSequence } from '../../remediation/stage.ts';
import type { Decision } from './decide.ts';

export type TaskProgress =
  /** Every task has succeeded (or there are none): the evaluation's wait runs from `since`. */
  | { kind: 'done'; since: Date }
  /** Task `task` is next and may be sent from `notBefore` on (its `triggeredAfter`). */
  | { kind: 'next'; task: DispatchedTask; notBefore: Date }
  /** Task `run` is under way (recorded, sent or answered): the task step takes it from here. */
  | { kind: 'running'; task: DispatchedTask; run: SequenceTaskRun };

/**
 * Where an applied attempt is in the sequence, from its status alone: the first task that has not
 * succeeded. A failed task has already failed the attempt (its result is set), so it is never seen here.
 */
export function taskProgress(attempt: Attempt, sequence: RemediationSequence): TaskProgress {
  let since = new Date(attempt.liveTime ?? attempt.appliedTime ?? 0);
  for (const task of sequence.tasks) {
    const run = attempt.tasks?.find((t) => t.name === task.name);
    if (!run) return { kind: 'next', task, notBefore: new Date(since.getTime() + task.delayMs) };
    if (run.state !== 'Succeeded') return { kind: 'running', task, run };
    since = new Date(run.finishedTime ?? run.callbackTime ?? since.toISOString());
  }
  return { kind: 'done', since };
}

export type TaskDecision = Extract<Decision, { kind: 'run-task' | 'wait-task' }>;

/**
 * The loop's next step for an applied attempt while its sequence has tasks left, or undefined when
 * they are all done (the evaluation is next). Waits are decided here (a task's `triggeredAfter`, an
 * executor that has until its deadline); everything else is the task step's.
 */
export function taskDecision(
  attempt: Attempt,
  sequence: RemediationSequence | undefined,
  now: Date,
): TaskDecision | undefined {
  if (!sequence || sequence.tasks.length === 0) return undefined;
  const progress = taskProgress(attempt, sequence);
  const { index } = attempt;
  switch (progress.kind) {
    case 'done':
      return undefined;
    case 'next':
      return progress.notBefore.getTime() > now.getTime()
        ? { kind: 'wait-task', index, task: progress.task.name, until: progress.notBefore }
        : { kind: 'run-task', index, task: progress.task.name };
    case 'running': {
      const { run } = progress;
      // An answer may overtake the loop's record of the send: it counts either way.
      if (run.callbackStatus === undefined && run.state === 'Waiting') {
        const deadline = new Date(run.deadline ?? 0);
        if (deadline.getTime() > now.getTime())
          return { kind: 'wait-task', index, task: progress.task.name, until: deadline };
      }
      return { kind: 'run-task', index, task: progress.task.name };
    }
  }
}

/**
 * The SLI window of an attempt's evaluation: the shipyard evaluation task's `timeframe` back from the
 * evaluation (Keptn's `evaluation.triggered` had start = now − timeframe), else from when the change
 * was live (its rollout finished), or applied when nothing rolled out.
 */
export function evaluationWindow(
  attempt: Attempt,
  now: Date,
  sequence: RemediationSequence | undefined,
): { start: Date; end: Date } {
  if (sequence?.timeframeMs !== undefined) return { start: new Date(now.getTime() - sequence.timeframeMs), end: now };
  return { start: new Date(attempt.liveTime ?? attempt.appliedTime ?? now.toISOString()), end: now };
}
