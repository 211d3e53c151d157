// Blast radius for a whole Project: how many remediations may be in flight at once (per Project and
// per stage), how many actions may start per hour, and the circuit breaker that stops automatic
// action after too many Exhausted problems until a person resets it. Pure: everything is derived
// from the problems' stored status, so a restarted controller holds back exactly as before (a
// deleted problem is forgotten, as the per-service limits forget it).
import type { Attempt, CircuitBreaker, ProblemEvent, ProjectBudgets } from '../api/index.ts';
import { parseDuration } from '../api/duration.ts';

const HOUR_MS = 3_600_000;

export type BudgetHold =
  /** Too many remediations in flight; no time is known: it frees up when one finishes. */
  | { rule: 'maxInFlight' | 'maxInFlightPerStage'; inFlight: number; max: number }
  | { rule: 'maxActionsPerHour'; count: number; max: number; until: Date }
  /** The breaker is open: `count` Exhausted problems within `window` since the last reset. */
  | { rule: 'circuitBreaker'; count: number; max: number; window: string; since: Date };

/** Phases of a problem whose remediation is under way (an attempt started and not finished). */
const IN_FLIGHT_PHASES = ['AwaitingApproval', 'Remediating', 'Evaluating'];

function inFlight(p: ProblemEvent): boolean {
  return IN_FLIGHT_PHASES.includes(p.status?.phase ?? '') && p.spec.state !== 'RESOLVED';
}

function sameProblem(a: ProblemEvent, b: ProblemEvent): boolean {
  return a.metadata.namespace === b.metadata.namespace && a.metadata.name === b.metadata.name;
}

/** When an attempt's action began: its commit, or for an action outside Git, its call. */
export function attemptStartedAt(attempt: Attempt): string | undefined {
  return attempt.committedTime ?? attempt.execution?.startedTime;
}

export interface BudgetInput {
  problem: ProblemEvent;
  /** Every ProblemEvent of the problem's Project (its namespace), the problem included. */
  projectProblems: readonly ProblemEvent[];
  budgets: ProjectBudgets | undefined;
  breaker: CircuitBreaker | undefined;
  /** The Project's reset annotation, as written (an RFC 3339 time). */
  resetAt: string | undefined;
  now: Date;
}

/** The first budget rule that holds a new attempt back, or undefined. The breaker is checked first. */
export function budgetHold(input: BudgetInput): BudgetHold | undefined {
  return circuitHold(input) ?? inFlightHold(input) ?? hourlyHold(input);
}

function inFlightHold({ problem, projectProblems, budgets }: BudgetInput): BudgetHold | undefined {
  if (budgets?.maxInFlight === undefined && budgets?.maxInFlightPerStage === undefined) return undefined;
  // A problem already in flight never counts against itself.
  const others = projectProblems.filter((p) => !sameProblem(p, problem) && inFlight(p));
  if (budgets?.maxInFlight !== undefined && others.length >= budgets.maxInFlight) {
    return { rule: 'maxInFlight', inFlight: others.length, max: budgets.maxInFlight };
  }
  const inStage = others.filter((p) => p.spec.stage === problem.spec.stage);
  if (budgets?.maxInFlightPerStage !== undefined && inStage.length >= budgets.maxInFlightPerStage) {
    return { rule: 'maxInFlightPerStage', inFlight: inStage.length, max: budgets.maxInFlightPerStage };
  }
  return undefined;
}

function hourlyHold({ projectProblems, budgets, now }: BudgetInput): BudgetHold | undefined {
  const max = budgets?.maxActionsPerHour;
  if (max === undefined) return undefined;
  const recent = projectProblems
    .flatMap((p) => p.status?.attempts ?? [])
    .map((a) => Date.parse(attemptStartedAt(a) ?? ''))
    .filter((t) => Number.isFinite(t) && t > now.getTime() - HOUR_MS)
    .sort((a, b) => a - b);
  if (recent.length < max) return undefined;
  // Frees up when the oldest action that keeps the count at the maximum leaves the hour.
  const oldest = recent[recent.length - max] ?? now.getTime();
  return { rule: 'maxActionsPerHour', count: recent.length, max, until: new Date(oldest + HOUR_MS) };
}

/**
 * Open once `maxExhausted` problems went Exhausted within any span of `window` after the last reset,
 * and it stays open (it does not close by itself as they age): only a person's reset closes it.
 */
function circuitHold({ projectProblems, breaker, resetAt, now }: BudgetInput): BudgetHold | undefined {
  if (!breaker) return undefined;
  const windowMs = parseDuration(breaker.window);
  const reset = resetAt === undefined ? Number.NEGATIVE_INFINITY : Date.parse(resetAt);
  const since = Number.isNaN(reset) ? Number.NEGATIVE_INFINITY : reset;
  const exhausted = projectProblems
    .filter((p) => p.status?.phase === 'Exhausted')
    .map((p) => Date.parse(p.status?.completionTime ?? ''))
    .filter((t) => Number.isFinite(t) && t > since && t <= now.getTime())
    .sort((a, b) => a - b);
  const n = breaker.maxExhausted;
  for (let i = n - 1; i < exhausted.length; i++) {
    const first = exhausted[i - n + 1] as number;
    const last = exhausted[i] as number;
    if (last - first <= windowMs) {
      return {
        rule: 'circuitBreaker',
        count: exhausted.length,
        max: n,
        window: breaker.window,
        since: new Date(first),
      };
    }
  }
  return undefined;
}
