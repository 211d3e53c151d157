// The fixed vocabulary of the rebound.dev API: names, phases, condition types and reasons, labels,
// annotations. Every other module imports these instead of spelling strings.

export const GROUP = 'rebound.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

export const KINDS = {
  Project: 'Project',
  Remediation: 'Remediation',
  ProblemEvent: 'ProblemEvent',
  Approval: 'Approval',
  Notification: 'Notification',
} as const;
export type Kind = (typeof KINDS)[keyof typeof KINDS];

/** Lower-case plural resource names, as used in REST paths (`/apis/rebound.dev/v1alpha1/namespaces/x/<plural>`). */
export const PLURALS = {
  Project: 'projects',
  Remediation: 'remediations',
  ProblemEvent: 'problemevents',
  Approval: 'approvals',
  Notification: 'notifications',
} as const satisfies Record<Kind, string>;

/**
 * ProblemEvent life cycle: Pending → (AwaitingApproval →) Remediating → Evaluating → Resolved |
 * Exhausted | Unhandled. AwaitingApproval: an attempt's action and diff wait for a person's Approval.
 * With a policy's `revertAfter`: Evaluating → Reverting (resolved, the undo waits, then is committed,
 * applied and evaluated) → Reverted, or Resolved when the undo failed and the remediation was restored.
 */
export const PHASES = [
  'Pending',
  'AwaitingApproval',
  'Remediating',
  'Evaluating',
  'Reverting',
  'Resolved',
  'Reverted',
  'Exhausted',
  'Unhandled',
] as const;
export type Phase = (typeof PHASES)[number];
/** Phases after which the controller does nothing more for a ProblemEvent. */
export const TERMINAL_PHASES: readonly Phase[] = ['Resolved', 'Reverted', 'Exhausted', 'Unhandled'];

export const PROBLEM_STATES = ['OPEN', 'RESOLVED'] as const;
export type ProblemState = (typeof PROBLEM_STATES)[number];

export const REMEDIATION_MODES = ['automated', 'manual', 'disabled'] as const;
export type RemediationMode = (typeof REMEDIATION_MODES)[number];

/**
 * How a stage's commit goes live: `helm` and `kubernetes` apply it themselves, `flux` asks Flux to
 * reconcile the branch and waits until it reports the commit, `argocd` the same with Argo CD's
 * Applications (refresh, then synced and Healthy), `none` leaves it to an agent unwatched.
 */
export const APPLY_MODES = ['helm', 'kubernetes', 'flux', 'argocd', 'none'] as const;
export type ApplyMode = (typeof APPLY_MODES)[number];

/** The GitOps engines Rebound can ask to sync a stage branch and wait for. */
export const GITOPS_ENGINES = ['flux', 'argocd'] as const;
export type GitOpsEngine = (typeof GITOPS_ENGINES)[number];
/** Each engine as people call it, for messages. */
export const GITOPS_ENGINE_NAMES: Record<GitOpsEngine, string> = { flux: 'Flux', argocd: 'Argo CD' };

export const EVALUATION_RESULTS = ['pass', 'warning', 'fail'] as const;
export type EvaluationResult = (typeof EVALUATION_RESULTS)[number];

/**
 * An action that runs outside Git: `Running` (being called), `Waiting` (for a callback until its
 * deadline), then `Succeeded` or `Failed`.
 */
export const ACTION_STATES = ['Running', 'Waiting', 'Succeeded', 'Failed'] as const;
export type ActionState = (typeof ACTION_STATES)[number];
/** What a runbook's callback (or a Keptn executor's `.finished`) reports. */
/** A shipyard task's name: it becomes part of an event type (`sh.keptn.event.<name>.triggered`) and of a task id. */
export const TASK_NAME_PATTERN = '^[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?$';

export const CALLBACK_STATUSES = ['succeeded', 'failed'] as const;
export type CallbackStatus = (typeof CALLBACK_STATUSES)[number];

/** What a person says in an Approval. */
export const APPROVAL_DECISIONS = ['Approve', 'Reject'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];
/** An attempt's approval: asked for (`Pending`), then `Approved`, `Rejected` or `TimedOut`. */
export const APPROVAL_STATES = ['Pending', 'Approved', 'Rejected', 'TimedOut'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];
/** What an unanswered approval comes to: the problem ends (`Unhandled`) or the next action is tried (`Escalate`). */
export const APPROVAL_TIMEOUT_ACTIONS = ['Unhandled', 'Escalate'] as const;
/** A policy action's `approval`: `required` makes it wait for a person whatever the stage says. */
export const ACTION_APPROVAL = ['required'] as const;
/**
 * How people answer an approval request: `approvals` (Approval objects, `rebound approve`) or `merge`
 * (the change is pushed to a proposal branch with a pull request on the Project's forge: merging it
 * approves, closing it rejects).
 */
export const APPROVAL_MODES = ['approvals', 'merge'] as const;
export type ApprovalMode = (typeof APPROVAL_MODES)[number];
/** The forges Rebound posts commit statuses and opens pull requests on (src/forge/). */
export const FORGE_KINDS = ['gitea', 'github', 'gitlab'] as const;
/**
 * The undo of a resolved problem's changes: `Waiting` for `revertAfter`, `Committed`, `Applied` (its
 * evaluation waits), `Restoring` (it failed; the remediated values go back), then `Reverted`,
 * `Restored`, `Conflicted` (every key was changed by someone since) or `Cancelled` (a new problem).
 */
export const REVERT_STATES = [
  'Waiting',
  'Committed',
  'Applied',
  'Restoring',
  'Reverted',
  'Restored',
  'Conflicted',
  'Cancelled',
] as const;
export type RevertState = (typeof REVERT_STATES)[number];
/** A merge-mode proposal's pull request as Rebound last read it. */
export const PROPOSAL_STATES = ['Open', 'Merged', 'Closed'] as const;

/** Built-in action types besides the values edits: an HTTP call to a runbook. */
export const WEBHOOK_ACTION = 'webhook';

/**
 * The steps of a remediation a Notification can route (docs/notifications.md), in the order they
 * happen. `reverted`: the undo of a resolved problem's changes (`revertAfter`) passed, failed and was
 * restored, or could not be made (a person changed the keys since).
 */
export const NOTIFICATION_STEPS = [
  'opened',
  'awaiting-approval',
  'committed',
  'evaluated',
  'escalated',
  'resolved',
  'exhausted',
  'reverted',
] as const;
export type NotificationStep = (typeof NOTIFICATION_STEPS)[number];
/** How much a step matters, lowest first: a Notification's `minSeverity` drops what is below it. */
export const NOTIFICATION_SEVERITIES = ['info', 'warning', 'error'] as const;
export type NotificationSeverity = (typeof NOTIFICATION_SEVERITIES)[number];
/** Where a Notification delivers. */
export const SINK_TYPES = ['slack', 'teams', 'webhook', 'cloudevents'] as const;
export type SinkType = (typeof SINK_TYPES)[number];
/** CloudEvents over HTTP: attributes as `ce-` headers (`binary`) or the whole event as JSON (`structured`). */
export const CLOUDEVENTS_MODES = ['binary', 'structured'] as const;
export type CloudEventsMode = (typeof CLOUDEVENTS_MODES)[number];

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];

/**
 * Actions Rebound can carry out as a change to the stage branch. `scale` and Keptn's older `scaling`
 * both set `replicaCount`, by different rules (docs/remediation.md): `scale` takes an unsigned value
 * as the new count, `scaling` adds it (Keptn's helm-service did). `featuretoggle` takes `Flag:on`,
 * `Flag:off`, or several such pairs separated by commas.
 */
export const ACTIONS = {
  scale: 'scale',
  scaling: 'scaling',
  featuretoggle: 'featuretoggle',
} as const;
export type ActionName = (typeof ACTIONS)[keyof typeof ACTIONS];
export const SCALE_ACTIONS: readonly string[] = [ACTIONS.scale, ACTIONS.scaling];

/** `N` (absolute replicas), `+N` or `-N` (relative). */
export const SCALE_VALUE_PATTERN = '^[+-]?[0-9]{1,4}$';
/**
 * `Flag:on` or `Flag:off`, several separated by commas; a flag name is a values key segment. The
 * count (16) and each name's length (128) are checked by readToggles: RE2, which the API server's CEL
 * uses, refuses nested bounded repeats that large.
 */
export const FEATURE_TOGGLE_VALUE_PATTERN =
  '^[A-Za-z0-9_][A-Za-z0-9_.-]*:(on|off)(,[A-Za-z0-9_][A-Za-z0-9_.-]*:(on|off))*$';
/**
 * Keptn's unleash-service action: `toggle-feature` with `value: {Flag: "on"}` (Keptn's tutorials,
 * 0.7 to 0.15). Rebound reads it as `featuretoggle`, each key a flag.
 */
export const KEPTN_TOGGLE_ACTION = 'toggle-feature';

/** DNS-1123 label: project, stage and service names become namespaces, branches and paths. */
export const DNS1123_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const DNS1123_LABEL_MAX_LENGTH = 63;

export const CONDITION_TYPES = {
  /** The summary: True when the object is in its desired state (Project usable, problem resolved). */
  Ready: 'Ready',
  /** Work is in progress (a ProblemEvent between commit and evaluation). */
  Reconciling: 'Reconciling',
  /** Only a person can fix this; no retry until the spec or the repository changes. */
  Stalled: 'Stalled',
  /** Project: the repository can be fetched with the given credentials. */
  GitReachable: 'GitReachable',
  /** Project/Remediation: shipyard.yaml, remediation.yaml and SLO files parse. */
  ConfigValid: 'ConfigValid',
  /** Project: the last call to spec.forge (a commit status, a comment) was delivered. */
  ForgeReachable: 'ForgeReachable',
  /** ProblemEvent: a policy entry matched the problem. */
  PolicyResolved: 'PolicyResolved',
  /** ProblemEvent: True when a GitOps engine manages the workload a `helm`/`kubernetes` stage changed (it will undo it). */
  GitOpsConflict: 'GitOpsConflict',
  /** ProblemEvent: True when a push set a value Rebound wrote back while the problem was open (a hold). */
  HoldBroken: 'HoldBroken',
  /** ProblemEvent with `revertAfter`: how the undo of its changes went (or why a key was left). */
  Reverted: 'Reverted',
} as const;
export type ConditionType = (typeof CONDITION_TYPES)[keyof typeof CONDITION_TYPES];

/** PascalCase condition reasons. docs/resources/*.md lists where each one is used. */
export const REASONS = {
  // Generic
  Succeeded: 'Succeeded',
  Progressing: 'Progressing',
  // Project
  GitFetched: 'GitFetched',
  GitAuthFailed: 'GitAuthFailed',
  GitUnreachable: 'GitUnreachable',
  SecretNotFound: 'SecretNotFound',
  SecretInvalid: 'SecretInvalid',
  InvalidGitUrl: 'InvalidGitUrl',
  InvalidSpec: 'InvalidSpec',
  BranchNotFound: 'BranchNotFound',
  ShipyardNotFound: 'ShipyardNotFound',
  ShipyardInvalid: 'ShipyardInvalid',
  FileTooLarge: 'FileTooLarge',
  ConfigValid: 'ConfigValid',
  // Remediation
  RemediationInvalid: 'RemediationInvalid',
  ProjectNotFound: 'ProjectNotFound',
  StageNotFound: 'StageNotFound',
  // ProblemEvent
  Queued: 'Queued',
  TurnUnavailable: 'TurnUnavailable',
  PolicyFound: 'PolicyFound',
  NoPolicy: 'NoPolicy',
  NoMatchingEntry: 'NoMatchingEntry',
  PolicyInvalid: 'PolicyInvalid',
  RemediationDisabled: 'RemediationDisabled',
  UnknownAction: 'UnknownAction',
  InvalidActionValue: 'InvalidActionValue',
  ValuesFileNotFound: 'ValuesFileNotFound',
  ValuesFileInvalid: 'ValuesFileInvalid',
  LimitReached: 'LimitReached',
  CoolingDown: 'CoolingDown',
  ActionCommitted: 'ActionCommitted',
  CommitFailed: 'CommitFailed',
  PushRejected: 'PushRejected',
  ApplyFailed: 'ApplyFailed',
  // GitOps engines (apply: flux)
  WaitingForSync: 'WaitingForSync',
  SyncTargetNotFound: 'SyncTargetNotFound',
  SyncTimedOut: 'SyncTimedOut',
  SyncFailed: 'SyncFailed',
  ManagedByGitOps: 'ManagedByGitOps',
  // "Applied" means live: the workload's rollout after the apply
  WaitingForRollout: 'WaitingForRollout',
  RolloutFailed: 'RolloutFailed',
  RolloutTimedOut: 'RolloutTimedOut',
  WorkloadNotFound: 'WorkloadNotFound',
  WaitingForEvaluation: 'WaitingForEvaluation',
  EvaluationPassed: 'EvaluationPassed',
  EvaluationWarning: 'EvaluationWarning',
  EvaluationErrored: 'EvaluationErrored',
  PrometheusUnavailable: 'PrometheusUnavailable',
  WaitingForMetrics: 'WaitingForMetrics',
  SLONotFound: 'SLONotFound',
  SLOInvalid: 'SLOInvalid',
  Escalated: 'Escalated',
  ActionsExhausted: 'ActionsExhausted',
  ProblemResolved: 'ProblemResolved',
  // Actions that run outside Git (webhooks, Unleash, external executors)
  ActionInProgress: 'ActionInProgress',
  ActionFailed: 'ActionFailed',
  ActionTimedOut: 'ActionTimedOut',
  WebhookNotConfigured: 'WebhookNotConfigured',
  WebhookHostNotAllowed: 'WebhookHostNotAllowed',
  WebhookUnavailable: 'WebhookUnavailable',
  WebhookRejected: 'WebhookRejected',
  UnleashUnavailable: 'UnleashUnavailable',
  UnleashUnauthorized: 'UnleashUnauthorized',
  UnleashFeatureNotFound: 'UnleashFeatureNotFound',
  ExecutorUnavailable: 'ExecutorUnavailable',
  ExecutorRejected: 'ExecutorRejected',
  // Who decides, and when: approvals, deny windows, budgets, the circuit breaker (src/rules)
  AwaitingApproval: 'AwaitingApproval',
  ApprovalGranted: 'ApprovalGranted',
  ApprovalRejected: 'ApprovalRejected',
  ApprovalTimedOut: 'ApprovalTimedOut',
  DenyWindow: 'DenyWindow',
  WindowInvalid: 'WindowInvalid',
  InFlightLimitReached: 'InFlightLimitReached',
  ProjectLimitReached: 'ProjectLimitReached',
  CircuitOpen: 'CircuitOpen',
  // Holds: a push sets a value Rebound wrote back while the problem is open
  /** Policy `hold.mode: warn`: the push is reported, nothing is committed. */
  HoldWarned: 'HoldWarned',
  /** Policy `hold.mode: reassert`: Rebound committed its value again. */
  HoldReasserted: 'HoldReasserted',
  /** `hold.maxReasserts` re-asserts were made: Rebound stops fighting and only warns. */
  ReassertLimitReached: 'ReassertLimitReached',
  /** The values were put back by a later push: the hold holds again. */
  HoldRestored: 'HoldRestored',
  // Merge as approval: a proposal branch and its pull request on the Project's forge
  ProposalOpened: 'ProposalOpened',
  ProposalMerged: 'ProposalMerged',
  ProposalClosed: 'ProposalClosed',
  ForgeUnavailable: 'ForgeUnavailable',
  ForgeMisconfigured: 'ForgeMisconfigured',
  ForgeDelivered: 'ForgeDelivered',
  // The shipyard's remediation sequence: tasks between the action and the evaluation
  TaskInProgress: 'TaskInProgress',
  TaskFailed: 'TaskFailed',
  TaskTimedOut: 'TaskTimedOut',
  NoTaskExecutor: 'NoTaskExecutor',
  // Notification: where a sink's deliveries stand (docs/notifications.md)
  Delivering: 'Delivering',
  DeliveryFailing: 'DeliveryFailing',
  SinkHostNotAllowed: 'SinkHostNotAllowed',
  SinkMisconfigured: 'SinkMisconfigured',
  Suspended: 'Suspended',
  // Undo after resolve (`revertAfter`): the revert commit, its evaluation, a restore
  RevertScheduled: 'RevertScheduled',
  RevertCommitted: 'RevertCommitted',
  Reverted: 'Reverted',
  RevertFailed: 'RevertFailed',
  RevertConflict: 'RevertConflict',
  RevertCancelled: 'RevertCancelled',
} as const;
export type Reason = (typeof REASONS)[keyof typeof REASONS];

export const LABELS = {
  project: `${GROUP}/project`,
  stage: `${GROUP}/stage`,
  service: `${GROUP}/service`,
  /** Which way in created a ProblemEvent: `kubectl`, `alertmanager`, `cloudevent`, `dynatrace`. */
  source: `${GROUP}/source`,
  managedBy: 'app.kubernetes.io/managed-by',
  /**
   * The shard a Project belongs to; a controller started with `--watch-label-selector` sees only its
   * shard. ProblemEvents carry their Project's (ingestion copies it on creation).
   */
  shard: `${GROUP}/shard`,
  /** On the Leases that hold a service's turn (`kubectl get leases -l rebound.dev/turn`). */
  turn: `${GROUP}/turn`,
} as const;

export const ANNOTATIONS = {
  /** The source's problem id, kept verbatim (labels cannot hold arbitrary strings). */
  problemID: `${GROUP}/problem-id`,
  /** Alertmanager fingerprint of the alert that opened the problem. */
  fingerprint: `${GROUP}/fingerprint`,
  /** Set by a person to stop remediation of one ProblemEvent without deleting it. */
  suspend: `${GROUP}/suspend`,
  /** On a turn Lease: the namespace/project/stage/service it is the turn of. */
  turnOf: `${GROUP}/turn-of`,
  /**
   * On a Project, set by a person to close its circuit breaker: an RFC 3339 time; Exhausted problems
   * that finished before it no longer count.
   */
  circuitReset: `${GROUP}/circuit-reset`,
  /**
   * On a ProblemEvent, with tracing on: the W3C traceparent of its remediation's trace, written once
   * (the trace id, and the id of the problem's own span), so every step and every restart joins it.
   */
  traceparent: `${GROUP}/traceparent`,
} as const;

export const MANAGED_BY = 'rebound';
