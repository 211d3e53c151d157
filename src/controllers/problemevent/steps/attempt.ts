// Start attempt k: read the policy, choose its k-th action, refuse what only a person can fix, and
// record the attempt: for a values edit, after committing it to the stage branch (the commit's
// trailers make a restart find it instead of committing twice).
import { CONDITION_TYPES, REASONS } from '../../../api/index.ts';
import type { ActionExecution, Attempt, RemediationAction } from '../../../api/index.ts';
import { actionIdFor } from '../../../actions/types.ts';
import type { ActionHandler } from '../../../actions/types.ts';
import { errorMessage } from '../../../errors.ts';
import { timed } from '../../../observability/timing.ts';
import type { PolicyResolution, ProblemLoopPorts } from '../ports.ts';
import { approvalInput, approvalReason } from '../../../rules/approvals.ts';
import { editsOf } from '../../../remediation/revert.ts';
import { valuesCommitRequest } from './commit-request.ts';
import type { ValuesChoice } from './commit-request.ts';
import { proposeChange, requestApproval } from './approval.ts';
import { proposeForMerge } from './proposal.ts';
import type { StatusDraft } from './draft.ts';
import { label } from './draft.ts';
import { failStep, finish, stall } from './finish.ts';
import { postCommitStatus, problemTitle } from './forge-status.ts';
import { NEXT } from './types.ts';
import type { StepContext, StepFor, StepResult } from './types.ts';

type Policy = Extract<PolicyResolution, { ok: true }>;

export const startAttempt: StepFor<'start-attempt'> = async (draft, deps, ctx) => {
  const {
    project,
    stage,
    remediation,
    decision: { index },
  } = ctx;
  const policySpan = ctx.span.child('policy');
  const policy = await timed(
    (result, seconds) => (remediation ? undefined : deps.metrics?.gitOperation?.('fetch', result, seconds)),
    () => deps.policies.resolve({ problem: draft.problem, project, stage, remediation }),
  ).finally(() => policySpan.end());
  if (!policy.ok) {
    draft.setCondition({
      type: CONDITION_TYPES.PolicyResolved,
      status: 'False',
      reason: REASONS[policy.reason],
      message: policy.message,
    });
    return finish(draft, deps, 'Unhandled', REASONS[policy.reason], policy.message, 'Warning');
  }
  draft.update({ policySource: policy.source });
  const message = policy.warning ?? `${describeSource(policy)} has ${policy.actions.length} action(s) for this problem`;
  draft.setCondition({ type: CONDITION_TYPES.PolicyResolved, status: 'True', reason: REASONS.PolicyFound, message });

  const action = policy.actions[index - 1];
  if (!action) {
    return finish(
      draft,
      deps,
      'Exhausted',
      REASONS.ActionsExhausted,
      `all ${index - 1} action(s) were tried and none passed its evaluation`,
      'Warning',
    );
  }
  const handler = deps.actions.handlerFor(action.action);
  if (!handler) {
    const known = deps.actions.builtIn.join(', ');
    return stall(
      draft,
      deps,
      REASONS.UnknownAction,
      `action ${index} "${action.action}" is not one Rebound can carry out (${known}); other types need an external executor (--action-sink)`,
    );
  }
  const value = action.value;
  const check = handler.check(action, { problem: draft.problem, project, stage, remediation });
  if (!check.ok)
    return stall(
      draft,
      deps,
      check.reason,
      `action ${index} (${label({ action: action.action, value })}): ${check.message}`,
    );

  // An action that waits for people: asked for with its exact diff, and carried out only as approved.
  const existing = draft.attempt(index);
  const why = approvalReason(stage, action, index, approvalInput(draft.attempt(index - 1)));
  if (why) {
    const approved =
      existing?.approval?.state === 'Approved' && existing.action === action.action && existing.value === value
        ? existing.approval
        : undefined;
    const change = await proposeChange(deps, ctx, policy, action, handler);
    const request = { index, action, value, change, why };
    // Merge as approval: a values edit goes to a proposal branch with a pull request (proposal.ts).
    if (!approved && project.spec.approval?.mode === 'merge' && handler.editValues)
      return proposeForMerge(draft, deps, ctx, request, {
        policy,
        action,
        value,
        editValues: handler.editValues.bind(handler),
        audit: existing?.breakGlass ? { breakGlass: existing.breakGlass } : {},
      });
    if (!approved) return requestApproval(draft, deps, ctx, request);
    if (change.diff !== (approved.diff ?? '')) {
      return requestApproval(draft, deps, ctx, {
        ...request,
        why: `the approved change is no longer what would be committed (the branch moved): ${why}`,
      });
    }
  }
  const breakGlass = ctx.decision.breakGlass ?? existing?.breakGlass;
  if (ctx.decision.breakGlass)
    draft.event(
      'Warning',
      'BreakGlass',
      `attempt ${index} (${label({ action: action.action, value })}) runs inside a ${ctx.decision.breakGlass}`,
    );
  const audit: Pick<Attempt, 'approval' | 'breakGlass'> = {
    ...(why && existing?.approval ? { approval: existing.approval } : {}),
    ...(breakGlass ? { breakGlass } : {}),
  };
  if (!handler.editValues)
    return recordOutside(draft, index, { ...described(action), action: action.action, value, ...audit }, handler);
  return commitValues(draft, deps, ctx, { policy, action, value, editValues: handler.editValues.bind(handler), audit });
};

/** A values edit: committed and pushed, then recorded; the apply step makes it live. */
async function commitValues(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: StepContext<{ kind: 'start-attempt'; index: number }>,
  choice: ValuesChoice,
): Promise<StepResult> {
  const {
    project,
    stage,
    decision: { index },
    log,
    signal,
  } = ctx;
  const { policy, action, value, audit } = choice;
  const actionLabel = label({ action: action.action, value });
  const repository = await deps.repositories.forProject(project);
  const { request, change } = valuesCommitRequest(draft, ctx, choice);
  let outcome;
  // The store commits and pushes in one operation (edits to a branch are batched into one push).
  const span = ctx.span.child('commit and push', { 'git.branch': stage.branch, 'git.path': policy.valuesFile });
  try {
    outcome = await timed(
      (result, seconds) => deps.metrics?.gitOperation?.('push', result, seconds),
      () => repository.commitAction(request, signal),
    );
  } catch (err) {
    span.fail(errorMessage(err));
    span.end();
    deps.metrics?.attempt(action.action, 'commit_failed');
    return failStep(
      draft,
      deps,
      log,
      err,
      REASONS.CommitFailed,
      `attempt ${index} (${actionLabel}) could not be committed`,
    );
  }
  span.setAttributes({ 'git.commit': outcome.sha, 'git.outcome': outcome.kind });
  span.end();
  draft.upsertAttempt({
    index,
    ...(action.name ? { name: action.name } : {}),
    action: action.action,
    value,
    branch: stage.branch,
    commit: outcome.sha,
    path: policy.valuesFile,
    // When the push finished, not when this reconcile began: the audit trail and the latency split read it.
    committedTime: deps.clock().toISOString(),
    ...(outcome.kind === 'no-change' ? { message: `nothing to commit: ${outcome.reason}` } : {}),
    // What a revert after resolve sets back (a commit found after a restart did not run the edit here).
    ...(outcome.kind === 'committed' && editsOf(change()).length > 0 ? { edits: editsOf(change()) } : {}),
    ...audit,
  });
  const verb =
    outcome.kind === 'committed'
      ? 'committed'
      : outcome.kind === 'already-committed'
        ? 'found its earlier commit'
        : 'found the value already set';
  const message = `attempt ${index}: ${actionLabel} ${verb} on ${stage.branch} (${outcome.sha.slice(0, 12)})`;
  draft.markReconciling(REASONS.ActionCommitted, message);
  // A quick apply follows in this reconcile and its status write carries this one: in a storm, one
  // write per action instead of two. A helm upgrade may take minutes, so the commit shows first.
  if (stage.apply === 'helm') await draft.write('Remediating');
  else draft.carry('Remediating');
  draft.event('Normal', 'Committed', message);
  if (outcome.kind !== 'no-change')
    postCommitStatus(
      draft,
      deps,
      { project, stage },
      { index, commit: outcome.sha },
      'pending',
      `${problemTitle(draft)}: attempt ${index} (${actionLabel}) is being applied and evaluated`,
    );
  return NEXT;
}

/** An action that does not edit values (a webhook, an external executor): recorded, then run. */
async function recordOutside(
  draft: StatusDraft,
  index: number,
  action: Pick<Attempt, 'name' | 'description' | 'action' | 'value' | 'valueMap' | 'approval' | 'breakGlass'>,
  handler: ActionHandler,
): Promise<StepResult> {
  const execution: ActionExecution = {
    id: actionIdFor(draft.problem, index),
    executor: handler.executor,
    state: 'Running',
    startedTime: draft.now.toISOString(),
  };
  draft.upsertAttempt({ index, ...action, execution });
  const message = `attempt ${index}: ${label(action)} starting (${handler.executor}, action id ${execution.id})`;
  draft.markReconciling(REASONS.ActionInProgress, message);
  await draft.write('Remediating');
  draft.event('Normal', 'ActionStarted', message);
  return NEXT;
}

/** What an attempt keeps of the policy's action besides its type and value; a map value goes to executors as it is. */
function described(action: RemediationAction): Pick<Attempt, 'name' | 'description' | 'valueMap'> {
  return {
    ...(action.name ? { name: action.name } : {}),
    ...(action.description ? { description: action.description } : {}),
    ...(action.valueMap ? { valueMap: action.valueMap } : {}),
  };
}

function describeSource(policy: Policy): string {
  const s = policy.source;
  return s.kind === 'Remediation'
    ? `Remediation ${s.name ?? ''}`
    : `${s.path ?? 'remediation.yaml'} on ${s.branch ?? '?'}`;
}
