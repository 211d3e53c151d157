// An applier makes the cluster match what was just pushed to the stage branch.
// `helm` upgrades the service's release, `kubernetes` patches the live objects directly, and `none`
// leaves it to a GitOps agent (Argo CD, Flux) that syncs the branch.

export const APPLIERS = ['helm', 'kubernetes', 'none'] as const;
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
}

export interface ApplyResult {
  applier: ApplierName;
  /** Helm's release revision after the upgrade. */
  helmRevision?: number;
  /** One readable line for events and status. */
  detail: string;
}

export interface Applier {
  readonly name: ApplierName;
  apply(request: ApplyRequest, signal?: AbortSignal): Promise<ApplyResult>;
}
