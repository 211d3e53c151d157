// An applier makes the cluster match what was just pushed to the stage branch.
// `helm` upgrades the service's release, `kubernetes` patches the live objects directly, `flux` asks
// Flux to reconcile the branch now (the loop then waits until Flux reports the commit), and `none`
// leaves it to a GitOps agent that syncs the branch on its own.
import type { AttemptSync, GitOpsEngine, StageGitOps } from '../api/index.ts';
import { APPLY_MODES } from '../api/index.ts';
import type { WorkloadRollout } from './rollout-status.ts';

export const APPLIERS = APPLY_MODES;
export type ApplierName = (typeof APPLIERS)[number];

/** What the loop wants live after one remediation step. */
export interface ApplyRequest {
  project: string;
  stage: string;
  service: string;
  /** The stage's namespace (default `<project>-<stage>`). */
  namespace: string;
  /** The branch and commit that hold the change, for the record and for `none`. */
  branch: string;
  commit: string;
  /** Helm: a directory with the chart and the service's values file, materialised from `commit`. */
  chartDir?: string;
  valuesFile?: string;
  /** Kubernetes: the desired state read from the edited values file. */
  replicas?: number;
  featureFlags?: Readonly<Record<string, boolean>>;
  /** GitOps engines: the Project's repository, the edited file, and the stage's engine settings. */
  repoUrl?: string;
  path?: string;
  gitops?: StageGitOps;
}

export interface ApplyResult {
  applier: ApplierName;
  /** Helm's release revision after the upgrade. */
  helmRevision?: number;
  /** One readable line for events and status. */
  detail: string;
  /** A GitOps engine was asked to sync: the change is live only once it reports the commit. */
  sync?: AttemptSync;
  /** Something a person should know: the engine managing this workload will undo the change. */
  warning?: string;
  /** The apply changed workloads that roll out: the change is live once they have (not when this returns). */
  rollout?: boolean;
}

export interface Applier {
  readonly name: ApplierName;
  apply(request: ApplyRequest, signal?: AbortSignal): Promise<ApplyResult>;
}

/** What the loop asks a GitOps engine about one attempt. */
export interface SyncTarget {
  /** The engine that was asked (attempt.sync.engine). */
  engine: GitOpsEngine;
  branch: string;
  commit: string;
  /** The engine objects recorded when the sync was requested (`namespace/name`). */
  objects: readonly string[];
}

/** Where the engine is with an attempt's commit. */
export type SyncState =
  /** Every object applied the commit, or a later one that contains it, and is Ready. */
  | { kind: 'synced'; revision: string; detail: string }
  /** Not yet: the engine has not picked the commit up or is applying it. */
  | { kind: 'pending'; detail: string }
  /** The engine tried the commit (or a later one) and failed: its own message. */
  | { kind: 'failed'; detail: string }
  /** An object recorded for the attempt is gone. */
  | { kind: 'untracked'; detail: string };

/** Is `descendant` the commit `ancestor` or a later commit on the branch that contains it? */
export type ContainsCheck = (ancestor: string, descendant: string) => Promise<boolean>;

/** Reads what a GitOps engine reports for an attempt's commit. */
export interface SyncCheck {
  check(target: SyncTarget, contains: ContainsCheck, signal?: AbortSignal): Promise<SyncState>;
}

/** Whose rollout the loop waits for after an apply. */
export interface RolloutTarget {
  /** The stage's namespace. */
  namespace: string;
  /** The service: its Deployments and StatefulSets are the ones named after it or labelled/annotated with its release. */
  service: string;
  /** The workloads found at the first look (`Kind/name`): later looks follow exactly these. */
  workloads?: readonly string[];
}

export type RolloutObservation =
  /** The service has no Deployment or StatefulSet: nothing rolls out, the change is live as applied. */
  | { kind: 'none' }
  /** A workload found earlier is gone (deleted mid-rollout). */
  | { kind: 'missing'; workloads: string[]; gone: string[] }
  | { kind: 'observed'; workloads: string[]; rollout: WorkloadRollout };

/** Reads the service's workloads and says how far their rollout is. */
export interface RolloutCheck {
  observe(target: RolloutTarget, signal?: AbortSignal): Promise<RolloutObservation>;
}
