// What an attempt's action came to, however it ran (in the reconcile, in the background, through a
// callback): it took effect and the evaluation's wait starts, or it failed and the loop escalates.
import { CONDITION_TYPES, REASONS } from '../../../api/index.ts';
import type { Attempt, Reason, Remediation } from '../../../api/index.ts';
import type { ProblemLoopPorts } from '../ports.ts';
import { parseDuration } from '../decide.ts';
import type { StatusDraft } from './draft.ts';
import { label } from './draft.ts';
import { NEXT } from './types.ts';
import type { StepResult } from './types.ts';

/** Keptn's wait before an evaluation, used if a wait that passed validation still does not parse. */
const FALLBACK_WAIT_MS = 120_000;

/**
 * The action took effect: record it and wait before evaluating. `warning`: a GitOps engine manages
 * the workload a helm/kubernetes stage changed, and will undo it.
 */
export async function applied(draft: StatusDraft, deps: ProblemLoopPorts, remediation: Remediation | undefined, attempt: Attempt, appliedAt: Date, detail: string, warning?: string): Promise<StepResult> {
  const waitMs = evaluationWaitMs(deps, remediation);
  // The evaluation window starts when the action took effect (a Helm run or a runbook can take a while).
  const due = new Date(appliedAt.getTime() + waitMs);
  draft.replaceAttempt({ ...attempt, appliedTime: appliedAt.toISOString() });
  draft.update({ nextEvaluationTime: due.toISOString() });
  const message = `attempt ${attempt.index} applied: ${detail}; evaluation at ${due.toISOString()}`;
  draft.markReconciling(REASONS.WaitingForEvaluation, message);
  if (warning) draft.setCondition({ type: CONDITION_TYPES.GitOpsConflict, status: 'True', reason: REASONS.ManagedByGitOps, message: warning });
  await draft.write('Evaluating');
  draft.event('Normal', 'Applied', message);
  if (warning) draft.event('Warning', REASONS.ManagedByGitOps, warning);
  return { requeueAfterMs: Math.max(1, waitMs) };
}

/** The action itself failed: the attempt fails without an evaluation, and the loop moves on. */
export async function failAttempt(draft: StatusDraft, deps: ProblemLoopPorts, attempt: Attempt, reason: Reason, detail: string): Promise<StepResult> {
  draft.replaceAttempt({ ...attempt, result: 'fail', message: truncate(detail, 4096) });
  draft.update({ lastResult: 'fail' });
  draft.clearNextEvaluation();
  deps.metrics?.attempt(attempt.action, 'action_failed');
  const message = `attempt ${attempt.index} (${label(attempt)}) failed: ${detail}: escalating to the next action`;
  draft.markReconciling(reason, message);
  await draft.write('Remediating');
  draft.event('Warning', 'ActionFailed', message);
  return NEXT;
}

/** The policy's wait, without reading the policy again (the wait never comes from Git). */
function evaluationWaitMs(deps: ProblemLoopPorts, remediation: Remediation | undefined): number {
  try {
    return parseDuration(deps.policies.evaluationWait(remediation));
  } catch {
    return FALLBACK_WAIT_MS;
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
