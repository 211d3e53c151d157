// A stage as the remediation loop and its actions see it, and the Git-backed repository they commit
// to. Shared vocabulary: the loop, the actions and the wiring all speak it, so it lives below them
// (no I/O here; the implementation over the Git store is controllers/problemevent/git-repository.ts).
import type { ApplyMode, StageGitOps } from '../api/index.ts';
import type { EditOutcome } from '../gitstore/store.ts';

export type { EditOutcome };

/** A stage as the loop uses it, after defaults (branch = name, namespace = `<project>-<stage>`). */
export interface ResolvedStage {
  name: string;
  branch: string;
  namespace: string;
  remediation: 'automated' | 'manual' | 'disabled';
  apply: ApplyMode;
  /** apply: flux: the engine objects the stage names, and how long the engine may take. */
  gitops?: StageGitOps;
  /** The shipyard's remediation sequence (absent when the Project lists its stages itself). */
  sequence?: RemediationSequence;
}

/** A shipyard task after the action, dispatched to an executor before the evaluation. */
export interface DispatchedTask {
  name: string;
  /** Keptn waited this long after the previous task finished before sending `.triggered`. */
  delayMs: number;
  /** The task's shipyard properties, sent under the key `<name>` as Keptn did. */
  properties?: Record<string, unknown>;
}

/** Keptn's approval task settings: what happens when the task before it reported `pass` or `warning`. */
export type ApprovalStrategy = 'automatic' | 'manual';

/** A shipyard `approval` task before the action: the action waits for people unless the setting is `automatic`. */
export interface ApprovalTask {
  pass: ApprovalStrategy;
  warning: ApprovalStrategy;
}

export interface RemediationSequence {
  /** The sequence's `approval` task before the action, when it has one. */
  approval?: ApprovalTask;
  /** Dispatched after the action took effect, one after another, before the evaluation. */
  tasks: readonly DispatchedTask[];
  /** The evaluation task's wait before evaluating (`triggeredAfter`), when the shipyard sets one. */
  evaluationWaitMs?: number;
  /** The evaluation task's `timeframe`: the SLI window ends at the evaluation and reaches back this far. */
  timeframeMs?: number;
}

export const NO_SEQUENCE: RemediationSequence = { tasks: [] };

export interface BranchPathHistory {
  head: string;
  base?: string;
  /** False when `since` is no longer on the branch within reach (history rewritten). */
  found: boolean;
  changes: {
    sha: string;
    /** Its first parent (absent for a root commit). */
    parent?: string;
    author: string;
    rebound?: { uid: string; attempt: number; reasserts?: string };
  }[];
}

export type CommitOutcome =
  | { kind: 'committed'; sha: string }
  /** Our own commit for this problem and attempt is already on the branch (found by its trailers). */
  | { kind: 'already-committed'; sha: string }
  /** The branch head already holds the wanted value; nothing was committed. */
  | { kind: 'no-change'; sha: string; reason: string };

export interface CommitRequest {
  branch: string;
  path: string;
  /** The problem and the attempt number: uid + attempt is the idempotency key. */
  problem: { namespace: string; name: string; uid: string; created?: Date };
  attempt: number;
  /** `scale +1`, for the Rebound-Action trailer. */
  actionLabel: string;
  /** Audit trailers: who approved it, which deny window it broke, which person's commit it answers (a
   * hold), which commits a revert sets back. */
  notes?: { approvedBy?: string; breakGlass?: string; reasserts?: string; reverts?: readonly string[] };
  /** Re-run on the newest head after a rejected push. */
  edit: (text: string) => EditOutcome;
  /** Commit subject for an edit's summary. */
  subject: (summary: string) => string;
}

export interface StageRepository {
  commitAction(request: CommitRequest, signal?: AbortSignal): Promise<CommitOutcome>;
  /**
   * The same commit, made on `request.branch`'s head but pushed to `proposalBranch` (created by the
   * push; `request.branch` is not changed): merge-mode approvals. A retry finds its earlier commit.
   */
  proposeAction?(request: CommitRequest, proposalBranch: string, signal?: AbortSignal): Promise<CommitOutcome>;
  /**
   * Is `descendant` the commit `ancestor` or a later commit of `branch` whose history holds it?
   * `committed`: when `ancestor` was made, how far back a shallow history must reach.
   */
  contains(branch: string, ancestor: string, descendant: string, committed?: Date): Promise<boolean>;
  /**
   * Holds: the branch's head (fetched) and the commits after `since` that changed `path`, newest
   * first, with their authors and Rebound trailers; `base` is `since`'s parent.
   */
  pathHistory?(branch: string, since: string, path: string): Promise<BranchPathHistory>;
  /** A file's text at a commit, or undefined when it does not exist there. */
  readFileAt(commit: string, path: string): Promise<string | undefined>;
  /** A file at the branch's head as the remote has it now (what an approver is shown), or undefined. */
  readFileAtHead(branch: string, path: string): Promise<{ commit: string; text: string } | undefined>;
  /**
   * A file at the newest head this replica knows for the branch (its own pushes, the branch watch's
   * fetches), without asking the server; undefined when the path does not exist there.
   */
  readFileAtKnownHead?(branch: string, path: string): Promise<{ commit: string; text: string } | undefined>;
  /**
   * The commits after `since` down from `tip` that changed `path`, newest first, with their authors:
   * who changed a key after Rebound wrote it. Optional: without it a conflict names no commit.
   */
  fileHistory?(
    tip: string,
    since: string,
    path: string,
  ): Promise<{ sha: string; parent: string; author: string; subject: string }[]>;
  /** Writes the files under each path (a file or a folder) at `commit` into `dir`, keeping their paths. */
  materialize(commit: string, paths: readonly string[], dir: string): Promise<void>;
}
