// The ProblemEvent loop's decisions, as a pure function of what the controller can see: the problem,
// its siblings for the same project/stage/service (from the informer cache, for the limits), the
// stage's settings and the policy. Whose turn it is is not decided here: a cache cannot decide it
// (service-turn.ts claims it on the API server). Everything is derived from stored status, so a restarted controller decides the
// same next step: there is no in-memory state to lose.
import { TERMINAL_PHASES } from '../../api/index.ts';
import type { Attempt, Phase, ProblemEvent, RemediationLimits } from '../../api/index.ts';
import { ANNOTATIONS } from '../../api/index.ts';
import { refKey } from '../../runtime/keys.ts';

export interface StageSettings {
  remediation: 'automated' | 'manual' | 'disabled';
}

export interface DecisionInput {
  problem: ProblemEvent;
  /** Every ProblemEvent for the same project/stage/service in the namespace, the problem included. */
  siblings: readonly ProblemEvent[];
  now: Date;
  /** undefined when the Project or its stage does not exist (the caller says which). */
  stage: StageSettings | undefined;
  limits: RemediationLimits | undefined;
}

export type Decision =
  /** Nothing to do: finished, or suspended by a person. */
  | { kind: 'done'; why: string }
  /** The source said the problem is over. */
  | { kind: 'resolve-by-source' }
  /** The stage does not let Rebound act. */
  | { kind: 'unhandled-by-stage'; mode: 'manual' | 'disabled' }
  /** A limit holds the next action back until `until`. */
  | { kind: 'throttled'; limit: 'cooldown' | 'maxActionsPerHour'; until: Date }
  /** Start attempt `index` (counts from 1): choose, commit, push, apply. */
  | { kind: 'start-attempt'; index: number }
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
  /** Attempt `index` is applied; its evaluation is due at `at`. */
  | { kind: 'wait-evaluation'; index: number; at: Date }
  /** Attempt `index` is applied and its wait is over: evaluate it. */
  | { kind: 'evaluate'; index: number };

export function isTerminal(phase: Phase | undefined): boolean {
  return phase !== undefined && TERMINAL_PHASES.includes(phase);
}

export function decide(input: DecisionInput): Decision {
  const { problem, now } = input;
  const status = problem.status ?? {};
  if (isTerminal(status.phase)) return { kind: 'done', why: `phase is ${status.phase}` };
  if (problem.spec.state === 'RESOLVED') return { kind: 'resolve-by-source' };
  if (problem.metadata.annotations?.[ANNOTATIONS.suspend] === 'true') return { kind: 'done', why: 'suspended by annotation' };
  if (input.stage && input.stage.remediation !== 'automated') return { kind: 'unhandled-by-stage', mode: input.stage.remediation };

  const attempts = status.attempts ?? [];
  const last = attempts[attempts.length - 1];
  if (last && last.result === undefined) {
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
    const due = evaluationDue(last, status.nextEvaluationTime);
    if (due.getTime() > now.getTime()) return { kind: 'wait-evaluation', index: last.index, at: due };
    return { kind: 'evaluate', index: last.index };
  }
  // No attempt yet, or the last one failed its evaluation: the next action, if a limit allows.
  const held = heldByLimits(input.siblings, input.limits, now);
  if (held) return held;
  return { kind: 'start-attempt', index: (last?.index ?? 0) + 1 };
}

/**
 * Decisions taken by the problem that holds its service's turn (one remediation at a time per
 * project/stage/service): the turn is claimed on the API server before any of them (service-turn.ts).
 * The others finish a problem, or do nothing, and need no turn.
 */
export function needsTurn(decision: Decision): boolean {
  return decision.kind !== 'done' && decision.kind !== 'resolve-by-source' && decision.kind !== 'unhandled-by-stage';
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
  return new Date(attempt.appliedTime ?? 0);
}

const HOUR_MS = 3_600_000;

/** Cooldown and hourly budget, counted over every problem of the service (deleted ones are forgotten). */
export function heldByLimits(siblings: readonly ProblemEvent[], limits: RemediationLimits | undefined, now: Date): Decision | undefined {
  if (!limits) return undefined;
  const attempts = siblings.flatMap((p) => p.status?.attempts ?? []);
  const cooldownMs = limits.cooldown ? parseDuration(limits.cooldown) : 0;
  if (cooldownMs > 0) {
    const lastAction = Math.max(0, ...attempts.map((a) => timeOf(a.appliedTime ?? startedAt(a))).filter((t) => t !== Number.MAX_SAFE_INTEGER));
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

/** When an attempt's action began: its commit, or for an action outside Git, its call. */
function startedAt(attempt: Attempt): string | undefined {
  return attempt.committedTime ?? attempt.execution?.startedTime;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: HOUR_MS };

/** Go-style duration strings as Keptn writes them: `2m`, `90s`, `1h30m`, `1.5h`, `250ms`. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(re)) {
    if (match.index !== consumed) break;
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0);
    consumed += match[0].length;
  }
  if (consumed !== text.length || text.length === 0) throw new RangeError(`"${text}" is not a duration like 2m, 90s or 1h30m`);
  return total;
}
