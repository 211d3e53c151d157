// What an attempt's action came to, however it ran (in the reconcile, in the background, through a
// callback): it took effect and the evaluation's wait starts, or it failed and the loop escalates.
import { CONDITION_TYPES, REASONS } from '../../../api/index.ts';
import type { Attempt, Reason, Remediation } from '../../../api/index.ts';
import type { ProblemLoopPorts } from '../ports.ts';
import { parseDuration } from '../../../api/duration.ts';
import { NO_SEQUENCE } from '../../../remediation/stage.ts';
import type { RemediationSequence } from '../../../remediation/stage.ts';
import type { StatusDraft } from './draft.ts';
import { label } from './draft.ts';
import { NEXT } from './types.ts';
import type { StepContext, StepResult } from './types.ts';
import { postCommitStatus, problemTitle } from './forge-status.ts';

/** Keptn's wait before an evaluation, used if a wait that passed validation still does not parse. */
const FALLBACK_WAIT_MS = 120_000;

/**
 * The action took effect: record it. When the apply started a rollout (and the controller waits for
 * rollouts), the change is live only once it has finished: the wait-live step (steps/live.ts) looks
 * at once and carries on from there. Otherwise it is live now: the shipyard sequence's first task
 * after the action if it has one (the task step sends it), else wait before evaluating. `warning`: a
 * GitOps engine manages the workload a helm/kubernetes stage changed, and will undo it.
 */
export async function applied(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  remediation: Remediation | undefined,
  attempt: Attempt,
  appliedAt: Date,
  detail: string,
  sequence: RemediationSequence = NO_SEQUENCE,
  warning?: string,
  options: { rollout?: boolean } = {},
): Promise<StepResult> {
  const done = { ...attempt, appliedTime: appliedAt.toISOString() };
  if (options.rollout && deps.rollouts) {
    draft.replaceAttempt({ ...done, rollout: { state: 'Progressing', startedTime: done.appliedTime } });
    if (warning) gitOpsWarning(draft, warning);
    draft.clearNextEvaluation();
    const message = `attempt ${attempt.index} applied: ${detail}; waiting for the rollout`;
    draft.markReconciling(REASONS.WaitingForRollout, message);
    await draft.write('Remediating');
    draft.event('Normal', 'Applied', message);
    if (warning) draft.event('Warning', REASONS.ManagedByGitOps, warning);
    return NEXT;
  }
  return live(draft, deps, remediation, done, appliedAt, `attempt ${attempt.index} applied: ${detail}`, 'Applied', {
    sequence,
    ...(warning ? { warning } : {}),
  });
}

/**
 * The change is live at `at` (applied, or its rollout finished): the shipyard sequence's first task
 * after the action if it has one, else the evaluation's wait, both counted from `at`.
 */
export async function live(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  remediation: Remediation | undefined,
  attempt: Attempt,
  at: Date,
  what: string,
  eventReason: string,
  { sequence = NO_SEQUENCE, warning }: { sequence?: RemediationSequence | undefined; warning?: string },
): Promise<StepResult> {
  const first = sequence.tasks[0];
  if (!first) return awaitEvaluation(draft, deps, remediation, attempt, at, what, eventReason, sequence, warning);
  draft.replaceAttempt(attempt);
  if (warning) gitOpsWarning(draft, warning);
  draft.clearNextEvaluation();
  const message = `${what}; next the remediation sequence's task ${first.name}`;
  draft.markReconciling(REASONS.TaskInProgress, message);
  await draft.write('Remediating');
  draft.event('Normal', eventReason, message);
  if (warning) draft.event('Warning', REASONS.ManagedByGitOps, warning);
  return NEXT;
}

function gitOpsWarning(draft: StatusDraft, warning: string): void {
  draft.setCondition({
    type: CONDITION_TYPES.GitOpsConflict,
    status: 'True',
    reason: REASONS.ManagedByGitOps,
    message: warning,
  });
}

/** The evaluation's wait starts at `from` (the action took effect, or the sequence's last task finished). */
export async function awaitEvaluation(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  remediation: Remediation | undefined,
  attempt: Attempt,
  from: Date,
  what: string,
  eventReason: string,
  sequence: RemediationSequence,
  warning?: string,
): Promise<StepResult> {
  const waitMs = evaluationWaitMs(deps, remediation, sequence);
  const due = new Date(from.getTime() + waitMs);
  draft.replaceAttempt(attempt);
  draft.update({ nextEvaluationTime: due.toISOString() });
  const message = `${what}; evaluation at ${due.toISOString()}`;
  draft.markReconciling(REASONS.WaitingForEvaluation, message);
  if (warning) gitOpsWarning(draft, warning);
  await draft.write('Evaluating');
  draft.event('Normal', eventReason, message);
  if (warning) draft.event('Warning', REASONS.ManagedByGitOps, warning);
  return draft.delayUntil(due);
}

/** The action itself failed: the attempt fails without an evaluation, and the loop moves on. */
export async function failAttempt(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  attempt: Attempt,
  reason: Reason,
  detail: string,
  ctx?: Pick<StepContext, 'project' | 'stage'>,
): Promise<StepResult> {
  draft.replaceAttempt({ ...attempt, result: 'fail', message: truncate(detail, 4096) });
  draft.update({ lastResult: 'fail' });
  draft.clearNextEvaluation();
  deps.metrics?.attempt(attempt.action, 'action_failed');
  const message = `attempt ${attempt.index} (${label(attempt)}) failed: ${detail}: escalating to the next action`;
  draft.markReconciling(reason, message);
  await draft.write('Remediating');
  draft.event('Warning', 'ActionFailed', message);
  if (ctx) postCommitStatus(draft, deps, ctx, attempt, 'failure', `${problemTitle(draft)}: ${message}`);
  return NEXT;
}

/**
 * The wait before an evaluation, without reading the policy again (it never comes from Git): a
 * Remediation's own `spec.evaluation.wait`, else the shipyard evaluation task's `triggeredAfter`, else
 * the controller's --evaluation-wait.
 */
export function evaluationWaitMs(
  deps: ProblemLoopPorts,
  remediation: Remediation | undefined,
  sequence: RemediationSequence = NO_SEQUENCE,
): number {
  if (remediation?.spec.evaluation?.wait === undefined && sequence.evaluationWaitMs !== undefined)
    return sequence.evaluationWaitMs;
  try {
    return parseDuration(deps.policies.evaluationWait(remediation));
  } catch {
    return FALLBACK_WAIT_MS;
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
