// TypeScript types of the rebound.dev resources, derived from the schemas in schemas.ts.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { API_VERSION, KINDS } from './constants.ts';
import type { FromSchema } from './from-schema.ts';
import type {
  approvalSchema,
  approvalSettingsSchema,
  approverSchema,
  attemptApprovalSchema,
  attemptSchema,
  conditionSchema,
  executionSchema,
  featureFlagsSchema,
  indicatorResultSchema,
  notificationSchema,
  policySourceSchema,
  problemEventSchema,
  projectSchema,
  remediationActionSchema,
  remediationEntrySchema,
  remediationSchema,
  stageGitOpsSchema,
  syncSchema,
  rolloutSchema,
  sequenceTaskSchema,
  revertSchema,
  revertConflictSchema,
  valueEditSchema,
} from './schemas.ts';

type Props<S> = S extends { properties: infer P } ? P : never;
type SpecOf<S> = FromSchema<Props<S> extends { spec: infer X } ? X : never>;
type StatusOf<S> = FromSchema<Props<S> extends { status: infer X } ? X : never>;

export type Condition = FromSchema<typeof conditionSchema>;

export type ProjectSpec = SpecOf<typeof projectSchema>;
export type ProjectStatus = StatusOf<typeof projectSchema>;
export type ProjectStage = NonNullable<ProjectSpec['stages']>[number];
export type GitSpec = ProjectSpec['git'];

export type RemediationSpec = SpecOf<typeof remediationSchema>;
export type RemediationStatus = StatusOf<typeof remediationSchema>;
export type RemediationAction = FromSchema<typeof remediationActionSchema>;
export type RemediationEntry = FromSchema<typeof remediationEntrySchema>;
export type RemediationLimits = NonNullable<RemediationSpec['limits']>;

export type ProblemEventSpec = SpecOf<typeof problemEventSchema>;
export type ProblemEventStatus = StatusOf<typeof problemEventSchema>;
export type Attempt = FromSchema<typeof attemptSchema>;
export type IndicatorResult = FromSchema<typeof indicatorResultSchema>;
export type PolicySource = FromSchema<typeof policySourceSchema>;
export type ActionExecution = FromSchema<typeof executionSchema>;
export type AttemptSync = FromSchema<typeof syncSchema>;
export type AttemptRollout = FromSchema<typeof rolloutSchema>;
export type StageGitOps = FromSchema<typeof stageGitOpsSchema>;
export type SequenceTaskRun = FromSchema<typeof sequenceTaskSchema>;
export type Revert = FromSchema<typeof revertSchema>;
export type RevertConflict = FromSchema<typeof revertConflictSchema>;
export type ValueEdit = FromSchema<typeof valueEditSchema>;
export type ProjectStageStatus = NonNullable<ProjectStatus['stages']>[number];
export type RemediationTaskSpec = NonNullable<ProjectStageStatus['remediationTasks']>[number];
export type FeatureFlagsSpec = FromSchema<typeof featureFlagsSchema>;
export type ApprovalSettings = FromSchema<typeof approvalSettingsSchema>;
export type DenyWindow = NonNullable<ProjectSpec['windows']>[number];
export type ProjectBudgets = NonNullable<ProjectSpec['budgets']>;
export type CircuitBreaker = NonNullable<ProjectSpec['circuitBreaker']>;
export type AttemptApproval = FromSchema<typeof attemptApprovalSchema>;
export type Approver = FromSchema<typeof approverSchema>;
export type ForgeSpec = NonNullable<ProjectSpec['forge']>;
export type Proposal = NonNullable<AttemptApproval['proposal']>;
export type ApprovalSpec = SpecOf<typeof approvalSchema>;
export type WebhookSpec = NonNullable<RemediationSpec['webhook']>;
export type WebhookEndpoint = NonNullable<WebhookSpec['endpoints']>[number];

interface Resource<K extends string, Spec, Status> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: V1ObjectMeta;
  spec: Spec;
  status?: Status;
}

export type Project = Resource<typeof KINDS.Project, ProjectSpec, ProjectStatus>;
export type Remediation = Resource<typeof KINDS.Remediation, RemediationSpec, RemediationStatus>;
export type ProblemEvent = Resource<typeof KINDS.ProblemEvent, ProblemEventSpec, ProblemEventStatus>;
export type Approval = Resource<typeof KINDS.Approval, ApprovalSpec, never>;
export type NotificationSpec = SpecOf<typeof notificationSchema>;
export type NotificationStatus = StatusOf<typeof notificationSchema>;
export type NotificationSinkSpec = NotificationSpec['sink'];
export type NotificationDelivery = NonNullable<NotificationStatus['deliveries']>[number];
export type Notification = Resource<typeof KINDS.Notification, NotificationSpec, NotificationStatus>;
