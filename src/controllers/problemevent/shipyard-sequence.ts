// The plan for a stage's remediation sequence, read from the shipyard's tasks (as the Project
// controller recorded them): which tasks Rebound dispatches after the action, and the evaluation
// task's timeframe and wait. Durations that do not parse are left out (the shipyard parser reports them).
import type { RemediationTaskSpec } from '../../api/index.ts';
import { parseDuration } from '../../api/duration.ts';
import { NO_SEQUENCE } from '../../remediation/stage.ts';
import type { ApprovalStrategy, ApprovalTask, RemediationSequence } from '../../remediation/stage.ts';

/** Tasks the loop carries out itself; an approval is for a person (not dispatched). */
export const LOOP_TASKS: ReadonlySet<string> = new Set(['get-action', 'action', 'evaluation', 'approval']);

/**
 * The plan for a stage's remediation tasks (undefined: the stage has no shipyard sequence, e.g. the
 * Project lists its stages). Tasks before the action other than get-action, and tasks after the
 * evaluation, are not run (`rebound migrate` reports them).
 */
export function remediationSequence(tasks: readonly RemediationTaskSpec[] | undefined): RemediationSequence {
  if (!tasks || tasks.length === 0) return NO_SEQUENCE;
  const names = tasks.map((t) => t.name);
  const action = names.indexOf('action');
  const start = action >= 0 ? action + 1 : names.indexOf('get-action') + 1;
  const evaluationAt = names.indexOf('evaluation', start);
  const end = evaluationAt >= 0 ? evaluationAt : tasks.length;
  const dispatched = tasks
    .slice(start, end)
    .filter((t) => !LOOP_TASKS.has(t.name))
    .map((t) => ({
      name: t.name,
      delayMs: durationOr(t.triggeredAfter, 0),
      ...(t.properties ? { properties: t.properties } : {}),
    }));
  const evaluation = evaluationAt >= 0 ? tasks[evaluationAt] : undefined;
  const timeframe = evaluation?.properties?.['timeframe'];
  const timeframeMs = typeof timeframe === 'string' ? durationOr(timeframe, undefined) : undefined;
  const evaluationWaitMs =
    evaluation?.triggeredAfter === undefined ? undefined : durationOr(evaluation.triggeredAfter, undefined);
  const approval = approvalTask(tasks);
  return {
    ...(approval ? { approval } : {}),
    tasks: dispatched,
    ...(evaluationWaitMs !== undefined ? { evaluationWaitMs } : {}),
    ...(timeframeMs !== undefined && timeframeMs > 0 ? { timeframeMs } : {}),
  };
}

/** Where the `approval` task that holds the action back is: the first one before the action (or before the evaluation when there is no action task), or -1. */
export function approvalTaskIndex(tasks: readonly { name: string }[]): number {
  const names = tasks.map((t) => t.name);
  const action = names.indexOf('action');
  const evaluation = names.indexOf('evaluation');
  const end = action >= 0 ? action : evaluation >= 0 ? evaluation : names.length;
  const at = names.indexOf('approval');
  return at >= 0 && at < end ? at : -1;
}

/**
 * The `approval` task that comes before the action: Keptn's approval-service approved
 * on its own only where the setting for the previous task's result said `automatic`; anything else,
 * a missing setting included, waited for a person.
 */
function approvalTask(tasks: readonly RemediationTaskSpec[]): ApprovalTask | undefined {
  const task = tasks[approvalTaskIndex(tasks)];
  if (!task) return undefined;
  return { pass: strategy(task.properties?.['pass']), warning: strategy(task.properties?.['warning']) };
}

function strategy(value: unknown): ApprovalStrategy {
  return value === 'automatic' ? 'automatic' : 'manual';
}

/** Whether a shipyard `timeframe` reads as a duration (`2m`, `1h30m`). */
export function isTimeframe(text: string): boolean {
  return durationOr(text, undefined) !== undefined;
}

function durationOr<T>(text: string | undefined, fallback: T): number | T {
  if (text === undefined) return fallback;
  try {
    return parseDuration(text);
  } catch {
    return fallback;
  }
}
