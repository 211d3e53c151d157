// Did the action help? The SLOs over the window since it took effect (or the shipyard's timeframe): pass or warning resolves the
// problem, fail escalates to the next action. A metrics source that is down says nothing about the
// service: the evaluation is postponed, never a failed attempt.
import { REASONS } from '../../../api/index.ts';
import type { EvaluationResult, Reason } from '../../../api/index.ts';
import type { ProblemLoopPorts } from '../ports.ts';
import type { EvaluationOutcome } from '../ports.ts';
import { ReboundError, errorMessage, failureReason } from '../../../errors.ts';
import { evaluationWindow } from '../sequence.ts';
import { label } from './draft.ts';
import { finish, stall } from './finish.ts';
import { postCommitStatus, problemTitle } from './forge-status.ts';
import { commentVerdict } from './proposal.ts';
import { scheduleRevert } from './revert.ts';
import { NEXT } from './types.ts';
import type { StepFor } from './types.ts';

/** How soon an evaluation waiting for a scrape from after the action looks again. */
const METRICS_RETRY_MS = 5_000;

export const evaluate: StepFor<'evaluate'> = async (
  draft,
  deps,
  { decision: { index }, project, stage, remediation, signal, span: stepSpan },
) => {
  const attempt = draft.attempt(index);
  if (!attempt?.appliedTime) return NEXT;
  const repository = await deps.repositories.forProject(project);
  const started = performance.now();
  const observe = (result: EvaluationResult | 'error'): void =>
    deps.metrics?.evaluation?.(result, (performance.now() - started) / 1000);
  let outcome: EvaluationOutcome;
  const window = evaluationWindow(attempt, draft.now, stage.sequence);
  const span = stepSpan.child('evaluation', {
    'rebound.evaluation.start': window.start.toISOString(),
    'rebound.evaluation.end': window.end.toISOString(),
  });
  try {
    outcome = await deps.evaluator.evaluate({
      problem: draft.problem,
      project,
      stage,
      repository,
      ...(attempt.commit ? { commit: attempt.commit } : {}),
      window,
      signal,
      span,
    });
  } catch (err) {
    observe('error');
    if (err instanceof ReboundError && err.retryable) {
      // The metrics source (or Git, for slo.yaml) being down says nothing about the service: try
      // later, never a failed attempt; the reason says which one is down.
      const reason = failureReason(err, REASONS.PrometheusUnavailable);
      draft.markReconciling(reason, `evaluation postponed: ${err.message}`);
      // In the trace: waiting for a scrape is routine, a metrics source out of reach is a failure.
      const postponed = `evaluation postponed: ${err.message}`;
      if (reason === REASONS.WaitingForMetrics) {
        span.setAttributes({ 'rebound.evaluation.postponed': postponed });
        stepSpan.setAttributes({ 'rebound.evaluation.postponed': postponed });
      } else {
        span.fail(errorMessage(err));
        stepSpan.fail(postponed);
      }
      span.end();
      await draft.write();
      return { requeueAfterMs: postponedRetryMs(deps, reason) };
    }
    span.fail(errorMessage(err));
    span.end();
    return stall(
      draft,
      deps,
      failureReason(err, REASONS.EvaluationErrored),
      `attempt ${index} could not be evaluated: ${errorMessage(err)}`,
    );
  }
  span.setAttributes({ 'rebound.result': outcome.result, 'rebound.score': outcome.score });
  span.end();
  observe(outcome.result);
  draft.replaceAttempt({
    ...attempt,
    evaluationStart: window.start.toISOString(),
    evaluationTime: draft.now.toISOString(),
    result: outcome.result,
    score: outcome.score,
    indicatorResults: outcome.indicatorResults.slice(0, 64),
    message: outcome.message,
  });
  draft.update({ lastResult: outcome.result });
  draft.clearNextEvaluation();
  deps.metrics?.attempt(attempt.action, outcome.result);
  const summary = `attempt ${index} (${label(attempt)}) evaluated ${outcome.result} with score ${formatScore(outcome.score)}%`;
  postCommitStatus(
    draft,
    deps,
    { project, stage },
    attempt,
    outcome.result === 'fail' ? 'failure' : 'success',
    `${problemTitle(draft)}: ${summary}${outcome.result === 'fail' ? ', escalating' : ', resolved'}`,
  );
  commentVerdict(
    deps,
    { project },
    attempt,
    `Rebound: ${summary}${outcome.result === 'fail' ? ': escalating to the next action' : ': the problem is resolved'}.`,
  );
  if (outcome.result !== 'fail') {
    draft.event('Normal', 'Evaluated', summary);
    const reason = outcome.result === 'pass' ? REASONS.EvaluationPassed : REASONS.EvaluationWarning;
    // The policy entry asks for its changes to be undone once the problem stays resolved (revertAfter).
    const reverting = await scheduleRevert(draft, deps, { remediation }, reason, summary);
    if (reverting) return reverting;
    return finish(
      draft,
      deps,
      'Resolved',
      outcome.result === 'pass' ? REASONS.EvaluationPassed : REASONS.EvaluationWarning,
      summary,
      'Normal',
    );
  }
  draft.markReconciling(REASONS.Escalated, `${summary}: escalating to the next action`);
  await draft.write('Remediating');
  draft.event('Warning', 'Escalated', `${summary}: escalating to the next action`);
  return NEXT;
};

/**
 * When a postponed evaluation (an attempt's or a revert's) looks again: data from after the action
 * is one scrape away, so soon, not after an outage's delay.
 */
export function postponedRetryMs(deps: ProblemLoopPorts, reason: Reason): number {
  return reason === REASONS.WaitingForMetrics
    ? Math.min(deps.settings.evaluationRetryMs, METRICS_RETRY_MS)
    : deps.settings.evaluationRetryMs;
}

function formatScore(score: number): string {
  return Number.isInteger(score) ? String(score) : score.toFixed(2);
}
