// Merge as approval (spec.approval.mode: merge): an action that waits for people is committed to a
// proposal branch `rebound/<problem>/<attempt>` made from the stage branch's head, with a pull
// request into the stage branch on the Project's forge, its description and a comment holding the
// plan. A person's merge is the approval (the attempt goes on with the commit the merge made on the
// stage branch); closing it unmerged is the rejection. The forge is asked for the pull request's
// state every --sync-poll; the deadline and its timeout are the Approval mode's.
import { REASONS } from '../../../api/index.ts';
import type { Attempt, AttemptApproval, Proposal } from '../../../api/index.ts';
import type { Forge, PullRequest } from '../../../forge/index.ts';
import type { ProblemLoopPorts } from '../ports.ts';
import type { ApprovalRequest } from './approval.ts';
import { awaitApproval, requestApproval } from './approval.ts';
import { valuesCommitRequest } from './commit-request.ts';
import type { ValuesChoice } from './commit-request.ts';
import type { StatusDraft } from './draft.ts';
import { label } from './draft.ts';
import { failStep, finish, stall } from './finish.ts';
import { postCommitStatus, problemTitle } from './forge-status.ts';
import { NEXT } from './types.ts';
import type { StepContext, StepFor, StepResult } from './types.ts';

/** `rebound/<problem>/<attempt>`: the proposal branch of one attempt (docs/approvals.md). */
export function proposalBranch(problem: string, attempt: number): string {
  return `rebound/${problem}/${String(attempt)}`;
}

/** The Project's forge for a merge-mode step, or the step's result when there is none to use. */
async function forgeFor(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: StepContext,
): Promise<{ forge: Forge } | { result: StepResult }> {
  try {
    const forge = await deps.forges?.forProject(ctx.project);
    if (forge) return { forge };
    return {
      result: await stall(
        draft,
        deps,
        REASONS.ForgeMisconfigured,
        'spec.approval.mode is merge, but the Project names no spec.forge to open pull requests on',
      ),
    };
  } catch (err) {
    return { result: await failStep(draft, deps, ctx.log, err, REASONS.ForgeMisconfigured, "the Project's forge") };
  }
}

/** Pushes the proposal branch, opens its pull request with the plan, and records the attempt as waiting for the merge. */
export async function proposeForMerge(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: StepContext<{ kind: 'start-attempt'; index: number }>,
  approval: ApprovalRequest,
  choice: ValuesChoice,
): Promise<StepResult> {
  const { project, stage, log, signal } = ctx;
  const { index } = ctx.decision;
  const name = draft.problem.metadata.name ?? '';
  const found = await forgeFor(draft, deps, ctx);
  if ('result' in found) return found.result;
  const { forge } = found;
  const repository = await deps.repositories.forProject(project);
  if (!repository.proposeAction)
    return stall(draft, deps, REASONS.ForgeMisconfigured, 'this repository cannot push proposal branches');
  const branch = proposalBranch(name, index);
  const actionLabel = label({ action: choice.action.action, value: choice.value });
  const { request } = valuesCommitRequest(draft, ctx, choice);
  let outcome;
  try {
    outcome = await repository.proposeAction(request, branch, signal);
  } catch (err) {
    return failStep(
      draft,
      deps,
      log,
      err,
      REASONS.CommitFailed,
      `attempt ${index} (${actionLabel}) could not be proposed on ${branch}`,
    );
  }
  if (outcome.kind === 'no-change') {
    // Nothing to merge: the stage already holds the value. Asked the ordinary way, with the empty diff.
    return requestApproval(draft, deps, ctx, {
      ...approval,
      change: { ...approval.change, note: `nothing to propose: ${outcome.reason}` },
    });
  }
  const title = `${request.subject('')} (${draft.problem.spec.problemTitle})`;
  const plan = planText(draft, ctx, approval, branch, outcome.sha);
  let pull: PullRequest;
  try {
    pull = await forge.openPullRequest({ head: branch, base: stage.branch, title, body: plan }, signal);
  } catch (err) {
    return failStep(draft, deps, log, err, REASONS.ForgeUnavailable, `the pull request for ${branch}`);
  }
  // Once per pull request: a retry of this step finds it recorded.
  if (draft.attempt(index)?.approval?.proposal?.number !== pull.number)
    deps.forges?.postComment(project, pull.number, plan);
  postCommitStatus(
    draft,
    deps,
    ctx,
    { index, commit: outcome.sha },
    'pending',
    `${problemTitle(draft)}: attempt ${index} (${actionLabel}) waits for a person to merge it`,
  );
  const proposal: Proposal = { branch, commit: outcome.sha, number: pull.number, url: pull.url, state: 'Open' };
  return requestApproval(draft, deps, ctx, { ...approval, proposal });
}

/** A pending approval: answered by Approval objects, or (merge mode) by what its pull request came to. */
export const awaitApprovalOrMerge: StepFor<'await-approval'> = (draft, deps, ctx) => {
  const attempt = draft.attempt(ctx.decision.index);
  const approval = attempt?.approval;
  const number = approval?.proposal?.number;
  if (!attempt || !approval?.proposal || number === undefined) return awaitApproval(draft, deps, ctx);
  return awaitMerge(draft, deps, ctx, attempt, { ...approval, proposal: { ...approval.proposal, number } });
};

/** A pending merge-mode approval: what the pull request came to. */
export async function awaitMerge(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: StepContext<{ kind: 'await-approval'; index: number; until?: Date }>,
  attempt: Attempt,
  approval: AttemptApproval & { proposal: Proposal & { number: number } },
): Promise<StepResult> {
  const { project, stage, log, signal } = ctx;
  const { proposal } = approval;
  const found = await forgeFor(draft, deps, ctx);
  if ('result' in found) return found.result;
  let pull: PullRequest;
  try {
    pull = await found.forge.pullRequest(proposal.number, signal);
  } catch (err) {
    return failStep(
      draft,
      deps,
      log,
      err,
      REASONS.ForgeUnavailable,
      `reading pull request ${proposal.url ?? String(proposal.number)}`,
    );
  }
  const what = `attempt ${attempt.index} (${label(attempt)})`;
  if (pull.state === 'merged') {
    const commit = pull.mergeCommit ?? pull.headCommit ?? proposal.commit;
    // The merge commit into the store (a fetch of the stage branch): apply and evaluation read it.
    try {
      if (approval.file)
        await (await deps.repositories.forProject(project)).readFileAtHead(stage.branch, approval.file);
    } catch (err) {
      return failStep(
        draft,
        deps,
        log,
        err,
        REASONS.CommitFailed,
        `fetching ${stage.branch} after the merge of ${pull.url}`,
      );
    }
    const by = pull.mergedBy ?? 'a person';
    const now = draft.now.toISOString();
    const merged: Attempt = {
      ...attempt,
      branch: stage.branch,
      ...(commit ? { commit } : {}),
      ...(approval.file ? { path: approval.file } : {}),
      committedTime: now,
      approval: {
        ...approval,
        state: 'Approved',
        approvers: [{ user: by, decision: 'Approve', time: now, message: `merged ${pull.url}` }],
        decidedTime: now,
        proposal: { ...proposal, state: 'Merged', ...(pull.mergeCommit ? { mergeCommit: pull.mergeCommit } : {}) },
      },
    };
    draft.replaceAttempt(merged);
    const message = `${what} approved: ${by} merged ${pull.url} into ${stage.branch}${commit ? ` (${commit.slice(0, 12)})` : ''}`;
    draft.markReconciling(REASONS.ProposalMerged, message);
    await draft.write('Remediating');
    draft.event('Normal', REASONS.ProposalMerged, message);
    deps.metrics?.approval?.('approved');
    postCommitStatus(
      draft,
      deps,
      ctx,
      merged,
      'pending',
      `${problemTitle(draft)}: ${what} merged, being applied and evaluated`,
    );
    return NEXT;
  }
  if (pull.state === 'closed') {
    const now = draft.now.toISOString();
    draft.replaceAttempt({
      ...attempt,
      approval: { ...approval, state: 'Rejected', decidedTime: now, proposal: { ...proposal, state: 'Closed' } },
      message: `${pull.url} was closed without merging`,
    });
    deps.metrics?.approval?.('rejected');
    return finish(
      draft,
      deps,
      'Unhandled',
      REASONS.ApprovalRejected,
      `${what} was rejected: ${pull.url} was closed without merging; nothing was committed to ${stage.branch}`,
      'Warning',
    );
  }
  // Still open: ask again after --sync-poll (or at the deadline, if sooner).
  const poll = deps.settings.syncPollMs;
  const until = ctx.decision.until;
  const waitMs = until ? Math.max(0, Math.min(poll, until.getTime() - draft.now.getTime())) : poll;
  return { requeueAfterMs: waitMs };
}

/** The verdict on a merged proposal's pull request (queued, never blocking). */
export function commentVerdict(
  deps: ProblemLoopPorts,
  ctx: Pick<StepContext, 'project'>,
  attempt: Attempt,
  text: string,
): void {
  const number = attempt.approval?.proposal?.number;
  if (number === undefined) return;
  deps.forges?.postComment(ctx.project, number, text);
}

/** What a person reads before merging: the problem, the action, why it waits, and the diff. */
function planText(
  draft: StatusDraft,
  ctx: StepContext,
  approval: ApprovalRequest,
  branch: string,
  commit: string,
): string {
  const { spec } = draft.problem;
  const lines = [
    `**Rebound proposes attempt ${String(approval.index)} for problem \`${draft.namespace}/${draft.problem.metadata.name ?? ''}\`**`,
    '',
    `- problem: ${spec.problemTitle}${spec.rootCause ? ` (root cause: ${spec.rootCause})` : ''}`,
    `- service: ${spec.service} in stage ${ctx.stage.name}`,
    `- action: ${label({ action: approval.action.action, value: approval.value })}${approval.action.description ? `: ${approval.action.description}` : ''}`,
    `- why it waits: ${approval.why}`,
    `- proposal: \`${branch}\` at ${commit.slice(0, 12)} into \`${ctx.stage.branch}\``,
    '',
    'Merge this pull request to approve: Rebound applies the merged commit and evaluates it. Close it to reject: nothing is applied.',
  ];
  if (approval.change.diff) lines.push('', '```diff', approval.change.diff.trimEnd(), '```');
  if (approval.change.note) lines.push('', approval.change.note);
  return lines.join('\n');
}
