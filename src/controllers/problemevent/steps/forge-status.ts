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

/** `slow carts (carts in production)`: what a person reading the forge needs to place the status. */
export function problemTitle(draft: StatusDraft): string {
  const { spec } = draft.problem;
  return `${spec.problemTitle} (${spec.service} in ${spec.stage})`;
}
