// What the Project's rules would do to one action now, for `rebound plan`: whether it waits for
// people (and whose answers count), which deny window is active or opens next and whether the
// policy breaks the glass, and which budget or circuit breaker holds it back. Pure, and built from
// the loop's own functions (approvalReason, holdFor, checkWindows, revertAfterFor), so plan and loop
// cannot disagree. It also says what follows the action: an undo after resolve, and holds.
import type { ProblemEvent, Project, Remediation, RemediationAction, RemediationMode } from '../api/index.ts';
import { DEFAULT_MAX_REASSERTS } from '../remediation/holds.ts';
import { revertAfterFor } from '../remediation/revert.ts';
import type { ApprovalTask } from '../remediation/stage.ts';
import { approvalReason, describeRequest, effectiveSettings } from './approvals.ts';
import type { ApprovalInput } from './approvals.ts';
import { breakGlass, holdFor } from './holds.ts';
import { checkWindows, nextWindow } from './windows.ts';

export interface ExplainInput {
  problem: ProblemEvent;
  project: Pick<Project, 'metadata' | 'spec'>;
  stage: { name: string; branch: string; remediation: RemediationMode; sequence?: { approval?: ApprovalTask } };
  /** The planned action (undefined: none is planned, only the holds are told). */
  action: Pick<RemediationAction, 'approval'> | undefined;
  attempt: number;
  /** The result the shipyard's approval task sees (approvalInput): `pass` for a first attempt. */
  seen?: ApprovalInput;
  remediation: Remediation | undefined;
  projectProblems: readonly ProblemEvent[];
  now: Date;
}

export type ApprovalPlan =
  | { waits: false }
  | {
      waits: true;
      why: string;
      mode: 'approvals' | 'merge';
      minApprovals: number;
      /** Whose answers count: members of these groups; empty: whoever RBAC lets create Approvals. */
      groups: string[];
      timeout: string | null;
      onTimeout: string;
      /** Who may answer, in words: RBAC and the groups, or the forge in merge mode. */
      who: string;
      /** What a person does: `rebound approve ...`, or merge the proposal branch. */
      answer: string;
    };

export interface WindowPlan {
  state: 'open' | 'denied' | 'invalid';
  /** The window active now (denied, invalid) with its start and end. */
  window: string | null;
  since: string | null;
  until: string | null;
  /** The policy entry that lets this problem through a deny window, or null. */
  breakGlass: string | null;
  /** The next deny window after the one active now (or from now), within a week. */
  next: { window: string; opens: string; closes: string } | null;
  message: string;
}

export interface RulesPlan {
  stage: { name: string; remediation: RemediationMode };
  approval: ApprovalPlan;
  window: WindowPlan;
  /** What holds a new attempt back now, exactly as the loop would say it (budgets, breaker, window). */
  hold: { reason: string; message: string; until: string | null } | null;
  /** After the action: whether its changes are undone once resolved, and what a push setting them back meets. */
  after: {
    /** The matching policy entry's revertAfter (undo after resolve), or null. */
    revertAfter: string | null;
    /** The Remediation's hold policy against the next deploy, defaults filled in. */
    hold: { mode: 'warn' | 'reassert'; maxReasserts: number };
  };
}

export function explainRules(input: ExplainInput): RulesPlan {
  const { problem, project, stage, now } = input;
  return {
    stage: { name: stage.name, remediation: stage.remediation },
    approval: approvalPlan(input),
    window: windowPlan(input),
    hold: holdPlan(
      holdFor({ problem, project, projectProblems: input.projectProblems, remediation: input.remediation, now }),
    ),
    after: {
      revertAfter: revertAfterFor(problem, input.remediation) ?? null,
      hold: {
        mode: input.remediation?.spec.hold?.mode ?? 'warn',
        maxReasserts: input.remediation?.spec.hold?.maxReasserts ?? DEFAULT_MAX_REASSERTS,
      },
    },
  };
}

function approvalPlan(input: ExplainInput): ApprovalPlan {
  const { stage, action, attempt, problem } = input;
  if (!action) return { waits: false };
  const why = approvalReason(stage, action, attempt, input.seen);
  if (!why) return { waits: false };
  const settings = effectiveSettings(input.project.spec.approval);
  const mode = settings.mode === 'merge' ? 'merge' : 'approvals';
  const name = problem.metadata.name ?? '';
  const answer =
    mode === 'merge'
      ? `merge the proposal branch rebound/${name}/${attempt} into ${stage.branch} (closing its pull request rejects)`
      : `${describeRequest(settings)}: rebound approve ${name} -n ${problem.metadata.namespace ?? ''} --attempt ${attempt} (or rebound reject)`;

  const namespace = problem.metadata.namespace ?? '';
  const groups = settings.groups ?? [];
  const who =
    mode === 'merge'
      ? `whoever the forge lets merge into ${stage.branch} (its branch protection and required reviews)`
      : `people RBAC lets create Approvals in namespace ${namespace} (ClusterRole rebound-approver)${groups.length > 0 ? `, counted only when in ${groups.join(', ')}` : ''}`;
  return {
    waits: true,
    why,
    mode,
    minApprovals: settings.minApprovals,
    groups,
    timeout: settings.timeout ?? null,
    onTimeout: settings.onTimeout,
    who,
    answer,
  };
}

function windowPlan({ problem, project, stage, remediation, now }: ExplainInput): WindowPlan {
  const windows = project.spec.windows;
  const check = checkWindows(windows, stage.name, now);
  const none = { window: null, since: null, until: null, breakGlass: null, next: null };
  if (check.kind === 'invalid')
    return {
      ...none,
      state: 'invalid',
      window: check.window,
      message: `${check.message}: every action is held back until the Project is fixed`,
    };
  const glass = breakGlass({ problem, remediation }) ?? null;
  const after = check.kind === 'denied' ? check.until : now;
  const upcoming = nextWindow(windows, stage.name, after);
  const next = upcoming
    ? { window: upcoming.window, opens: upcoming.opens.toISOString(), closes: upcoming.closes.toISOString() }
    : null;
  const then = next ? `; next deny window ${next.window} opens ${next.opens} and closes ${next.closes}` : '';
  const glassNote = glass ? `, but ${glass} lets it through` : '';
  if (check.kind === 'denied') {
    return {
      state: 'denied',
      window: check.window,
      since: check.started.toISOString(),
      until: check.until.toISOString(),
      breakGlass: glass,
      next,
      message: `deny window ${check.window} is active (since ${check.started.toISOString()}, until ${check.until.toISOString()}): automated actions wait${glassNote}${then}`,
    };
  }
  const covered = (windows ?? []).some((w) => !w.stages || w.stages.length === 0 || w.stages.includes(stage.name));
  const message = covered
    ? `no deny window is active${then || '; none opens within a week'}${glass ? ` (inside one, ${glass} would let it through)` : ''}`
    : `no deny window covers stage ${stage.name}`;
  return { ...none, state: 'open', breakGlass: glass, next, message };
}

function holdPlan(outcome: ReturnType<typeof holdFor>): RulesPlan['hold'] {
  if (outcome.kind !== 'held') return null;
  const { reason, message, until } = outcome.hold;
  return { reason, message, until: until ? until.toISOString() : null };
}
