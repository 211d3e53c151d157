// What the ProblemEvent reconciler needs from the world, as narrow interfaces. main.ts wires the real
// implementations (informer caches, the Git store, the actions, the Prometheus evaluator); the reconciler
// itself knows none of them.
import type {
  ApplyMode,
  Approval,
  EvaluationResult,
  IndicatorResult,
  PolicySource,
  StageGitOps,
  ProblemEvent,
  ProblemEventStatus,
  Project,
  Remediation,
  RemediationAction,
  RemediationLimits,
} from '../../api/index.ts';
import type { BackgroundActions } from '../../actions/runner.ts';
import type { ActionRegistry } from '../../actions/types.ts';
import type { SyncCheck } from '../../apply/types.ts';
import type { TaskDispatcher } from '../../actions/keptn-task.ts';
import type { RemediationSequence } from './sequence.ts';
import type { TurnClaims } from './service-turn.ts';

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

export interface ProblemCache {
  get(key: string): ProblemEvent | undefined;
  /** Every ProblemEvent for the same project/stage/service in the problem's namespace. */
  siblings(problem: ProblemEvent): ProblemEvent[];
  /** Every ProblemEvent of the problem's Project (its namespace): the Project's budgets count them. */
  inProject(problem: ProblemEvent): ProblemEvent[];
}

export interface ProblemWriter {
  /** Merge-patch of the status subresource; returns the stored object. */
  patchStatus(problem: ProblemEvent, status: ProblemEventStatus): Promise<ProblemEvent>;
  /** A Kubernetes Event on the ProblemEvent (what `kubectl describe` shows). */
  recordEvent(problem: ProblemEvent, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export interface ProjectLookup {
  getProject(namespace: string, name: string): Project | undefined;
  /** The stage from the Project's spec.stages, or from the repository's shipyard.yaml. */
  resolveStage(project: Project, stage: string): Promise<ResolvedStage | undefined>;
  /** The Remediation resource for this service, when there is one (it wins over remediation.yaml). */
  findRemediation(namespace: string, project: string, stage: string, service: string): Remediation | undefined;
}

export type PolicyResolution =
  | {
      ok: true;
      source: PolicySource;
      actions: RemediationAction[];
      /** Where the action edits: `<service>/values.yaml` unless the Remediation says otherwise. */
      valuesFile: string;
      replicasPath?: readonly string[];
      flagsPath?: readonly string[];
      limits?: RemediationLimits;
      /** Go duration before the evaluation (default 2m, Keptn's loop). */
      wait: string;
      /** Diagnostics of a broken newer policy while the last good one stays in force. */
      warning?: string;
    }
  | { ok: false; reason: 'NoPolicy' | 'NoMatchingEntry' | 'PolicyInvalid'; message: string };

export interface PolicyLookup {
  resolve(args: { problem: ProblemEvent; project: Project; stage: ResolvedStage; remediation: Remediation | undefined }): Promise<PolicyResolution>;
  /** The wait before an evaluation (Go duration): the Remediation's, else the controller's default. No I/O. */
  evaluationWait(remediation: Remediation | undefined): string;
}

export type EditOutcome = { text: string; summary: string } | { unchanged: string };

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
  /** Audit trailers: who approved it, which deny window it broke. */
  notes?: { approvedBy?: string; breakGlass?: string };
  /** Re-run on the newest head after a rejected push. */
  edit: (text: string) => EditOutcome;
  /** Commit subject for an edit's summary. */
  subject: (summary: string) => string;
}

export interface StageRepository {
  commitAction(request: CommitRequest, signal?: AbortSignal): Promise<CommitOutcome>;
  /**
   * Is `descendant` the commit `ancestor` or a later commit of `branch` whose history holds it?
   * `committed`: when `ancestor` was made, how far back a shallow history must reach.
   */
  contains(branch: string, ancestor: string, descendant: string, committed?: Date): Promise<boolean>;
  /** A file's text at a commit, or undefined when it does not exist there. */
  readFileAt(commit: string, path: string): Promise<string | undefined>;
  /** A file at the branch's head as the remote has it now (what an approver is shown), or undefined. */
  readFileAtHead(branch: string, path: string): Promise<{ commit: string; text: string } | undefined>;
  /** Writes the files under each path (a file or a folder) at `commit` into `dir`, keeping their paths. */
  materialize(commit: string, paths: readonly string[], dir: string): Promise<void>;
}

export interface RepositoryProvider {
  forProject(project: Project): Promise<StageRepository>;
}

export interface EvaluationOutcome {
  result: EvaluationResult;
  score: number;
  indicatorResults: IndicatorResult[];
  message: string;
}

export interface Evaluator {
  /**
   * Evaluates the service's SLOs over the window. Throws a retryable ReboundError when the metrics
   * source is unreachable (never a failed attempt), a non-retryable one when the SLO files are unusable.
   */
  evaluate(args: {
    problem: ProblemEvent;
    project: Project;
    stage: ResolvedStage;
    repository: StageRepository;
    /** The attempt's commit, when its action made one. */
    commit?: string;
    window: { start: Date; end: Date };
    signal?: AbortSignal;
  }): Promise<EvaluationOutcome>;
}

export interface LoopMetrics {
  /** An attempt's outcome: its evaluation's verdict, or the step it failed at. */
  attempt(action: string, result: EvaluationResult | 'commit_failed' | 'apply_failed' | 'action_failed'): void;
  /** How long the step's parts took: reading the policy from the branch (`fetch`), committing and pushing (`push`). */
  gitOperation?(operation: 'fetch' | 'push', result: 'success' | 'error', seconds: number): void;
  /** One SLO evaluation: its verdict, or `error` when there was none (metrics source down, bad SLO). */
  evaluation?(result: EvaluationResult | 'error', seconds: number): void;
  /** What an approval request came to. */
  approval?(outcome: 'approved' | 'rejected' | 'timed_out'): void;
  /** A Project rule held a new attempt back (reason: DenyWindow, CircuitOpen, ...). */
  held?(reason: string): void;
}

export interface LoopSettings {
  /**
   * While another problem holds the service's turn, look again after this long: only a safety net,
   * a waiting problem is woken when the turn frees.
   */
  turnPollMs: number;
  /** Metrics source unreachable: evaluate again after this long. */
  evaluationRetryMs: number;
  /** Only a person can fix this (bad policy, chart error): look again after this long anyway. */
  stalledRecheckMs: number;
  /** apply: flux: how often to ask the engine whether it reported the attempt's commit. */
  syncPollMs: number;
}

export interface ApprovalReader {
  /** The Approvals for one attempt of a problem (from the informer cache). */
  forAttempt(namespace: string, problem: string, attempt: number): Approval[];
}

export interface ProblemLoopPorts {
  clock: () => Date;
  cache: ProblemCache;
  writer: ProblemWriter;
  /** One remediation at a time per service, claimed on the API server. */
  turns: TurnClaims;
  projects: ProjectLookup;
  policies: PolicyLookup;
  repositories: RepositoryProvider;
  /** Which implementation carries out each action type (values edits, webhooks, executors). */
  actions: ActionRegistry;
  /** Actions that run off the worker, by action id (sequence tasks too, by task id). */
  background: BackgroundActions;
  /** Where the sequence's tasks after the action go (the executor sink); absent without --action-sink. */
  tasks?: TaskDispatcher;
  evaluator: Evaluator;
  /** What the GitOps engine reports about a commit it was asked to sync (apply: flux). */
  sync: SyncCheck;
  approvals: ApprovalReader;
  metrics?: LoopMetrics;
  settings: LoopSettings;
}
