// A problem's story as notification events, derived from its stored status alone (pure): opened,
// then per attempt awaiting-approval, committed, evaluated, escalated, then resolved or exhausted,
// and with revertAfter, reverted (the undo passed, failed and was restored, or left changed keys).
// The list only ever grows at its end as the status moves on (attempts are append-only and each
// step is recorded after the previous one), so "how many steps a sink has taken" is a complete
// record of what it has been sent: a restart derives the same list and goes on from there, and an
// informer that skipped intermediate versions loses nothing.
import type {
  Attempt,
  EvaluationResult,
  NotificationSeverity,
  NotificationStep,
  Phase,
  ProblemEvent,
} from '../api/index.ts';
import { actionValueLabel } from '../actions/types.ts';

/** The problem an event belongs to, as every sink shows it. */
export interface ProblemSummary {
  namespace: string;
  name: string;
  uid: string;
  project: string;
  stage: string;
  service: string;
  title: string;
  rootCause?: string;
  problemID?: string;
  source?: string;
  /** The phase the problem is in now (a Slack thread's first message shows it). */
  phase: Phase | 'Pending';
  createdTime: string;
}

export interface NotificationEvent {
  /** Stable per (problem, step): `<uid>/opened`, `<uid>/2/committed`; the idempotency key receivers de-duplicate by. */
  key: string;
  step: NotificationStep;
  severity: NotificationSeverity;
  /** The event's place in the problem's story, from 0. */
  index: number;
  /** When the step happened (from the status, so a redelivery carries the same time). */
  time: string;
  problem: ProblemSummary;
  attempt?: {
    index: number;
    /** `scale +1`; a URL shows without its credentials. */
    action: string;
    description?: string;
    branch?: string;
    commit?: string;
    result?: EvaluationResult;
    score?: number;
  };
  /** One line a person reads. */
  summary: string;
}

export function summaryOf(problem: ProblemEvent): ProblemSummary {
  const { spec, metadata } = problem;
  return {
    namespace: metadata.namespace ?? 'default',
    name: metadata.name ?? '',
    uid: metadata.uid ?? '',
    project: spec.project,
    stage: spec.stage,
    service: spec.service,
    title: spec.problemTitle,
    ...(spec.rootCause ? { rootCause: spec.rootCause } : {}),
    ...(spec.problemID ? { problemID: spec.problemID } : {}),
    ...(spec.source ? { source: spec.source } : {}),
    phase: problem.status?.phase ?? 'Pending',
    createdTime: toIso(metadata.creationTimestamp) ?? new Date(0).toISOString(),
  };
}

/** Every step the problem's status records, in order. */
export function eventsOf(problem: ProblemEvent): NotificationEvent[] {
  const summary = summaryOf(problem);
  const status = problem.status ?? {};
  const where = `${summary.service} in ${summary.project}/${summary.stage}`;
  const steps: Omit<NotificationEvent, 'index' | 'key' | 'problem'>[] = [];
  steps.push({
    step: 'opened',
    severity: 'warning',
    time: summary.createdTime,
    summary: `problem opened: ${summary.title} (${where})`,
  });
  const attempts = [...(status.attempts ?? [])].sort((a, b) => a.index - b.index);
  attempts.forEach((attempt, i) => {
    const info = attemptInfo(attempt);
    const what = `attempt ${attempt.index} (${info.action})`;
    if (attempt.approval)
      steps.push({
        step: 'awaiting-approval',
        severity: 'warning',
        time: attempt.approval.requestedTime,
        attempt: info,
        summary: `${what} awaits approval${attempt.approval.why ? `: ${attempt.approval.why}` : ''}`,
      });
    const acted = attempt.committedTime ?? attempt.appliedTime ?? attempt.execution?.startedTime;
    if (attempt.commit || acted)
      steps.push({
        step: 'committed',
        severity: 'info',
        time: acted ?? status.startTime ?? summary.createdTime,
        attempt: info,
        summary: attempt.commit
          ? `${what} committed as ${attempt.commit.slice(0, 7)} on ${attempt.branch ?? summary.stage}`
          : `${what} started`,
      });
    if (attempt.result && attempt.evaluationTime)
      steps.push({
        step: 'evaluated',
        severity: attempt.result === 'pass' ? 'info' : 'warning',
        time: attempt.evaluationTime,
        attempt: info,
        summary: `${what} evaluated ${attempt.result}${attempt.score === undefined ? '' : ` with score ${formatScore(attempt.score)}%`}`,
      });
    const next = attempts[i + 1];
    if (attempt.result === 'fail' && next)
      steps.push({
        step: 'escalated',
        severity: 'warning',
        time: next.approval?.requestedTime ?? next.committedTime ?? attempt.evaluationTime ?? summary.createdTime,
        attempt: info,
        summary: `${what} did not help: escalating to attempt ${next.index} (${attemptInfo(next).action})`,
      });
  });
  const end = status.completionTime ?? summary.createdTime;
  const revert = status.revert;
  // Resolved with an undo to come (Reverting), or after it: the resolution's time is kept on the revert.
  if (status.phase === 'Resolved' || status.phase === 'Reverting' || status.phase === 'Reverted')
    steps.push({
      step: 'resolved',
      severity: 'info',
      time: revert?.resolvedTime ?? end,
      summary: `problem resolved (${where})`,
    });
  if (
    revert?.finishedTime &&
    (revert.state === 'Reverted' || revert.state === 'Restored' || revert.state === 'Conflicted')
  )
    steps.push({
      step: 'reverted',
      // A failed revert and its restore are for a person to look at; a key someone changed is worth knowing.
      severity: revert.state === 'Reverted' ? 'info' : revert.state === 'Restored' ? 'error' : 'warning',
      time: revert.finishedTime,
      summary: `${revertSummary(revert.state)} (${where})${revert.message ? `: ${revert.message}` : ''}`,
    });
  if (status.phase === 'Exhausted')
    steps.push({
      step: 'exhausted',
      severity: 'error',
      time: end,
      summary: `every action was tried and none helped: a person must take over (${where})`,
    });
  return steps.map((s, index) => ({
    ...s,
    index,
    key: s.attempt && s.step !== 'opened' ? `${summary.uid}/${s.attempt.index}/${s.step}` : `${summary.uid}/${s.step}`,
    problem: summary,
  }));
}

function revertSummary(state: 'Reverted' | 'Restored' | 'Conflicted'): string {
  if (state === 'Reverted') return 'the remediation was reverted and the service stayed healthy';
  if (state === 'Restored') return 'the revert failed its evaluation: the remediated values were restored';
  return 'the revert left every key alone: someone changed them since';
}

function attemptInfo(attempt: Attempt): NonNullable<NotificationEvent['attempt']> {
  return {
    index: attempt.index,
    action: attempt.value === '' ? attempt.action : `${attempt.action} ${actionValueLabel(attempt.value)}`,
    ...(attempt.description ? { description: attempt.description } : {}),
    ...(attempt.branch ? { branch: attempt.branch } : {}),
    ...(attempt.commit ? { commit: attempt.commit } : {}),
    ...(attempt.result ? { result: attempt.result } : {}),
    ...(attempt.score === undefined ? {} : { score: attempt.score }),
  };
}

function formatScore(score: number): string {
  return Number.isInteger(score) ? String(score) : score.toFixed(2);
}

function toIso(t: Date | string | undefined): string | undefined {
  if (t === undefined) return undefined;
  return t instanceof Date ? t.toISOString() : new Date(t).toISOString();
}
