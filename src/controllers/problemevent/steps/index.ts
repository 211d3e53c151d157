// Which step carries out which decision. decide() (pure, table-tested) says what is next; this table
// says who does it; the reconciler runs it and chains the next one. The compiler keeps the table
// complete: a new kind of decision cannot be added without its step. Before any of them but the
// finishing ones, the reconciler claims the service's turn (turn.ts).
//
// Where later steps go, each a new decision kind in decide.ts plus one row (and file) here:
// - (done) an approval before anything is committed: "await-approval" and "approval-timed-out" for an
//   attempt recorded by "start-attempt" with a pending approval (steps/approval.ts); Project rules
//   (deny windows, budgets, circuit breaker) as "held" before a new attempt (src/rules/holds.ts);
// - (done) waiting until the change is live (a rollout) between "apply-attempt" and "evaluate": a
//   "wait-live" decision for an applied attempt whose change is not live yet (steps/live.ts), before
//   the sequence's tasks. The GitOps engine's report ("wait-sync", steps/sync.ts) comes before it: the
//   engine applies, then the rollout runs.
import type { Decision } from '../decide.ts';
import { applyAttempt } from './action.ts';
import { startAttempt } from './attempt.ts';
import { approvalTimedOut } from './approval.ts';
import { awaitApprovalOrMerge } from './proposal.ts';
import { actionTimedOut, completeAction } from './callback.ts';
import { evaluate } from './evaluate.ts';
import { resolveBySource, unhandledByStage } from './finish.ts';
import { waitLive } from './live.ts';
import { waitSync } from './sync.ts';
import { runTask, waitTask } from './task.ts';
import {
  applyRevert,
  cancelRevert,
  commitRevert,
  evaluateRevert,
  restore,
  waitRevert,
  waitRevertLive,
  waitRevertSync,
} from './revert.ts';
import { DONE } from './types.ts';
import type { StepFor } from './types.ts';
import { held, throttled, waitAction, waitEvaluation } from './waits.ts';
import { holding } from './hold.ts';

export const STEPS: { readonly [K in Decision['kind']]: StepFor<K> } = {
  done: () => Promise.resolve(DONE),
  'resolve-by-source': resolveBySource,
  'unhandled-by-stage': unhandledByStage,
  throttled: throttled,
  held: held,
  'start-attempt': startAttempt,
  'await-approval': awaitApprovalOrMerge,
  'approval-timed-out': approvalTimedOut,
  'apply-attempt': applyAttempt,
  'wait-action': waitAction,
  'complete-action': completeAction,
  'action-timed-out': actionTimedOut,
  'wait-sync': waitSync,
  // Applied is not live: the rollout the apply started (steps/live.ts).
  'wait-live': holding(waitLive),
  // The shipyard sequence's tasks after the action (steps/task.ts).
  'run-task': runTask,
  'wait-task': holding(waitTask),
  // Holds: a push that set a remediated value back is noticed while the problem waits (steps/hold.ts).
  'wait-evaluation': holding(waitEvaluation),
  evaluate: evaluate,
  // Undo after resolve (revertAfter): a Reverting problem, without the service's turn (steps/revert.ts).
  'wait-revert': holding(waitRevert),
  'cancel-revert': cancelRevert,
  'commit-revert': commitRevert,
  'apply-revert': applyRevert,
  'wait-revert-sync': waitRevertSync,
  'wait-revert-live': waitRevertLive,
  'evaluate-revert': evaluateRevert,
  restore: restore,
};
