// Actions that wait for people: a `manual` stage, or a policy action with `approval: required`.
// The attempt is recorded with its action and the exact diff it would commit, and nothing is
// committed until enough people have approved it with Approval objects (src/rules/approvals.ts
// counts them; the API server vouches for who created each). A rejection ends the problem; a
// timeout ends it or escalates to the next action, as the Project says. No worker ever blocks:
// the Approval informer wakes the problem, and the deadline is a requeue-after.
import { REASONS } from '../../../api/index.ts';
import type { Attempt, AttemptApproval, Proposal, RemediationAction } from '../../../api/index.ts';
import type { ActionHandler } from '../../../actions/types.ts';
import { unifiedDiff } from '../../../remediation/diff.ts';
import { isEditError } from '../../../remediation/value-edits.ts';
import { describeRequest, effectiveSettings, tallyApprovals } from '../../../rules/approvals.ts';
import { parseDuration } from '../../../api/duration.ts';
import type { PolicyResolution, ProblemLoopPorts } from '../ports.ts';
import type { StatusDraft } from './draft.ts';
import { label } from './draft.ts';
import { finish, stall } from './finish.ts';
import { closeOpenProposal } from './forge-status.ts';
import { NEXT } from './types.ts';
import type { StepContext, StepFor, StepResult } from './types.ts';

type Policy = Extract<PolicyResolution, { ok: true }>;

/** What an approver is shown: the values file, the head it was read at, and the diff. */
export interface ProposedChange {
  file?: string;
  baseCommit?: string;
  diff: string;
  /** Why the diff is empty (the value is already set), or what the action does outside Git. */
  note?: string;
}

/** The change a values edit would commit on the branch's head now, as `rebound plan` shows it. */
export async function proposeChange(
  deps: ProblemLoopPorts,
  ctx: StepContext,
  policy: Policy,
  action: RemediationAction,
  handler: ActionHandler,
): Promise<ProposedChange> {
  if (!handler.editValues)
    return { diff: '', note: `${label(action)} runs outside Git (${handler.executor}): nothing is committed` };
  const repository = await deps.repositories.forProject(ctx.project);
  const head = await repository.readFileAtHead(ctx.stage.branch, policy.valuesFile);
  if (!head)
    return { file: policy.valuesFile, diff: '', note: `${policy.valuesFile} does not exist on ${ctx.stage.branch}` };
  try {
    const result = handler.editValues(action, head.text, {
      file: policy.valuesFile,
      ...(policy.replicasPath ? { replicasPath: policy.replicasPath } : {}),
      ...(policy.minReplicasPath ? { minReplicasPath: policy.minReplicasPath } : {}),
      ...(policy.flagsPath ? { flagsPath: policy.flagsPath } : {}),
      ...(policy.limits ? { limits: policy.limits } : {}),
    });
    const base = { file: policy.valuesFile, baseCommit: head.commit };
    if (!result.changed) return { ...base, diff: '', note: `nothing to commit: ${result.reason}` };
    return { ...base, diff: unifiedDiff(policy.valuesFile, head.text, result.text) };
  } catch (err) {
    if (!isEditError(err)) throw err;
    return { file: policy.valuesFile, baseCommit: head.commit, diff: '', note: err.message };
  }
}

export interface ApprovalRequest {
  index: number;
  action: RemediationAction;
  value: string;
  why: string;
  change: ProposedChange;
  /** Merge mode: the proposal branch and its pull request, whose merge is the approval (proposal.ts). */
  proposal?: Proposal;
}

/** Records the attempt as waiting for approval (nothing committed) and tells people how to answer. */
export async function requestApproval(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: StepContext,
  request: ApprovalRequest,
): Promise<StepResult> {
  const settings = effectiveSettings(ctx.project.spec.approval);
  const requested = draft.now;
  const deadline = settings.timeout ? new Date(requested.getTime() + parseDuration(settings.timeout)) : undefined;
  const approval: AttemptApproval = {
    state: 'Pending',
    why: request.why,
    requestedTime: requested.toISOString(),
    ...(deadline ? { deadline: deadline.toISOString() } : {}),
    minApprovals: settings.minApprovals,
    ...(settings.groups && settings.groups.length > 0 ? { groups: settings.groups } : {}),
    onTimeout: settings.onTimeout,
    ...(request.change.file ? { file: request.change.file } : {}),
    ...(request.change.baseCommit ? { baseCommit: request.change.baseCommit } : {}),
    diff: truncate(request.change.diff, 16_000),
    ...(request.change.note ? { message: request.change.note } : {}),
    ...(request.proposal ? { proposal: request.proposal } : {}),
  };
  const { action } = request;
  draft.upsertAttempt({
    index: request.index,
    ...(action.name ? { name: action.name } : {}),
    ...(action.description ? { description: action.description } : {}),
    action: action.action,
    value: request.value,
    approval,
  });
  const name = draft.problem.metadata.name ?? '';
  const until = deadline ? ` before ${deadline.toISOString()}` : '';
  const what = `attempt ${request.index} (${label({ action: action.action, value: request.value })})`;
  const message = request.proposal
    ? `${what} waits for a person to merge ${request.proposal.url ?? request.proposal.branch} into ${ctx.stage.branch}${until} (${request.why}); closing it rejects`
    : `${what} waits for ${describeRequest(approval)}${until} (${request.why}): rebound approve ${name} -n ${draft.namespace} --attempt ${request.index}`;
  draft.markReconciling(REASONS.AwaitingApproval, message);
  await draft.write('AwaitingApproval');
  draft.event('Normal', request.proposal ? REASONS.ProposalOpened : 'ApprovalRequested', message);
  if (request.proposal)
    return {
      requeueAfterMs: Math.min(
        deps.settings.syncPollMs,
        deadline ? deadline.getTime() - requested.getTime() : Infinity,
      ),
    };
  return waitFor(draft, deps, deadline);
}

export const awaitApproval: StepFor<'await-approval'> = async (draft, deps, ctx) => {
  const { index } = ctx.decision;
  const attempt = draft.attempt(index);
  const approval = attempt?.approval;
  if (!attempt || !approval)
    return stall(draft, deps, REASONS.AwaitingApproval, `attempt ${index} has no approval request in the status`);
  const tally = tallyApprovals(
    deps.approvals.forAttempt(draft.namespace, draft.problem.metadata.name ?? '', index),
    approval,
  );
  const said = (d: 'Approve' | 'Reject'): string =>
    tally.approvers
      .filter((a) => a.decision === d)
      .map((a) => a.user)
      .join(', ');
  if (tally.state === 'Rejected') {
    const rejection = tally.approvers.find((a) => a.decision === 'Reject');
    const because = rejection?.message ? `: ${rejection.message}` : '';
    draft.replaceAttempt({
      ...attempt,
      approval: { ...approval, state: 'Rejected', approvers: tally.approvers, decidedTime: draft.now.toISOString() },
      message: `rejected by ${said('Reject')}${because}`,
    });
    deps.metrics?.approval?.('rejected');
    return finish(
      draft,
      deps,
      'Unhandled',
      REASONS.ApprovalRejected,
      `attempt ${index} (${label(attempt)}) was rejected by ${said('Reject')}${because}; nothing was committed`,
      'Warning',
    );
  }
  if (tally.state === 'Approved') {
    draft.replaceAttempt({
      ...attempt,
      approval: { ...approval, state: 'Approved', approvers: tally.approvers, decidedTime: draft.now.toISOString() },
    });
    const message = `attempt ${index} (${label(attempt)}) approved by ${said('Approve')}`;
    draft.markReconciling(REASONS.ApprovalGranted, message);
    await draft.write('Remediating');
    draft.event('Normal', 'Approved', message);
    deps.metrics?.approval?.('approved');
    return NEXT;
  }
  // Still pending: record who has answered so far, and who does not count, once per change.
  const notCounted = tally.ignored.slice(-32);
  if (
    JSON.stringify([tally.approvers, notCounted]) !==
    JSON.stringify([approval.approvers ?? [], approval.notCounted ?? []])
  ) {
    draft.replaceAttempt({ ...attempt, approval: { ...approval, approvers: tally.approvers, notCounted } });
    const ignored = notCounted.map((i) => `${i.name} (${i.why})`).join('; ');
    const message = `attempt ${index} (${label(attempt)}) has ${describeRequest(approval, tally.approvals)}${ignored ? `; not counted: ${ignored}` : ''}`;
    draft.markReconciling(REASONS.AwaitingApproval, message);
    await draft.write('AwaitingApproval');
    draft.event(ignored ? 'Warning' : 'Normal', 'ApprovalCounted', message);
  }
  return waitFor(draft, deps, ctx.decision.until);
};

export const approvalTimedOut: StepFor<'approval-timed-out'> = async (draft, deps, ctx) => {
  const { index } = ctx.decision;
  const attempt = draft.attempt(index);
  const approval = attempt?.approval;
  if (!attempt || !approval) return NEXT;
  const message = `attempt ${index} (${label(attempt)}) was not approved before ${approval.deadline ?? '?'} (${describeRequest(approval, (approval.approvers ?? []).filter((a) => a.decision === 'Approve').length)}); nothing was committed`;
  const timedOut: Attempt = {
    ...attempt,
    approval: { ...approval, state: 'TimedOut', decidedTime: draft.now.toISOString() },
    message,
  };
  deps.metrics?.approval?.('timed_out');
  draft.replaceAttempt(timedOut);
  closeOpenProposal(draft, deps, ctx, index, `${message}, so this pull request no longer counts as an approval`);
  const closed = draft.attempt(index) ?? timedOut;
  if (approval.onTimeout === 'Escalate') {
    draft.replaceAttempt({ ...closed, result: 'fail' });
    draft.update({ lastResult: 'fail' });
    draft.markReconciling(REASONS.ApprovalTimedOut, `${message}: escalating to the next action`);
    await draft.write('Remediating');
    draft.event('Warning', 'ApprovalTimedOut', `${message}: escalating to the next action`);
    return NEXT;
  }
  return finish(draft, deps, 'Unhandled', REASONS.ApprovalTimedOut, message, 'Warning');
};

/** Until the deadline, or a safety re-check: the Approval informer wakes the problem when someone answers. */
function waitFor(draft: StatusDraft, deps: ProblemLoopPorts, deadline: Date | undefined): StepResult {
  return deadline ? draft.delayUntil(deadline) : { requeueAfterMs: deps.settings.stalledRecheckMs };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
