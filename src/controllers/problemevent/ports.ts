// What the ProblemEvent reconciler needs from the world, as narrow interfaces. The wiring passes the real
// implementations (informer caches, the Git store, the actions, the Prometheus evaluator); the reconciler
// itself knows none of them.
import type {
  Approval,
  EvaluationResult,
  IndicatorResult,
  PolicySource,
  ProblemEvent,
  ProblemEventStatus,
  Project,
  Remediation,
  RemediationAction,
  RemediationLimits,
} from '../../api/index.ts';
import type { ActionRegistry, BackgroundRunner } from '../../actions/types.ts';
import type { RolloutCheck, SyncCheck } from '../../apply/types.ts';
import type { TaskDispatcher } from '../../actions/keptn-task.ts';
import type { Span, Tracer } from '../../observability/tracing/tracer.ts';
import type { ResolvedStage, StageRepository } from '../../remediation/stage.ts';
import type { ForgeLookup, ProjectLookup } from '../ports.ts';
import type { TurnClaims } from './service-turn.ts';

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
  /**
   * Merge-patches annotations onto the ProblemEvent, conditional on the version read (409 Conflict
   * when it changed since); returns the stored object.
   */
  annotate(problem: ProblemEvent, annotations: Record<string, string>): Promise<ProblemEvent>;
  /** A Kubernetes Event on the ProblemEvent (what `kubectl describe` shows). */
  recordEvent(problem: ProblemEvent, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export type PolicyResolution =
  | {
      ok: true;
      source: PolicySource;
      actions: RemediationAction[];
      /** Where the action edits: `<service>/values.yaml` unless the Remediation says otherwise. */
      valuesFile: string;
      replicasPath?: readonly string[];
      /** The HorizontalPodAutoscaler's minimum in the values file (`values.minReplicasKey`). */
      minReplicasPath?: readonly string[];
      flagsPath?: readonly string[];
      limits?: RemediationLimits;
      /** Go duration before the evaluation (default 2m, Keptn's loop). */
      wait: string;
      /** Diagnostics of a broken newer policy while the last good one stays in force. */
      warning?: string;
    }
  | { ok: false; reason: 'NoPolicy' | 'NoMatchingEntry' | 'PolicyInvalid'; message: string };

export interface PolicyLookup {
  resolve(args: {
    problem: ProblemEvent;
    project: Project;
    stage: ResolvedStage;
    remediation: Remediation | undefined;
  }): Promise<PolicyResolution>;
  /** The wait before an evaluation (Go duration): the Remediation's, else the controller's default. No I/O. */
  evaluationWait(remediation: Remediation | undefined): string;
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
    /** The evaluation's span: each metrics query becomes a child of it. */
    span?: Span;
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
  /** An undo after resolve ended (reason: Reverted, RevertFailed, RevertConflict, RevertCancelled). */
  revert?(reason: string): void;
  /** A push set back what Rebound wrote (reason: HoldWarned, HoldReasserted, ReassertLimitReached). */
  holdBroken?(reason: string): void;
  /** How a rollout after an apply ended, and how long it took from the apply. */
  rollout?(result: 'complete' | 'failed' | 'timed_out', seconds: number): void;
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
  /** While a rollout runs: how often to look at the workloads again. */
  rolloutPollMs?: number;
  /** From the apply until the rollout must have finished (--rollout-timeout). */
  rolloutTimeoutMs?: number;
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
  background: BackgroundRunner;
  /** Where the sequence's tasks after the action go (the executor sink); absent without --action-sink. */
  tasks?: TaskDispatcher;
  evaluator: Evaluator;
  /** What the GitOps engine reports about a commit it was asked to sync (apply: flux). */
  sync: SyncCheck;
  /** The rollout an apply started; without it an attempt is live as soon as it is applied (--rollout-timeout=0). */
  rollouts?: RolloutCheck;
  approvals: ApprovalReader;
  /** The Project's forge: commit statuses (queued, never blocking) and merge-mode pull requests. */
  forges?: ForgeLookup;
  metrics?: LoopMetrics;
  /** Spans of each problem's trace (docs/observability.md); absent when tracing is off. */
  tracer?: Tracer;
  settings: LoopSettings;
}
