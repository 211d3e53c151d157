// Undo after resolve (a policy entry's `revertAfter`): the problem stays Reverting, resolved, until
// revertAfter has passed; then one commit sets back the keys the attempts changed (a
// `Rebound-Reverts` trailer per commit it reverts), it is applied like an action and evaluated. Pass:
// Reverted. Fail: a second commit restores the remediated values, and a person is told (Warning
// Event, condition, the `reverted` notification). A key someone changed since Rebound wrote it is
// never overwritten: it is left, and the Reverted condition names the commit and its author.
import { ACTIONS, CONDITION_TYPES, GITOPS_ENGINE_NAMES, REASONS, parseDuration } from '../../../api/index.ts';
import type { Attempt, Phase, Reason, Revert, ValueEdit } from '../../../api/index.ts';
import { actionIdFor } from '../../../actions/types.ts';
import type { ActionOutcome } from '../../../actions/types.ts';
import { ReboundError, errorMessage, failureReason } from '../../../errors.ts';
import { describeEdits, inverse, netEdits, revertAfterFor, undoEdits, valueAt } from '../../../remediation/revert.ts';
import type { UndoConflict, UndoResult } from '../../../remediation/revert.ts';
import type { CommitOutcome, CommitRequest, StageRepository } from '../../../remediation/stage.ts';
import type { ProblemLoopPorts } from '../ports.ts';
import { DEFAULT_ROLLOUT_TIMEOUT_MS, judgeRollout } from '../rollout-wait.ts';
import { checkSync } from '../sync-wait.ts';
import { evaluationWindow } from '../sequence.ts';
import type { StatusDraft } from './draft.ts';
import { failStep, stall } from './finish.ts';
import { postponedRetryMs } from './evaluate.ts';
import { DEFAULT_POLL_MS } from './live.ts';
import { evaluationWaitMs } from './outcome.ts';
import { NEXT } from './types.ts';
import type { StepContext, StepFor, StepResult } from './types.ts';

/** Conflicts named in a condition message; the status lists them all (up to its bound). */
const MAX_NAMED_CONFLICTS = 4;

/** The attempts whose values edit is known (committed here, with the keys it changed). */
function revertable(draft: StatusDraft): (Attempt & { commit: string })[] {
  return (draft.status.attempts ?? [])
    .filter((a): a is Attempt & { commit: string } => a.commit !== undefined && (a.edits?.length ?? 0) > 0)
    .sort((a, b) => a.index - b.index);
}

/**
 * The attempt passed and the policy entry asks for an undo: Reverting until revertAfter has passed.
 * Undefined when there is nothing to undo (no revertAfter, or no values edit with known keys).
 */
export async function scheduleRevert(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: Pick<StepContext, 'remediation'>,
  reason: Reason,
  summary: string,
): Promise<StepResult | undefined> {
  const after = revertAfterFor(draft.problem, ctx.remediation);
  const attempts = revertable(draft);
  if (after === undefined || attempts.length === 0) return undefined;
  let ms: number;
  try {
    ms = parseDuration(after);
  } catch {
    return undefined;
  }
  const due = new Date(draft.now.getTime() + ms);
  const message = `${summary}; its changes are reverted at ${due.toISOString()} (revertAfter ${after}) if no problem of the service opens before`;
  draft.update({
    revert: {
      state: 'Waiting',
      after,
      resolvedTime: draft.now.toISOString(),
      dueTime: due.toISOString(),
      reverts: attempts.map((a) => a.commit),
    },
  });
  draft.clearNextEvaluation();
  draft.markReady(reason, message);
  draft.setCondition({ type: CONDITION_TYPES.Reverted, status: 'False', reason: REASONS.RevertScheduled, message });
  await draft.write('Reverting');
  draft.event('Normal', 'Resolved', message);
  // Resolved: the service's next problem need not wait for the undo (a Reverting problem holds no turn).
  await deps.turns.release(draft.problem);
  return draft.delayUntil(due);
}

export const waitRevert: StepFor<'wait-revert'> = (draft, _deps, { decision }) =>
  Promise.resolve(draft.delayUntil(decision.until));

/** A new problem of the service opened: the service did not stay resolved, so its remediation stays. */
export const cancelRevert: StepFor<'cancel-revert'> = (draft, deps, { decision }) =>
  endRevert(
    draft,
    deps,
    'Resolved',
    { state: 'Cancelled' },
    REASONS.RevertCancelled,
    `revert called off: ${decision.why}`,
    'Normal',
  );

/** revertAfter has passed: one commit setting back every key the attempts changed, unless someone changed it since. */
export const commitRevert: StepFor<'commit-revert'> = async (draft, deps, ctx) => {
  const revert = draft.status.revert ?? { state: 'Waiting' };
  const attempts = revertable(draft);
  const first = attempts[0];
  const last = attempts[attempts.length - 1];
  if (!first || !last)
    return endRevert(
      draft,
      deps,
      'Resolved',
      { state: 'Cancelled' },
      REASONS.RevertCancelled,
      'nothing to revert',
      'Normal',
    );
  const path = first.path ?? `${draft.problem.spec.service}/values.yaml`;
  const net = netEdits(attempts.filter((a) => (a.path ?? path) === path).flatMap((a) => a.edits ?? []));
  const step = revert.step ?? (draft.status.attempts ?? []).reduce((n, a) => Math.max(n, a.index), 0) + 1;
  const reverts = attempts.map((a) => a.commit);
  // Set by the edit when it runs (not when the store finds the commit made before a restart).
  const ran: { undo?: UndoResult } = {};
  const request = commitRequest(draft, ctx, {
    path,
    step,
    action: commitLabel(draft, net.filter((e): e is ValueEdit & { from: string } => e.from !== undefined).map(inverse)),
    reverts,
    edit: (text) => {
      const undo = undoEdits(path, text, net);
      ran.undo = undo;
      if (undo.undone.length > 0) return { text: undo.text, summary: describeEdits(undo.undone) };
      return { unchanged: 'no key the problem changed still holds the value Rebound wrote' };
    },
    subject: (summary) => `rebound: revert ${summary} for ${draft.problem.spec.service} in ${ctx.stage.name}`,
  });
  const repository = await deps.repositories.forProject(ctx.project);
  let outcome: CommitOutcome;
  const span = ctx.span.child('commit and push', { 'git.branch': ctx.stage.branch, 'git.path': path });
  try {
    outcome = await repository.commitAction(request, ctx.signal);
    span.setAttributes({ 'git.commit': outcome.sha, 'git.outcome': outcome.kind });
    span.end();
  } catch (err) {
    span.fail(errorMessage(err));
    span.end();
    return failStep(
      draft,
      deps,
      ctx.log,
      err,
      REASONS.CommitFailed,
      `the revert of ${reverts.length} commit(s) could not be committed`,
    );
  }
  // Found after a restart: the edit did not run here; what it set back is read from the commit itself.
  let undo = ran.undo;
  if (outcome.kind === 'already-committed' && undo === undefined) {
    const text = await repository.readFileAt(outcome.sha, path);
    const undone = net
      .filter((e): e is ValueEdit & { from: string } => e.from !== undefined)
      .filter((e) => valueAt(path, text, e.key) === e.from)
      .map(inverse);
    undo = { text: text ?? '', undone, conflicts: [], added: [] };
  }
  const result = undo ?? { text: '', undone: [], conflicts: [], added: [] };
  const conflicts = await whoChanged(repository, outcome.sha, last.commit, path, result.conflicts);
  const notes = [
    ...(conflicts.length > 0 ? [`left ${describeConflicts(conflicts)}`] : []),
    ...(result.added.length > 0
      ? [`${result.added.join(', ')} left in place (added by Rebound; it does not remove keys)`]
      : []),
  ];
  const base: Revert = {
    ...revert,
    state: revert.state,
    step,
    reverts,
    branch: ctx.stage.branch,
    path,
    ...(conflicts.length > 0 ? { conflicts } : {}),
    ...(notes.length > 0 ? { message: truncate(notes.join('; '), 4096) } : {}),
  };
  if (outcome.kind === 'no-change' || result.undone.length === 0) {
    if (conflicts.length > 0) {
      const message = `nothing reverted: ${notes.join('; ')}`;
      return endRevert(
        draft,
        deps,
        'Resolved',
        { ...base, state: 'Conflicted' },
        REASONS.RevertConflict,
        message,
        'Warning',
      );
    }
    const message = `nothing to revert: ${notes.length > 0 ? notes.join('; ') : 'the values are already what they were before the problem'}`;
    return endRevert(draft, deps, 'Reverted', { ...base, state: 'Reverted' }, REASONS.Reverted, message, 'Normal');
  }
  const message = `revert ${describeEdits(result.undone)} committed on ${ctx.stage.branch} (${outcome.sha.slice(0, 12)})${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`;
  draft.update({
    revert: {
      ...base,
      state: 'Committed',
      commit: outcome.sha,
      committedTime: deps.clock().toISOString(),
      edits: result.undone,
    },
  });
  draft.markReconciling(REASONS.RevertCommitted, message);
  if (conflicts.length > 0)
    draft.setCondition({ type: CONDITION_TYPES.Reverted, status: 'False', reason: REASONS.RevertConflict, message });
  await draft.write('Reverting');
  draft.event(
    conflicts.length > 0 ? 'Warning' : 'Normal',
    conflicts.length > 0 ? REASONS.RevertConflict : REASONS.RevertCommitted,
    message,
  );
  return NEXT;
};

/** The revert commit goes live through the stage's applier, as the attempt's action did. */
export const applyRevert: StepFor<'apply-revert'> = async (draft, deps, ctx) => {
  const revert = draft.status.revert;
  if (!revert?.commit) return stall(draft, deps, REASONS.ApplyFailed, 'the revert has no commit to apply');
  const outcome = await applyCommit(draft, deps, ctx, revert, revert.commit, revert.step ?? 1, revert.edits ?? []);
  if ('result' in outcome) return outcome.result;
  if (outcome.kind !== 'done') {
    const detail =
      outcome.kind === 'failed' ? outcome.detail : 'the applier waits for a callback, which a revert does not';
    return revertFailed(draft, { ...revert, message: truncate(`the revert could not be applied: ${detail}`, 4096) });
  }
  if (outcome.sync) {
    // A GitOps engine syncs the stage: the revert is applied once it reports the commit (waitRevertSync).
    const message = `revert ${revert.commit.slice(0, 12)}: ${outcome.detail}; waiting until it reports the commit`;
    draft.update({ revert: { ...revert, sync: outcome.sync } });
    draft.markReconciling(REASONS.WaitingForSync, message);
    await draft.write('Reverting');
    draft.event('Normal', 'SyncRequested', message);
    return { requeueAfterMs: deps.settings.syncPollMs };
  }
  return revertApplied(
    draft,
    deps,
    ctx,
    { ...revert, commit: revert.commit },
    outcome.detail,
    outcome.rollout === true,
    deps.clock(),
  );
};

/** The revert took effect at the stage: it is live now, or once the rollout it started has finished. */
async function revertApplied(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: StepContext,
  revert: Revert & { commit: string },
  detail: string,
  rollout: boolean,
  // One reading of the clock: a synced revert's syncedTime and appliedTime are the same moment.
  at: Date,
): Promise<StepResult> {
  const applied: Revert = { ...revert, state: 'Applied', appliedTime: at.toISOString() };
  // Applied is not live: as for an attempt, the evaluation's clock starts once the rollout finished.
  if (rollout && deps.rollouts) {
    draft.update({ revert: { ...applied, rollout: { state: 'Progressing', startedTime: at.toISOString() } } });
    draft.clearNextEvaluation();
    const message = `revert ${revert.commit.slice(0, 12)} applied: ${detail}; waiting for the rollout`;
    draft.markReconciling(REASONS.WaitingForRollout, message);
    await draft.write('Reverting');
    draft.event('Normal', 'RevertApplied', message);
    return NEXT;
  }
  return revertLive(draft, deps, ctx, applied, at, `revert ${revert.commit.slice(0, 12)} applied: ${detail}`);
}

/**
 * The revert's commit was handed to the stage's GitOps engine: one look at what it reports, as for an
 * attempt (sync-wait.ts). Reported, the revert is applied and its workloads roll out; until then, or
 * while the engine is down or the sync fails, the problem says so and looks again at the sync pace.
 */
export const waitRevertSync: StepFor<'wait-revert-sync'> = async (draft, deps, ctx) => {
  const revert = draft.status.revert;
  if (!revert?.commit || !revert.sync) return NEXT;
  const commit = revert.commit;
  const verdict = await checkSync({
    check: deps.sync,
    attempt: {
      index: revert.step ?? 1,
      action: 'revert',
      value: '',
      commit,
      sync: revert.sync,
      ...(revert.branch ? { branch: revert.branch } : {}),
      ...(revert.committedTime ? { committedTime: revert.committedTime } : {}),
    },
    stage: ctx.stage,
    repository: await deps.repositories.forProject(ctx.project),
    now: draft.now,
    signal: ctx.signal,
  });
  const again = { requeueAfterMs: deps.settings.syncPollMs };
  if (verdict.kind === 'synced') {
    const synced = deps.clock();
    const sync = { ...revert.sync, revision: verdict.revision, syncedTime: synced.toISOString() };
    const engine = GITOPS_ENGINE_NAMES[revert.sync.engine];
    return revertApplied(
      draft,
      deps,
      ctx,
      { ...revert, commit, sync },
      `synced by ${engine} at ${verdict.revision}`,
      true,
      synced,
    );
  }
  const message = `revert ${commit.slice(0, 12)}: ${verdict.message}`;
  const type = verdict.kind === 'waiting' ? CONDITION_TYPES.Reconciling : CONDITION_TYPES.Stalled;
  const shown = draft.problem.status?.conditions?.find((c) => c.type === type);
  if (shown?.status === 'True' && shown.reason === verdict.reason && shown.message === message) return again;
  if (verdict.kind === 'waiting') {
    draft.markReconciling(verdict.reason, message);
    await draft.write('Reverting');
  } else {
    // Looked at again at the sync pace: the engine coming back, or a fix pushed on top, moves it on.
    await stall(draft, deps, verdict.reason, message);
  }
  return again;
};

/** The revert is live at `at`: its evaluation is due after the evaluation wait. */
async function revertLive(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: Pick<StepContext, 'remediation' | 'stage'>,
  revert: Revert,
  at: Date,
  what: string,
): Promise<StepResult> {
  const due = new Date(at.getTime() + evaluationWaitMs(deps, ctx.remediation, ctx.stage.sequence));
  draft.update({ revert, nextEvaluationTime: due.toISOString() });
  const message = `${what}; evaluation at ${due.toISOString()}`;
  draft.markReconciling(REASONS.WaitingForEvaluation, message);
  await draft.write('Reverting');
  draft.event('Normal', revert.liveTime ? 'RevertRolledOut' : 'RevertApplied', message);
  return draft.delayUntil(due);
}

/** The revert's rollout, looked at as an attempt's is (rollout-wait.ts): live, still going, or failed. */
export const waitRevertLive: StepFor<'wait-revert-live'> = async (draft, deps, ctx) => {
  const revert = draft.status.revert;
  if (!revert?.rollout || revert.liveTime) return NEXT;
  const now = deps.clock();
  const check = deps.rollouts;
  if (!check) {
    const done: Revert = { ...revert, liveTime: now.toISOString(), rollout: { ...revert.rollout, state: 'Complete' } };
    return revertLive(draft, deps, ctx, done, now, 'revert live: the controller no longer waits for rollouts');
  }
  const target = { namespace: ctx.stage.namespace, service: draft.problem.spec.service };
  let observation;
  try {
    observation = await check.observe(
      { ...target, ...(revert.rollout.workloads?.length ? { workloads: revert.rollout.workloads } : {}) },
      ctx.signal,
    );
  } catch (err) {
    return failStep(draft, deps, ctx.log, err, REASONS.WaitingForRollout, "the revert's rollout could not be read");
  }
  const verdict = judgeRollout(
    observation,
    revert.rollout,
    target,
    now,
    deps.settings.rolloutTimeoutMs ?? DEFAULT_ROLLOUT_TIMEOUT_MS,
  );
  switch (verdict.kind) {
    case 'live':
      return revertLive(
        draft,
        deps,
        ctx,
        { ...revert, liveTime: now.toISOString(), rollout: verdict.rollout },
        now,
        `revert live: ${verdict.detail}`,
      );
    case 'waiting': {
      const again = { requeueAfterMs: deps.settings.rolloutPollMs ?? DEFAULT_POLL_MS };
      if (JSON.stringify(revert.rollout) === JSON.stringify(verdict.rollout)) return again;
      draft.update({ revert: { ...revert, rollout: verdict.rollout } });
      draft.markReconciling(REASONS.WaitingForRollout, `the revert is ${verdict.message}`);
      await draft.write('Reverting');
      return again;
    }
    case 'failed':
      return revertFailed(draft, {
        ...revert,
        rollout: verdict.rollout,
        message: truncate(`the revert did not roll out: ${verdict.message}`, 4096),
      });
  }
};

/** Did the service stay healthy without the remediation? Pass: Reverted. Fail: the remediated values go back. */
export const evaluateRevert: StepFor<'evaluate-revert'> = async (draft, deps, ctx) => {
  const revert = draft.status.revert;
  if (!revert?.appliedTime) return NEXT;
  const repository = await deps.repositories.forProject(ctx.project);
  const window = evaluationWindow(
    {
      index: revert.step ?? 1,
      action: 'revert',
      value: '',
      appliedTime: revert.appliedTime,
      ...(revert.liveTime ? { liveTime: revert.liveTime } : {}),
    },
    draft.now,
    ctx.stage.sequence,
  );
  const span = ctx.span.child('evaluation', {
    'rebound.evaluation.start': window.start.toISOString(),
    'rebound.evaluation.end': window.end.toISOString(),
  });
  let outcome;
  const started = performance.now();
  try {
    outcome = await deps.evaluator.evaluate({
      problem: draft.problem,
      project: ctx.project,
      stage: ctx.stage,
      repository,
      ...(revert.commit ? { commit: revert.commit } : {}),
      window,
      signal: ctx.signal,
      span,
    });
    span.setAttributes({ 'rebound.result': outcome.result, 'rebound.score': outcome.score });
    span.end();
  } catch (err) {
    span.fail(errorMessage(err));
    span.end();
    if (err instanceof ReboundError && err.retryable) {
      // The metrics source being down says nothing about the service: the revert's verdict waits.
      const reason = failureReason(err, REASONS.PrometheusUnavailable);
      draft.markReconciling(reason, `the revert's evaluation is postponed: ${err.message}`);
      await draft.write();
      return { requeueAfterMs: postponedRetryMs(deps, reason) };
    }
    return stall(
      draft,
      deps,
      failureReason(err, REASONS.EvaluationErrored),
      `the revert could not be evaluated: ${errorMessage(err)}`,
    );
  }
  deps.metrics?.evaluation?.(outcome.result, (performance.now() - started) / 1000);
  const judged: Revert = {
    ...revert,
    evaluationTime: draft.now.toISOString(),
    result: outcome.result,
    score: outcome.score,
  };
  draft.clearNextEvaluation();
  const summary = `the revert (${describeEdits(revert.edits ?? [])}) evaluated ${outcome.result} with score ${formatScore(outcome.score)}%`;
  if (outcome.result !== 'fail') {
    const message = `${summary}: the service is healthy without the remediation${revert.message ? `; ${revert.message}` : ''}`;
    return endRevert(draft, deps, 'Reverted', { ...judged, state: 'Reverted' }, REASONS.Reverted, message, 'Normal');
  }
  return revertFailed(draft, { ...judged, message: truncate(`${summary}: ${outcome.message}`, 4096) });
};

/** The revert failed: record it first (a retry does not evaluate again), then restore. */
async function revertFailed(draft: StatusDraft, revert: Revert): Promise<StepResult> {
  const message = `${revert.message ?? 'the revert failed'}: restoring the remediated values`;
  draft.update({ revert: { ...revert, state: 'Restoring' } });
  draft.markReconciling(REASONS.RevertFailed, message);
  await draft.write('Reverting');
  draft.event('Warning', REASONS.RevertFailed, message);
  return NEXT;
}

/** Commit the remediated values again (the revert's edits undone) and apply them; the problem stays Resolved. */
export const restore: StepFor<'restore'> = async (draft, deps, ctx) => {
  const revert = draft.status.revert;
  if (!revert?.commit || !revert.path)
    return stall(draft, deps, REASONS.RevertFailed, 'the revert to restore has no commit');
  const path = revert.path;
  const step = (revert.step ?? 1) + 1;
  const edits = revert.edits ?? [];
  const ran: { restored?: UndoResult } = {};
  const request = commitRequest(draft, ctx, {
    path,
    step,
    action: commitLabel(draft, edits.map(inverseOf)),
    reverts: [revert.commit],
    edit: (text) => {
      const restored = undoEdits(path, text, edits);
      ran.restored = restored;
      if (restored.undone.length > 0) return { text: restored.text, summary: describeEdits(restored.undone) };
      return { unchanged: 'no key the revert set back still holds that value' };
    },
    subject: (summary) =>
      `rebound: restore ${summary} for ${draft.problem.spec.service} in ${ctx.stage.name} (the revert failed)`,
  });
  const repository = await deps.repositories.forProject(ctx.project);
  let outcome: CommitOutcome;
  try {
    outcome = await repository.commitAction(request, ctx.signal);
  } catch (err) {
    return failStep(
      draft,
      deps,
      ctx.log,
      err,
      REASONS.CommitFailed,
      'the remediated values could not be committed again',
    );
  }
  const conflicts = await whoChanged(repository, outcome.sha, revert.commit, path, ran.restored?.conflicts ?? []);
  const left = conflicts.length > 0 ? `; left ${describeConflicts(conflicts)}` : '';
  if (outcome.kind !== 'no-change') {
    const applied = await applyCommit(draft, deps, ctx, revert, outcome.sha, step, edits.map(inverseOf));
    if ('result' in applied) return applied.result;
    if (applied.kind === 'failed') {
      return stall(
        draft,
        deps,
        REASONS.ApplyFailed,
        `the revert failed and the remediated values were committed again (${outcome.sha.slice(0, 12)}), but could not be applied: ${applied.detail}`,
      );
    }
  }
  const what =
    outcome.kind === 'no-change' ? 'nothing to restore' : `remediated values restored in ${outcome.sha.slice(0, 12)}`;
  const message = `${revert.message ?? 'the revert failed'}; ${what}${left}: a person should look at the service`;
  return endRevert(
    draft,
    deps,
    'Resolved',
    {
      ...revert,
      state: 'Restored',
      ...(outcome.kind === 'no-change' ? {} : { restoreCommit: outcome.sha }),
      ...(conflicts.length > 0 ? { conflicts: [...(revert.conflicts ?? []), ...conflicts].slice(0, 32) } : {}),
    },
    REASONS.RevertFailed,
    message,
    'Warning',
  );
};

/** The end of the undo: a final phase, Ready (the problem is resolved either way), the Reverted condition. */
async function endRevert(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  phase: Extract<Phase, 'Resolved' | 'Reverted'>,
  revert: Revert,
  reason: Reason,
  message: string,
  type: 'Normal' | 'Warning',
): Promise<StepResult> {
  draft.update({
    revert: {
      ...draft.status.revert,
      ...revert,
      finishedTime: draft.now.toISOString(),
      message: truncate(message, 4096),
    },
    completionTime: draft.now.toISOString(),
  });
  draft.clearNextEvaluation();
  draft.markReady(reason, message);
  draft.setCondition({
    type: CONDITION_TYPES.Reverted,
    status: phase === 'Reverted' ? 'True' : 'False',
    reason,
    message,
  });
  await draft.write(phase);
  draft.event(type, reason, message);
  deps.metrics?.revert?.(reason);
  return { done: true };
}

/**
 * Applies a revert (or restore) commit with the handler of each action type whose keys it sets (a
 * `kubernetes` stage applies only the replicas for `scale`, only the flags for `featuretoggle`, and
 * Unleash is told the flags): one run per type, in the order the attempts used them.
 */
async function applyCommit(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: StepContext,
  revert: Revert,
  commit: string,
  step: number,
  edits: readonly ValueEdit[],
): Promise<ActionOutcome | { result: StepResult }> {
  const groups = byAction(draft, edits);
  const details: string[] = [];
  let last: ActionOutcome | undefined;
  for (const [action, group] of groups) {
    const outcome = await applyAs(draft, deps, ctx, revert, commit, step, action, group);
    if ('result' in outcome || outcome.kind !== 'done') return outcome;
    details.push(outcome.detail);
    last = outcome;
  }
  if (!last) return { kind: 'done', detail: 'nothing to apply' };
  return { ...last, detail: details.join('; ') };
}

async function applyAs(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: StepContext,
  revert: Revert,
  commit: string,
  step: number,
  action: string,
  edits: readonly ValueEdit[],
): Promise<ActionOutcome | { result: StepResult }> {
  const handler = deps.actions.handlerFor(action);
  if (!handler)
    return {
      result: await stall(draft, deps, REASONS.UnknownAction, `nothing carries out "${action}" to apply the revert`),
    };
  const attempt: Attempt = {
    index: step,
    action,
    value: revertLabel(action, edits).slice(action.length + 1),
    commit,
    ...(revert.branch ? { branch: revert.branch } : {}),
    ...(revert.path ? { path: revert.path } : {}),
  };
  const span = ctx.span.child('apply', { 'rebound.apply': ctx.stage.apply, 'git.commit': commit });
  try {
    const outcome = await handler.run({
      problem: draft.problem,
      project: ctx.project,
      stage: ctx.stage,
      remediation: ctx.remediation,
      attempt,
      actionId: actionIdFor(draft.problem, step),
      repository: await deps.repositories.forProject(ctx.project),
      signal: ctx.signal,
    });
    span.setAttributes({ 'rebound.outcome': outcome.kind });
    span.end();
    return outcome;
  } catch (err) {
    span.fail(errorMessage(err));
    span.end();
    return {
      result: await failStep(
        draft,
        deps,
        ctx.log,
        err,
        REASONS.ApplyFailed,
        `revert step ${step} could not be applied with ${ctx.stage.apply}`,
      ),
    };
  }
}

interface RevertCommit {
  path: string;
  step: number;
  /** `scale 1`, `featuretoggle A:on`: the Rebound-Action trailer. */
  action: string;
  reverts: readonly string[];
  edit: CommitRequest['edit'];
  subject: CommitRequest['subject'];
}

/** A revert or restore commit: its own Rebound-Attempt number (after the attempts), a Rebound-Reverts per commit. */
function commitRequest(draft: StatusDraft, ctx: Pick<StepContext, 'stage'>, c: RevertCommit): CommitRequest {
  const { metadata } = draft.problem;
  return {
    branch: ctx.stage.branch,
    path: c.path,
    problem: {
      namespace: draft.namespace,
      name: metadata.name ?? '',
      uid: metadata.uid ?? '',
      ...(metadata.creationTimestamp ? { created: new Date(metadata.creationTimestamp) } : {}),
    },
    attempt: c.step,
    actionLabel: c.action,
    notes: { reverts: c.reverts },
    edit: c.edit,
    subject: c.subject,
  };
}

/** `edits` by the action type of the attempt that first edited each key, in the order the attempts used them. */
function byAction(draft: StatusDraft, edits: readonly ValueEdit[]): Map<string, ValueEdit[]> {
  const actionOf = new Map<string, string>();
  for (const a of revertable(draft))
    for (const e of a.edits ?? []) if (!actionOf.has(e.key)) actionOf.set(e.key, a.action);
  const groups = new Map<string, ValueEdit[]>();
  for (const edit of edits) {
    const action = actionOf.get(edit.key) ?? ACTIONS.scale;
    groups.set(action, [...(groups.get(action) ?? []), edit]);
  }
  const order = [...new Set(actionOf.values())];
  return new Map([...groups].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b)));
}

/** The Rebound-Action trailer of a revert or restore: `scale 1`, or `scale 1; featuretoggle A:on` when both. */
function commitLabel(draft: StatusDraft, edits: readonly ValueEdit[]): string {
  return [...byAction(draft, edits)].map(([action, group]) => revertLabel(action, group)).join('; ');
}

/** The action that sets `edits`' keys to their `to`: `scale 1`, `featuretoggle A:on,B:off`. */
function revertLabel(action: string, edits: readonly ValueEdit[]): string {
  if (action === ACTIONS.featuretoggle) {
    const toggles = edits.map(
      (e) => `${e.key.split('.').pop() ?? e.key}:${e.to.toLowerCase() === 'true' ? 'on' : 'off'}`,
    );
    return `${action} ${toggles.join(',')}`;
  }
  const last = edits[edits.length - 1];
  return last ? `${action} ${last.to}` : action;
}

function inverseOf(edit: ValueEdit): ValueEdit {
  return { key: edit.key, from: edit.to, to: edit.from ?? edit.to };
}

/**
 * Each conflicting key with the newest commit after `since` that changed it, and its author: the
 * person (or pipeline) whose change the revert leaves alone. Without a history, the key alone.
 */
async function whoChanged(
  repository: StageRepository,
  tip: string,
  since: string,
  path: string,
  conflicts: readonly UndoConflict[],
): Promise<NonNullable<Revert['conflicts']>> {
  if (conflicts.length === 0) return [];
  let history: Awaited<ReturnType<NonNullable<StageRepository['fileHistory']>>>;
  try {
    history = (await repository.fileHistory?.(tip, since, path)) ?? [];
  } catch {
    // Who changed it is a courtesy: the conflict itself stands without it.
    history = [];
  }
  const texts = new Map<string, string | undefined>();
  const textAt = async (sha: string): Promise<string | undefined> => {
    if (!texts.has(sha)) texts.set(sha, await repository.readFileAt(sha, path));
    return texts.get(sha);
  };
  const out: NonNullable<Revert['conflicts']> = [];
  for (const conflict of conflicts.slice(0, 32)) {
    let by: { sha: string; author: string } | undefined;
    for (const commit of history) {
      const after = valueAt(path, await textAt(commit.sha), conflict.key);
      const before = valueAt(path, await textAt(commit.parent), conflict.key);
      if (after !== before) {
        by = commit;
        break;
      }
    }
    out.push({
      key: conflict.key,
      wrote: conflict.wrote,
      ...(conflict.found === undefined ? {} : { found: conflict.found }),
      ...(by ? { commit: by.sha, author: truncate(by.author, 512) } : {}),
    });
  }
  return out;
}

function describeConflicts(conflicts: NonNullable<Revert['conflicts']>): string {
  const named = conflicts.slice(0, MAX_NAMED_CONFLICTS).map((c) => {
    const now = c.found === undefined ? 'is gone' : `is ${c.found}`;
    const by = c.commit ? ` since ${c.commit.slice(0, 12)} by ${c.author ?? 'unknown'}` : '';
    return `${c.key} (Rebound wrote ${c.wrote}, it ${now}${by})`;
  });
  const more = conflicts.length > MAX_NAMED_CONFLICTS ? ` and ${conflicts.length - MAX_NAMED_CONFLICTS} more` : '';
  return `${named.join(', ')}${more}: changed by someone since`;
}

function formatScore(score: number): string {
  return Number.isInteger(score) ? String(score) : score.toFixed(2);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
