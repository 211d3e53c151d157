// Holds (docs/remediation.md#holds): while a problem is open, the next deploy may set a value Rebound
// wrote back (`replicaCount: 1` again). The Project's branch watch wakes the open problems of a
// moved stage branch; before the waits of an applied attempt, this check reads who changed the
// values file since Rebound's commit, and says so (condition HoldBroken, a Warning Event). The
// Remediation's `hold.mode` says whether Rebound only warns or commits its values again
// (`Rebound-Reasserts: <sha>`), at most `hold.maxReasserts` times: it never fights a person forever.
import { CONDITION_TYPES, REASONS } from '../../../api/index.ts';
import type { Attempt, ProblemEventStatus, Reason } from '../../../api/index.ts';
import { ReboundError, errorMessage } from '../../../errors.ts';
import { DEFAULT_MAX_REASSERTS, describeSetBack, restoreKeys, setBackKeys } from '../../../remediation/holds.ts';
import type { BranchPathHistory, CommitRequest, StageRepository } from '../../../remediation/stage.ts';
import type { ProblemLoopPorts } from '../ports.ts';
import type { StatusDraft } from './draft.ts';
import { failStep } from './finish.ts';
import { NEXT } from './types.ts';
import type { StepContext, StepFor, StepResult } from './types.ts';
import type { Decision } from '../decide.ts';

type HoldStatus = NonNullable<ProblemEventStatus['hold']>;

/** The wait step, after the hold check: a check that wrote the status chains the wait from it. */
export function holding<K extends Decision['kind']>(step: StepFor<K>): StepFor<K> {
  return async (draft, deps, ctx) => (await checkHold(draft, deps, ctx)) ?? step(draft, deps, ctx);
}

/** The attempt whose values hold: the last one that committed a values edit on the stage branch and was applied. */
export function heldAttempt(status: Readonly<ProblemEventStatus>, branch: string): Attempt | undefined {
  const last = (status.attempts ?? []).at(-1);
  if (!last?.commit || !last.path || last.branch !== branch || last.appliedTime === undefined) return undefined;
  // The value was already there: Rebound wrote nothing to hold.
  if (last.message?.startsWith('nothing to commit')) return undefined;
  return last;
}

/** undefined: nothing new on the branch, go on with the wait. */
export async function checkHold(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: StepContext,
): Promise<StepResult | undefined> {
  const { project, stage } = ctx;
  // Waiting to revert, the remediated values still hold; once the revert is committed, they are its to change.
  const revert = draft.status.revert;
  if (revert && revert.state !== 'Waiting') return undefined;
  const attempt = heldAttempt(draft.status, stage.branch);
  if (!attempt?.commit || !attempt.path) return undefined;
  const hold: HoldStatus = draft.status.hold ?? {};
  // The branch watch's last head: unchanged since the last look, nothing to read.
  const watched = project.status?.stages?.find((s) => s.name === stage.name)?.commit;
  const last = hold.checkedCommit ?? attempt.commit;
  if (watched === undefined || watched === last) return undefined;
  const repository = await deps.repositories.forProject(project);
  if (!repository.pathHistory) return undefined;
  const { path, commit } = attempt;
  if (await unchangedSince(repository, stage.branch, last, path)) return undefined;
  const history = await repository.pathHistory(stage.branch, commit, path);
  if (history.head === last) return undefined;
  const [before, written, now] = await Promise.all([
    history.base ? repository.readFileAt(history.base, path) : Promise.resolve(undefined),
    repository.readFileAt(commit, path),
    repository.readFileAt(history.head, path),
  ]);
  if (written === undefined) return undefined;
  const keys = setBackKeys(before, written, now);
  const checked: HoldStatus = { ...hold, checkedCommit: history.head };
  const broken = (draft.problem.status?.conditions ?? []).some(
    (c) => c.type === CONDITION_TYPES.HoldBroken && c.status === 'True',
  );
  if (keys.length === 0) {
    draft.update({ hold: checked });
    if (broken)
      draft.setCondition({
        type: CONDITION_TYPES.HoldBroken,
        status: 'False',
        reason: REASONS.HoldRestored,
        message: `the values Rebound wrote to ${path} are in place again at ${short(history.head)}`,
      });
    await draft.write();
    return NEXT;
  }

  const culprit = (await culpritOf(repository, history, draft.problem.metadata.uid ?? '', path, {
    before,
    written,
    setBack: keys.length,
  })) ?? { sha: history.head, author: "an unknown author (the history since Rebound's commit was rewritten)" };
  const shown = describeSetBack(keys);
  const author = culprit.author.slice(0, 512) || 'an unknown author';
  const what = `commit ${short(culprit.sha)} by ${author} set back ${shown.join(', ')} in ${path}`;
  const brokenBy: NonNullable<HoldStatus['brokenBy']> = {
    commit: culprit.sha,
    author,
    time: draft.now.toISOString(),
    keys: shown.slice(0, 16),
    path,
  };
  const mode = ctx.remediation?.spec.hold?.mode ?? 'warn';
  const max = ctx.remediation?.spec.hold?.maxReasserts ?? DEFAULT_MAX_REASSERTS;
  const reasserts = hold.reasserts ?? 0;
  const report = async (reason: Reason, message: string, status: HoldStatus): Promise<StepResult> => {
    draft.update({ hold: status });
    draft.setCondition({ type: CONDITION_TYPES.HoldBroken, status: 'True', reason, message });
    await draft.write();
    draft.event('Warning', CONDITION_TYPES.HoldBroken, message);
    deps.metrics?.holdBroken?.(reason);
    return NEXT;
  };
  if (mode === 'warn')
    return report(REASONS.HoldWarned, `${what}; the policy (hold: warn) only warns, nothing is committed`, {
      ...checked,
      brokenBy,
    });
  if (reasserts >= max)
    return report(
      REASONS.ReassertLimitReached,
      `${what}; Rebound put its values back ${reasserts} time(s), the most hold.maxReasserts allows, and leaves them to a person now`,
      { ...checked, brokenBy },
    );

  const request = reassertRequest(draft, ctx, attempt, { before, written, culprit: culprit.sha, shown });
  let outcome;
  try {
    outcome = await repository.commitAction(request, ctx.signal);
  } catch (err) {
    if (err instanceof ReboundError && err.retryable)
      return failStep(draft, deps, ctx.log, err, REASONS.CommitFailed, `${what}; putting them back failed`);
    return report(REASONS.HoldWarned, `${what}; putting them back is not possible: ${errorMessage(err)}`, {
      ...checked,
      brokenBy,
    });
  }
  if (outcome.kind === 'no-change') {
    // Someone put them back between our read and the commit.
    draft.update({ hold: { ...checked, checkedCommit: outcome.sha } });
    await draft.write();
    return NEXT;
  }
  const counted = hold.brokenBy?.reassertCommit === outcome.sha ? reasserts : reasserts + 1;
  const live = await applyReassert(draft, deps, ctx, { ...attempt, commit: outcome.sha }, repository);
  return report(
    REASONS.HoldReasserted,
    `${what}; Rebound committed them again (${short(outcome.sha)}, re-assert ${counted} of at most ${max})${live}`,
    { checkedCommit: outcome.sha, reasserts: counted, brokenBy: { ...brokenBy, reassertCommit: outcome.sha } },
  );
}

/**
 * The values file at the newest head this replica knows is the one it looked at last: nothing can have
 * been set back since, so the last verdict stands. Asks no server and walks no history: the branch
 * moves with every other service's commit in an alert storm, and each move wakes every open problem.
 * False when it cannot tell (a store without the file at `last`, after a restart): the full check runs.
 */
async function unchangedSince(
  repository: StageRepository,
  branch: string,
  last: string,
  path: string,
): Promise<boolean> {
  if (!repository.readFileAtKnownHead) return false;
  try {
    const [atLast, atHead] = await Promise.all([
      repository.readFileAt(last, path),
      repository.readFileAtKnownHead(branch, path),
    ]);
    return atLast !== undefined && atHead !== undefined && atHead.text === atLast;
  } catch {
    return false;
  }
}

/** The re-assert's commit: the set-back values written again, on the newest head, as its own step. */
function reassertRequest(
  draft: StatusDraft,
  { stage }: StepContext,
  attempt: Attempt,
  args: { before: string | undefined; written: string; culprit: string; shown: string[] },
): CommitRequest {
  const path = attempt.path ?? '';
  const { metadata, spec } = draft.problem;
  return {
    branch: stage.branch,
    path,
    problem: {
      namespace: draft.namespace,
      name: metadata.name ?? '',
      uid: metadata.uid ?? '',
      ...(metadata.creationTimestamp ? { created: new Date(metadata.creationTimestamp) } : {}),
    },
    attempt: attempt.index,
    actionLabel: attempt.value === '' ? attempt.action : `${attempt.action} ${attempt.value}`,
    notes: { reasserts: args.culprit },
    // On the newest head (re-run after a rejected push): only what is still set back is written.
    edit: (text) => {
      const keys = setBackKeys(args.before, args.written, text);
      if (keys.length === 0) return { unchanged: `the values Rebound wrote to ${path} are in place` };
      return { text: restoreKeys(path, text, keys), summary: describeSetBack(keys).join(', ') };
    },
    subject: (summary) =>
      `rebound: put back ${summary} for ${spec.service} in ${stage.name} (hold, after ${short(args.culprit)})`,
  };
}

/**
 * A stage Rebound applies itself (helm, kubernetes) gets the re-asserted commit applied at once; a
 * GitOps engine's stage (flux) is asked to sync it. Returns the message's tail; never throws (the
 * commit is the record, and the next evaluation reads what is live).
 */
async function applyReassert(
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: StepContext,
  attempt: Attempt,
  repository: StageRepository,
): Promise<string> {
  const handler = deps.actions.handlerFor(attempt.action);
  if (!handler?.editValues || handler.background) return '';
  try {
    const outcome = await handler.run({
      problem: draft.problem,
      project: ctx.project,
      stage: ctx.stage,
      remediation: ctx.remediation,
      attempt,
      actionId: `${draft.problem.metadata.uid ?? 'hold'}-reassert-${short(attempt.commit ?? '')}`,
      repository,
      signal: ctx.signal,
    });
    return outcome.kind === 'done' ? `; ${outcome.detail}` : `; applying it did not finish: ${outcomeText(outcome)}`;
  } catch (err) {
    return `; applying it failed: ${errorMessage(err)}`;
  }
}

function outcomeText(outcome: { kind: string; detail?: string }): string {
  return outcome.detail ?? outcome.kind;
}

function short(sha: string): string {
  return sha.slice(0, 12);
}

/**
 * Who set the values back: the newest commit, not this problem's own, after whose parent fewer of
 * them were set back (a later push that only bumped the image is not named). Without such a commit
 * (its parent is out of reach), the newest commit that is not this problem's own.
 */
async function culpritOf(
  repository: StageRepository,
  history: BranchPathHistory,
  uid: string,
  path: string,
  values: { before: string | undefined; written: string; setBack: number },
): Promise<BranchPathHistory['changes'][number] | undefined> {
  const theirs = history.changes.filter((c) => c.rebound?.uid !== uid);
  for (const change of theirs) {
    if (change.parent === undefined) return change;
    const atParent = await repository.readFileAt(change.parent, path);
    if (setBackKeys(values.before, values.written, atParent).length < values.setBack) return change;
  }
  return theirs[0];
}
