// The commit status on an attempt's commit: `pending` once it is committed (applying, then
// evaluating), `success` or `failure` with the verdict once evaluated. Queued (controllers/forges.ts):
// a forge that is down never holds or fails the loop.
import type { Attempt } from '../../../api/index.ts';
import type { CommitState } from '../../../forge/index.ts';
import type { ProblemLoopPorts } from '../ports.ts';
import type { StatusDraft } from './draft.ts';
import type { StepContext } from './types.ts';

export function postCommitStatus(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: Pick<StepContext, 'project' | 'stage'>,
  attempt: Pick<Attempt, 'index' | 'commit'>,
  state: CommitState,
  description: string,
): void {
  if (!deps.forges || !attempt.commit) return;
  deps.forges.postStatus(ctx.project, {
    sha: attempt.commit,
    state,
    stage: ctx.stage.name,
    description,
    problem: { namespace: draft.namespace, name: draft.problem.metadata.name ?? '' },
    attempt: attempt.index,
  });
}

/**
 * A proposal still open when its attempt can no longer be approved by a merge (the problem resolved
 * by its source, the approval timed out): its pull request is commented on and closed (queued), and
 * the attempt records it Closed, so a late merge cannot slip a stale change into the stage branch.
 */
export function closeOpenProposal(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: Pick<StepContext, 'project'>,
  index: number | undefined,
  why: string,
): void {
  const attempt = index === undefined ? undefined : draft.attempt(index);
  const approval = attempt?.approval;
  const proposal = approval?.proposal;
  if (!attempt || !approval || proposal?.state !== 'Open' || proposal.number === undefined) return;
  deps.forges?.closePullRequest(ctx.project, proposal.number, `Rebound: ${why}. Closing this pull request unmerged.`);
  draft.replaceAttempt({ ...attempt, approval: { ...approval, proposal: { ...proposal, state: 'Closed' } } });
}

/** `slow carts (carts in production)`: what a person reading the forge needs to place the status. */
export function problemTitle(draft: StatusDraft): string {
  const { spec } = draft.problem;
  return `${spec.problemTitle} (${spec.service} in ${spec.stage})`;
}
