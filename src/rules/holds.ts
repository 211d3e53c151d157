// Everything that may hold a new attempt back at the Project level, in one pure answer for decide():
// the circuit breaker, the in-flight and hourly budgets, then the deny windows (which a policy
// entry's break-glass may override). Each hold names its rule and, when known, until when.
import type { ProblemEvent, Project, Reason, Remediation } from '../api/index.ts';
import { ANNOTATIONS, REASONS } from '../api/index.ts';
import { findEntry } from '../remediation/policy.ts';
import { policyFromResource } from '../remediation/policy.ts';
import { budgetHold } from './budgets.ts';
import { checkWindows } from './windows.ts';

export interface Hold {
  reason: Reason;
  message: string;
  /** When to look again; undefined when only a change (a problem finishing, a person's reset) frees it. */
  until?: Date;
}

export interface HoldInput {
  problem: ProblemEvent;
  project: Pick<Project, 'metadata' | 'spec'>;
  /** Every problem of the Project: read only when a budget or the circuit breaker counts them (a getter
   * spares a storm's thousands of problems the copy). */
  projectProblems: readonly ProblemEvent[];
  /** The Remediation resource for the problem's service: its matching entry may break the glass. */
  remediation: Remediation | undefined;
  now: Date;
}

export type HoldOutcome =
  | { kind: 'none' }
  | { kind: 'held'; hold: Hold }
  /** Inside a deny window, but the policy lets this problem through: recorded on the attempt, Event and commit. */
  | { kind: 'break-glass'; note: string };

export function holdFor(input: HoldInput): HoldOutcome {
  const { problem, project, now } = input;
  const spec = project.spec;
  const projectName = project.metadata.name ?? '';
  const budget =
    spec.budgets || spec.circuitBreaker
      ? budgetHold({
          problem,
          projectProblems: input.projectProblems,
          budgets: spec.budgets,
          breaker: spec.circuitBreaker,
          resetAt: project.metadata.annotations?.[ANNOTATIONS.circuitReset],
          now,
        })
      : undefined;
  if (budget) {
    switch (budget.rule) {
      case 'circuitBreaker':
        return held(
          REASONS.CircuitOpen,
          `circuit breaker of Project ${projectName} is open: ${budget.count} problem(s) Exhausted since ${budget.since.toISOString()} (at most ${budget.max - 1} within ${budget.window}); no automatic action until a person resets it (annotate the Project ${ANNOTATIONS.circuitReset}=<now, RFC 3339>)`,
        );
      case 'maxInFlight':
        return held(
          REASONS.InFlightLimitReached,
          `budgets.maxInFlight: ${budget.inFlight} of ${budget.max} remediation(s) in flight in Project ${projectName}; waiting until one finishes`,
        );
      case 'maxInFlightPerStage':
        return held(
          REASONS.InFlightLimitReached,
          `budgets.maxInFlightPerStage: ${budget.inFlight} of ${budget.max} remediation(s) in flight in stage ${problem.spec.stage}; waiting until one finishes`,
        );
      case 'maxActionsPerHour':
        return held(
          REASONS.ProjectLimitReached,
          `budgets.maxActionsPerHour: ${budget.count} action(s) started in Project ${projectName} in the last hour (at most ${budget.max}); next one at ${budget.until.toISOString()}`,
          budget.until,
        );
    }
  }
  const window = checkWindows(spec.windows, problem.spec.stage, now);
  if (window.kind === 'invalid')
    return held(REASONS.WindowInvalid, `${window.message}: no automated action until the Project is fixed`);
  if (window.kind === 'denied') {
    const glass = breakGlass(input);
    const what = `deny window ${window.window} (since ${window.started.toISOString()}, until ${window.until.toISOString()})`;
    if (glass) return { kind: 'break-glass', note: `${what}: ${glass}` };
    return held(
      REASONS.DenyWindow,
      `${what} holds automated actions back in stage ${problem.spec.stage}`,
      window.until,
    );
  }
  return { kind: 'none' };
}

function held(reason: Reason, message: string, until?: Date): HoldOutcome {
  return { kind: 'held', hold: { reason, message, ...(until ? { until } : {}) } };
}

/** The problem's severity: the alert's `severity` label, or a `severity` detail. */
export function severityOf(problem: ProblemEvent): string | undefined {
  const details = problem.spec.details ?? {};
  const labels = details['labels'];
  const fromLabels = labels && typeof labels === 'object' ? (labels as Record<string, unknown>)['severity'] : undefined;
  const value = fromLabels ?? details['severity'];
  return typeof value === 'string' ? value : undefined;
}

/** Why the matching policy entry breaks the glass for this problem, or undefined. */
export function breakGlass({ problem, remediation }: Pick<HoldInput, 'problem' | 'remediation'>): string | undefined {
  if (!remediation) return undefined;
  const match = findEntry(policyFromResource(remediation).policy, problem.spec);
  if (!match) return undefined;
  const entry = remediation.spec.remediations.find((r) => r.problemType === match.entry.problemType);
  const glass = entry?.breakGlass;
  if (!glass) return undefined;
  const severities = glass.severities ?? [];
  const severity = severityOf(problem);
  if (severities.length > 0 && (severity === undefined || !severities.includes(severity))) return undefined;
  const why = severities.length > 0 ? `severity ${severity ?? ''}` : 'every problem it matches';
  return `break-glass by entry "${entry.problemType}" of Remediation ${remediation.metadata.name ?? ''} (${why})`;
}
