// Every Rebound metric, defined in one place. Names carry the `rebound_` prefix and unit suffixes;
// labels are bounded vocabularies (never object names: a problem title or service name as a label
// would grow the series without limit). Series with known label values are pre-initialised to 0 so
// dashboards and alerts see zero instead of "no data".
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ACTIONS, EVALUATION_RESULTS, PHASES, WEBHOOK_ACTION, type Phase } from '../api/index.ts';
import type { ControllerMetrics, ReconcileOutcome } from '../runtime/controller.ts';
import type { QueueMetrics } from '../runtime/workqueue.ts';

export const METRIC_PREFIX = 'rebound_';

export const CONTROLLER_NAMES = ['project', 'remediation', 'problemevent', 'notification'] as const;
export const RECONCILE_OUTCOMES: readonly ReconcileOutcome[] = ['success', 'requeue_after', 'error', 'terminal_error'];
/** What became of an attempt: its evaluation's verdict, or the step that failed before one. */
export const ATTEMPT_RESULTS = [
  'pass',
  'warning',
  'fail',
  'commit_failed',
  'apply_failed',
  'action_failed',
  'aborted',
] as const;
export type AttemptResult = (typeof ATTEMPT_RESULTS)[number];
/** `error`: no verdict (Prometheus unreachable, no data); retried, never counted as a failed attempt. */
export const EVALUATION_OUTCOMES = [...EVALUATION_RESULTS, 'error'] as const;
export type EvaluationOutcome = (typeof EVALUATION_OUTCOMES)[number];
export type ApprovalOutcome = 'approved' | 'rejected' | 'timed_out';
export const ACTION_LABELS = [...Object.values(ACTIONS), WEBHOOK_ACTION, 'other'] as const;
export type ActionLabel = (typeof ACTION_LABELS)[number];
export const GIT_OPERATIONS = ['clone', 'fetch', 'commit', 'push'] as const;
export type GitOperation = (typeof GIT_OPERATIONS)[number];
export const HELM_OPERATIONS = ['upgrade', 'status', 'rollback'] as const;
export type HelmOperation = (typeof HELM_OPERATIONS)[number];
export const OPERATION_RESULTS = ['success', 'error'] as const;
export const TRACE_SPAN_RESULTS = ['exported', 'dropped'] as const;
export type TraceSpanResult = (typeof TRACE_SPAN_RESULTS)[number];
export type OperationResult = (typeof OPERATION_RESULTS)[number];

/** Maps a policy's action name onto the bounded label set (users may write anything there). */
export function actionLabel(action: string): ActionLabel {
  return (ACTION_LABELS as readonly string[]).includes(action) ? (action as ActionLabel) : 'other';
}

// Buckets in seconds: reconciles and Git operations are sub-second to tens of seconds; Helm and
// evaluations can take minutes.
const FAST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const SLOW_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop lag, ...); on by default. */
  processMetrics?: boolean;
  /** Work queue names to pre-initialise; the controller names by default. */
  queues?: readonly string[];
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Anything with an optional `status.phase`: a ProblemEvent. */
/** One Notification's queue as the metrics see it. */
export interface NotificationSinkState {
  type: string;
  pending: number;
  failing: boolean;
}

export interface PhaseHolder {
  status?: { phase?: string | undefined } | undefined;
}

export function countPhases(problems: Iterable<PhaseHolder>): Record<Phase, number> {
  const counts = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  for (const problem of problems) {
    const phase = problem.status?.phase ?? 'Pending';
    if ((PHASES as readonly string[]).includes(phase)) counts[phase as Phase]++;
  }
  return counts;
}

/** A fresh registry with every Rebound metric; one per process (tests make their own). */
export function createMetrics(options: MetricsOptions = {}) {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });

  // Counted on scrape from the informer cache (no bookkeeping per event that could drift).
  let problemSource: (() => Iterable<PhaseHolder>) | undefined;
  const problems = new Gauge({
    name: 'rebound_problems',
    help: 'ProblemEvents in the informer cache, by phase (no status yet counts as Pending).',
    labelNames: ['phase'] as const,
    registers,
    collect() {
      if (!problemSource) return;
      const counts = countPhases(problemSource());
      for (const phase of PHASES) this.set({ phase }, counts[phase]);
    },
  });
  const attempts = new Counter({
    name: 'rebound_remediation_attempts_total',
    help: 'Remediation attempts by action and result.',
    labelNames: ['action', 'result'] as const,
    registers,
  });
  const evaluations = new Counter({
    name: 'rebound_evaluations_total',
    help: 'SLO evaluations by result (error: no verdict, retried).',
    labelNames: ['result'] as const,
    registers,
  });
  const approvals = new Counter({
    name: 'rebound_approvals_total',
    help: 'Approval requests by what they came to (approved, rejected, timed_out).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const forgeStatuses = new Counter({
    name: 'rebound_forge_statuses_total',
    help: 'Commit status deliveries to a forge by outcome (delivered, retried, failed, dropped).',
    labelNames: ['result'] as const,
    registers,
  });
  const holds = new Counter({
    name: 'rebound_holds_total',
    help: 'New attempts held back by a Project rule, by condition reason (DenyWindow, CircuitOpen, ...).',
    labelNames: ['reason'] as const,
    registers,
  });
  const reverts = new Counter({
    name: 'rebound_reverts_total',
    help: 'Undos after resolve (revertAfter) by how they ended (Reverted, RevertFailed, RevertConflict, RevertCancelled).',
    labelNames: ['reason'] as const,
    registers,
  });
  const holdBreaks = new Counter({
    name: 'rebound_hold_breaks_total',
    help: 'Pushes that set back a value Rebound wrote while its problem was open, by what followed (HoldWarned, HoldReasserted, ReassertLimitReached).',
    labelNames: ['reason'] as const,
    registers,
  });
  const evaluationDuration = new Histogram({
    name: 'rebound_evaluation_duration_seconds',
    help: 'Time to evaluate the SLOs of one attempt (queries included).',
    labelNames: ['result'] as const,
    buckets: SLOW_BUCKETS,
    registers,
  });
  const rolloutDuration = new Histogram({
    name: 'rebound_rollout_duration_seconds',
    help: 'From an attempt applied until its rollout finished (complete), failed, or timed out.',
    labelNames: ['result'] as const,
    buckets: SLOW_BUCKETS,
    registers,
  });
  const gitDuration = new Histogram({
    name: 'rebound_git_operation_duration_seconds',
    help: 'Duration of Git operations by operation and result.',
    labelNames: ['operation', 'result'] as const,
    buckets: FAST_BUCKETS,
    registers,
  });
  const gitPushRetries = new Counter({
    name: 'rebound_git_push_retries_total',
    help: 'Pushes retried after the remote rejected them (fetched, re-applied, pushed again).',
    registers,
  });
  const traceSpans = new Counter({
    name: 'rebound_trace_spans_total',
    help: 'Spans of problem traces sent over OTLP (exported) or given up on (dropped: queue full, backend failing).',
    labelNames: ['result'] as const,
    registers,
  });
  for (const result of TRACE_SPAN_RESULTS) traceSpans.inc({ result }, 0);
  const helmDuration = new Histogram({
    name: 'rebound_helm_duration_seconds',
    help: 'Duration of helm CLI runs by operation and result.',
    labelNames: ['operation', 'result'] as const,
    buckets: SLOW_BUCKETS,
    registers,
  });
  const notifications = new Counter({
    name: 'rebound_notifications_total',
    help: 'Notification deliveries by sink type and result (error: retried with backoff).',
    labelNames: ['sink', 'result'] as const,
    registers,
  });
  const notificationsDropped = new Counter({
    name: 'rebound_notifications_dropped_total',
    help: 'Problems a full notification queue could not take (taken again at the next change or resync).',
    labelNames: ['sink'] as const,
    registers,
  });
  const kubeEvents = new Counter({
    name: 'rebound_kube_events_total',
    help: 'Kubernetes Events by result (dropped: the event queue was full during a storm).',
    labelNames: ['result'] as const,
    registers,
  });
  let notificationSource: (() => Iterable<NotificationSinkState>) | undefined;
  new Gauge({
    name: 'rebound_notification_queue_depth',
    help: 'Problems with steps waiting to be delivered, by sink type.',
    labelNames: ['sink'] as const,
    registers,
    collect() {
      if (!notificationSource) return;
      this.reset();
      for (const s of notificationSource()) this.inc({ sink: s.type }, s.pending);
    },
  });
  new Gauge({
    name: 'rebound_notification_sinks_failing',
    help: 'Notifications whose last delivery failed, by sink type.',
    labelNames: ['sink'] as const,
    registers,
    collect() {
      if (!notificationSource) return;
      this.reset();
      for (const s of notificationSource()) this.inc({ sink: s.type }, s.failing ? 1 : 0);
    },
  });
  let backgroundSource: (() => number) | undefined;
  new Gauge({
    name: 'rebound_actions_running',
    help: 'Actions running off the workers (webhook calls, executor deliveries) in this replica.',
    registers,
    collect() {
      this.set(backgroundSource?.() ?? 0);
    },
  });
  const queueDepth = new Gauge({
    name: 'rebound_workqueue_depth',
    help: 'Keys waiting for a worker.',
    labelNames: ['name'] as const,
    registers,
  });
  const queueAdds = new Counter({
    name: 'rebound_workqueue_adds_total',
    help: 'Keys added to the work queue (duplicates of a waiting key not counted).',
    labelNames: ['name'] as const,
    registers,
  });
  const queueLatency = new Histogram({
    name: 'rebound_workqueue_queue_duration_seconds',
    help: 'Time a key waits in the work queue before a worker takes it.',
    labelNames: ['name'] as const,
    buckets: FAST_BUCKETS,
    registers,
  });
  const queueWork = new Histogram({
    name: 'rebound_workqueue_work_duration_seconds',
    help: 'Time a worker holds a key.',
    labelNames: ['name'] as const,
    buckets: SLOW_BUCKETS,
    registers,
  });
  const queueRetries = new Counter({
    name: 'rebound_workqueue_retries_total',
    help: 'Keys re-added with backoff after an error.',
    labelNames: ['name'] as const,
    registers,
  });
  const reconciles = new Counter({
    name: 'rebound_reconcile_total',
    help: 'Reconciles by controller and outcome.',
    labelNames: ['controller', 'result'] as const,
    registers,
  });
  const reconcileErrors = new Counter({
    name: 'rebound_reconcile_errors_total',
    help: 'Failed reconciles by controller and classified reason.',
    labelNames: ['controller', 'reason'] as const,
    registers,
  });
  const reconcileDuration = new Histogram({
    name: 'rebound_reconcile_duration_seconds',
    help: 'Duration of one reconcile by controller.',
    labelNames: ['controller'] as const,
    buckets: FAST_BUCKETS,
    registers,
  });
  const activeWorkers = new Gauge({
    name: 'rebound_active_workers',
    help: 'Workers currently reconciling, by controller.',
    labelNames: ['controller'] as const,
    registers,
  });
  const informerSynced = new Gauge({
    name: 'rebound_informer_synced',
    help: '1 once the informer for a resource has listed it, 0 before.',
    labelNames: ['resource'] as const,
    registers,
  });
  const informerRestarts = new Counter({
    name: 'rebound_informer_restarts_total',
    help: 'List/watch restarts after an error, by resource.',
    labelNames: ['resource'] as const,
    registers,
  });
  const leader = new Gauge({
    name: 'rebound_leader',
    help: '1 while this replica holds the leader Lease.',
    registers,
  });

  for (const phase of PHASES) problems.set({ phase }, 0);
  for (const action of ACTION_LABELS) for (const result of ATTEMPT_RESULTS) attempts.inc({ action, result }, 0);
  for (const result of EVALUATION_OUTCOMES) {
    evaluations.inc({ result }, 0);
    evaluationDuration.zero({ result });
  }
  for (const operation of GIT_OPERATIONS)
    for (const result of OPERATION_RESULTS) gitDuration.zero({ operation, result });
  for (const operation of HELM_OPERATIONS)
    for (const result of OPERATION_RESULTS) helmDuration.zero({ operation, result });
  gitPushRetries.inc(0);
  for (const name of options.queues ?? CONTROLLER_NAMES) {
    queueDepth.set({ name }, 0);
    queueAdds.inc({ name }, 0);
    queueRetries.inc({ name }, 0);
    queueLatency.zero({ name });
    queueWork.zero({ name });
  }
  for (const controller of CONTROLLER_NAMES) {
    for (const result of RECONCILE_OUTCOMES) reconciles.inc({ controller, result }, 0);
    reconcileDuration.zero({ controller });
    activeWorkers.set({ controller }, 0);
  }
  leader.set(0);

  return {
    registry,
    /** Counts problems by phase from `source` (the ProblemEvent informer's list) on every scrape. */
    /** Reads the number of running background actions on every scrape. */
    observeBackgroundActions(source: () => number): void {
      backgroundSource = source;
    },
    observeProblems(source: () => Iterable<PhaseHolder>): void {
      problemSource = source;
    },
    attempt(action: string, result: AttemptResult): void {
      attempts.inc({ action: actionLabel(action), result });
    },
    approval(outcome: ApprovalOutcome): void {
      approvals.inc({ outcome });
    },
    /** One try at delivering a commit status: delivered, retried, failed (given up), dropped (queue full). */
    forgeStatus(result: 'delivered' | 'retried' | 'failed' | 'dropped'): void {
      forgeStatuses.inc({ result });
    },
    /** `sink` is a Notification's sink type: a fixed vocabulary. */
    notification(sink: string, result: OperationResult): void {
      notifications.inc({ sink, result });
    },
    notificationDropped(sink: string): void {
      notificationsDropped.inc({ sink });
    },
    kubeEvent(result: 'recorded' | 'failed' | 'dropped'): void {
      kubeEvents.inc({ result });
    },
    /** Queue depth and failing sinks, read on scrape. */
    observeNotifications(source: () => Iterable<NotificationSinkState>): void {
      notificationSource = source;
    },
    /** `reason` is a condition reason: a fixed vocabulary, so the label stays bounded. */
    held(reason: string): void {
      holds.inc({ reason });
    },
    /** `reason` is a condition reason: a fixed vocabulary. */
    revert(reason: string): void {
      reverts.inc({ reason });
    },
    /** `reason` is a condition reason: a fixed vocabulary. */
    holdBroken(reason: string): void {
      holdBreaks.inc({ reason });
    },
    rollout(result: 'complete' | 'failed' | 'timed_out', seconds: number): void {
      rolloutDuration.observe({ result }, seconds);
    },
    evaluation(result: EvaluationOutcome, seconds: number): void {
      evaluations.inc({ result });
      evaluationDuration.observe({ result }, seconds);
    },
    gitOperation(operation: GitOperation, result: OperationResult, seconds: number): void {
      gitDuration.observe({ operation, result }, seconds);
    },
    gitPushRetry(): void {
      gitPushRetries.inc();
    },
    traceSpans(result: TraceSpanResult, count: number): void {
      traceSpans.inc({ result }, count);
    },
    helmOperation(operation: HelmOperation, result: OperationResult, seconds: number): void {
      helmDuration.observe({ operation, result }, seconds);
    },
    informerSynced(resource: string, synced: boolean): void {
      informerSynced.set({ resource }, synced ? 1 : 0);
    },
    informerRestarted(resource: string): void {
      informerRestarts.inc({ resource });
    },
    setLeader(isLeader: boolean): void {
      leader.set(isLeader ? 1 : 0);
    },
    /** Hooks for one work queue. */
    queue(name: string): QueueMetrics {
      return {
        depth: (n) => queueDepth.set({ name }, n),
        added: () => queueAdds.inc({ name }),
        queued: (seconds) => queueLatency.observe({ name }, seconds),
        worked: (seconds) => queueWork.observe({ name }, seconds),
        retried: () => queueRetries.inc({ name }),
      };
    },
    controller: {
      reconciled(controller, outcome, seconds) {
        reconciles.inc({ controller, result: outcome });
        reconcileDuration.observe({ controller }, seconds);
      },
      reconcileError(controller, reason) {
        reconcileErrors.inc({ controller, reason });
      },
      activeWorkers(controller, n) {
        activeWorkers.set({ controller }, n);
      },
    } satisfies ControllerMetrics,
  };
}
