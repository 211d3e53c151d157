// The ProblemEvent loop's decisions, as a pure function of what the controller can see: the problem,
// its siblings for the same project/stage/service (from the informer cache, for the limits), the
// stage's settings and the policy. Whose turn it is is not decided here: a cache cannot decide it
// (service-turn.ts claims it on the API server). Everything is derived from stored status, so a restarted controller decides the
// same next step: there is no in-memory state to lose.
import { isSettled, isTerminal, parseDuration } from '../../api/index.ts';
import type { Attempt, ProblemEvent, Reason, RemediationLimits } from '../../api/index.ts';
import { ANNOTATIONS } from '../../api/index.ts';
import { refKey } from '../../runtime/keys.ts';
import { attemptStartedAt as startedAt } from '../../rules/budgets.ts';
import type { HoldOutcome } from '../../rules/holds.ts';
import { taskDecision } from './sequence.ts';
import type { RemediationSequence } from '../../remediation/stage.ts';

export interface StageSettings {
  remediation: 'automated' | 'manual' | 'disabled';
  /** The shipyard's remediation sequence: tasks to run after the action, the evaluation's timeframe. */
  sequence?: RemediationSequence;
}

export interface DecisionInput {
  problem: ProblemEvent;
  /** Every ProblemEvent for the same project/stage/service in the namespace, the problem included. */
  siblings: readonly ProblemEvent[];
  now: Date;
  /** undefined when the Project or its stage does not exist (the caller says which). */
  stage: StageSettings | undefined;
  limits: RemediationLimits | undefined;
  /**
   * The Project's rules for a new attempt (deny windows, budgets, circuit breaker: src/rules/holds.ts),
   * asked only when an attempt would start.
   */
  holds?: () => HoldOutcome;
}

export type Decision =
  /** Nothing to do: finished, or suspended by a person. */
  | { kind: 'done'; why: string }
  /** The source said the problem is over. */
  | { kind: 'resolve-by-source' }
  /** The stage does not let Rebound act. */
  | { kind: 'unhandled-by-stage'; mode: 'disabled' }
  /** A limit holds the next action back until `until`. */
  | { kind: 'throttled'; limit: 'cooldown' | 'maxActionsPerHour'; until: Date }
  /** A Project rule (deny window, budget, circuit breaker) holds the next attempt back. */
  | { kind: 'held'; reason: Reason; message: string; until?: Date }
  /**
   * Start attempt `index` (counts from 1): choose, commit, push, apply; or ask for approval first.
   * `breakGlass` says which deny window it runs inside and which policy entry lets it.
   */
  | { kind: 'start-attempt'; index: number; breakGlass?: string }
  /** Attempt `index` waits for people's Approvals (until `until`, its deadline, when it has one). */
  | { kind: 'await-approval'; index: number; until?: Date }
  /** Attempt `index` was not answered before its deadline. */
  | { kind: 'approval-timed-out'; index: number }
  /** Attempt `index` is recorded (and committed, for a values edit) but its action has not run yet: run it. */
  | { kind: 'apply-attempt'; index: number }
  /** Attempt `index`'s action waits for its callback until `until`. */
  | { kind: 'wait-action'; index: number; until: Date }
  /** Attempt `index`'s callback has arrived: turn it into the attempt's outcome. */
  | { kind: 'complete-action'; index: number }
  /** Attempt `index`'s callback did not arrive in time: the attempt fails. */
  | { kind: 'action-timed-out'; index: number }
  /** Attempt `index`'s commit was handed to a GitOps engine: has it reported the commit yet? */
  | { kind: 'wait-sync'; index: number }
  /** Attempt `index` is applied and its workloads are rolling out: is the change live yet? */
  | { kind: 'wait-live'; index: number }
  /** Attempt `index` is applied and the sequence's task `task` is next or answered: send it, or record its answer. */
  | { kind: 'run-task'; index: number; task: string }
  /** Attempt `index`'s sequence task `task` waits: for its `triggeredAfter`, or for its executor until its deadline. */
  | { kind: 'wait-task'; index: number; task: string; until: Date }
  /** Attempt `index` is applied; its evaluation is due at `at`. */
  | { kind: 'wait-evaluation'; index: number; at: Date }
  /** Attempt `index` is applied and its wait is over: evaluate it. */
  | { kind: 'evaluate'; index: number }
  /** Resolved, and the undo of its changes (revertAfter) waits until `until`: for its time, or its evaluation. */
  | { kind: 'wait-revert'; until: Date }
  /** Another problem of the service is open: it did not stay resolved, and the undo is called off. */
  | { kind: 'cancel-revert'; why: string }
  /** revertAfter has passed: commit the inverse edit of the attempts' changes. */
  | { kind: 'commit-revert' }
  /** The revert is committed: apply it like an action. */
  | { kind: 'apply-revert' }
  /** The revert's commit was handed to the stage's GitOps engine: has it reported it? */
  | { kind: 'wait-revert-sync' }
  /** The revert is applied and its workloads are rolling out: is it live yet? */
  | { kind: 'wait-revert-live' }
  /** The revert is applied and its wait is over: evaluate it. */
  | { kind: 'evaluate-revert' }
  /** The revert failed its evaluation: commit and apply the remediated values again. */
  | { kind: 'restore' };

/** The undo after resolve's decisions: they run without the service's turn (a Reverting problem gave it back). */
const REVERT_KINDS: ReadonlySet<Decision['kind']> = new Set([
  'wait-revert',
  'cancel-revert',
  'commit-revert',
  'apply-revert',
  'wait-revert-sync',
  'wait-revert-live',
  'evaluate-revert',
  'restore',
]);

export function decide(input: DecisionInput): Decision {
  const { problem, now } = input;
  const status = problem.status ?? {};
  if (isTerminal(status.phase)) return { kind: 'done', why: `phase is ${status.phase}` };
  // Resolved with an undo to come: the source saying RESOLVED is what is expected here.
  if (status.phase === 'Reverting') {
    if (problem.metadata.annotations?.[ANNOTATIONS.suspend] === 'true')
      return { kind: 'done', why: 'suspended by annotation' };
    return revertDecision(input);
  }
  if (problem.spec.state === 'RESOLVED') return { kind: 'resolve-by-source' };
  if (problem.metadata.annotations?.[ANNOTATIONS.suspend] === 'true')
    return { kind: 'done', why: 'suspended by annotation' };
  // A manual stage acts too, but every action waits for a person's approval (steps/approval.ts).
  if (input.stage?.remediation === 'disabled') return { kind: 'unhandled-by-stage', mode: 'disabled' };

  const attempts = status.attempts ?? [];
  const last = attempts[attempts.length - 1];
  if (last && last.result === undefined) {
    const approval = last.approval;
    if (approval?.state === 'Pending') {
      if (approval.deadline === undefined) return { kind: 'await-approval', index: last.index };
      const deadline = new Date(approval.deadline);
      if (deadline.getTime() <= now.getTime()) return { kind: 'approval-timed-out', index: last.index };
      return { kind: 'await-approval', index: last.index, until: deadline };
    }
    // Approved and not yet carried out: the attempt starts for real (the holds do not apply: a person decided).
    if (approval?.state === 'Approved' && last.commit === undefined && last.execution === undefined)
      return { kind: 'start-attempt', index: last.index };
    if (last.appliedTime === undefined) {
      // The engine was asked to sync: the attempt is applied once it reports the commit.
      if (last.sync) return { kind: 'wait-sync', index: last.index };
      const execution = last.execution;
      // A callback may arrive before the loop has recorded that the call went out: it counts either way.
      if (execution?.callbackStatus !== undefined) return { kind: 'complete-action', index: last.index };
      if (execution?.state !== 'Waiting') return { kind: 'apply-attempt', index: last.index };
      const deadline = new Date(execution.deadline ?? 0);
      if (deadline.getTime() <= now.getTime()) return { kind: 'action-timed-out', index: last.index };
      return { kind: 'wait-action', index: last.index, until: deadline };
    }
    // Applied is not live: the evaluation and the sequence's tasks wait for the rollout.
    if (last.rollout && last.liveTime === undefined) return { kind: 'wait-live', index: last.index };
    const task = taskDecision(last, input.stage?.sequence, now);
    if (task) return task;
    const due = evaluationDue(last, status.nextEvaluationTime);
    if (due.getTime() > now.getTime()) return { kind: 'wait-evaluation', index: last.index, at: due };
    return { kind: 'evaluate', index: last.index };
  }
  // No attempt yet, or the last one failed its evaluation: the next action, if a limit allows.
  const held = heldByLimits(input.siblings, input.limits, now);
  if (held) return held;
  const index = (last?.index ?? 0) + 1;
  const rules = input.holds?.() ?? { kind: 'none' };
  if (rules.kind === 'held') return { kind: 'held', ...rules.hold };
  if (rules.kind === 'break-glass') return { kind: 'start-attempt', index, breakGlass: rules.note };
  return { kind: 'start-attempt', index };
}

/** Where the undo of a resolved problem's changes stands (status.revert), and what comes next. */
function revertDecision({ problem, siblings, now }: DecisionInput): Decision {
  const revert = problem.status?.revert;
  switch (revert?.state) {
    case 'Waiting': {
      const self = keyOf(problem);
      const open = siblings.find(
        (p) => keyOf(p) !== self && !isSettled(p.status?.phase) && p.spec.state !== 'RESOLVED',
      );
      if (open) return { kind: 'cancel-revert', why: `problem ${open.metadata.name ?? ''} of the service is open` };
      const due = new Date(revert.dueTime ?? 0);
      if (due.getTime() > now.getTime()) return { kind: 'wait-revert', until: due };
      return { kind: 'commit-revert' };
    }
    case 'Committed':
      if (revert.sync && revert.sync.syncedTime === undefined) return { kind: 'wait-revert-sync' };
      return { kind: 'apply-revert' };
    case 'Applied': {
      if (revert.rollout && revert.liveTime === undefined) return { kind: 'wait-revert-live' };
      const due = new Date(problem.status?.nextEvaluationTime ?? revert.appliedTime ?? 0);
      if (due.getTime() > now.getTime()) return { kind: 'wait-revert', until: due };
      return { kind: 'evaluate-revert' };
    }
    case 'Restoring':
      return { kind: 'restore' };
    default:
      return { kind: 'done', why: `the revert is ${revert?.state ?? 'not recorded'}` };
  }
}

/**
 * Decisions taken by the problem that holds its service's turn (one remediation at a time per
 * project/stage/service): the turn is claimed on the API server before any of them (service-turn.ts).
 * The others finish a problem, or do nothing, and need no turn.
 */
export function needsTurn(decision: Decision): boolean {
  return (
    decision.kind !== 'done' &&
    decision.kind !== 'resolve-by-source' &&
    decision.kind !== 'unhandled-by-stage' &&
    !REVERT_KINDS.has(decision.kind)
  );
}

/** Decisions that act outside the status (a commit, an apply, a call): the claim is read fresh before them. */
export function actsOutside(decision: Decision): boolean {
  return decision.kind === 'start-attempt' || decision.kind === 'apply-attempt';
}

function timeOf(value: Date | string | undefined): number {
  if (value === undefined) return Number.MAX_SAFE_INTEGER;
  return new Date(value).getTime();
}

export function keyOf(problem: ProblemEvent): string {
  return refKey({ namespace: problem.metadata.namespace, name: problem.metadata.name ?? '' });
}

function evaluationDue(attempt: Attempt, nextEvaluationTime: string | undefined): Date {
  if (nextEvaluationTime) return new Date(nextEvaluationTime);
  return new Date(attempt.liveTime ?? attempt.appliedTime ?? 0);
}

const HOUR_MS = 3_600_000;

/** Cooldown and hourly budget, counted over every problem of the service (deleted ones are forgotten). */
export function heldByLimits(
  siblings: readonly ProblemEvent[],
  limits: RemediationLimits | undefined,
  now: Date,
): Decision | undefined {
  if (!limits) return undefined;
  const attempts = siblings.flatMap((p) => p.status?.attempts ?? []);
  const cooldownMs = limits.cooldown ? parseDuration(limits.cooldown) : 0;
  if (cooldownMs > 0) {
    const lastAction = Math.max(
      0,
      ...attempts.map((a) => timeOf(a.appliedTime ?? startedAt(a))).filter((t) => t !== Number.MAX_SAFE_INTEGER),
    );
    if (lastAction > 0 && lastAction + cooldownMs > now.getTime()) {
      return { kind: 'throttled', limit: 'cooldown', until: new Date(lastAction + cooldownMs) };
    }
  }
  const max = limits.maxActionsPerHour;
  if (max !== undefined && max >= 0) {
    const recent = attempts
      .map((a) => timeOf(startedAt(a)))
      .filter((t) => t !== Number.MAX_SAFE_INTEGER && t > now.getTime() - HOUR_MS)
      .sort((a, b) => a - b);
    if (recent.length >= max) {
      // The budget frees up when the oldest action in the window leaves it.
      const oldest = recent[recent.length - max] ?? now.getTime();
      return { kind: 'throttled', limit: 'maxActionsPerHour', until: new Date(oldest + HOUR_MS) };
    }
  }
  return undefined;
}
