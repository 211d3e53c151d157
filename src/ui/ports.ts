// What the web UI needs from the rest of the controller, as interfaces: the composition root
// (wire.ts) hands in the informer caches and the Kubernetes calls, so the UI neither lists nor
// watches anything itself and never holds credentials of its own beyond the user's.
import type { Approval, ApprovalDecision, ProblemEvent, Project, Remediation } from '../api/index.ts';
import type { RangeOutcome } from '../evaluation/providers/prometheus-range.ts';

/** The controller's informer caches, read-only. */
export interface UiCache {
  problems(): readonly ProblemEvent[];
  problem(namespace: string, name: string): ProblemEvent | undefined;
  projects(): readonly Project[];
  remediations(): readonly Remediation[];
  /** The Approvals that answer one problem (any attempt). */
  approvals(namespace: string, problem: string): readonly Approval[];
}

export interface InformerHealth {
  name: string;
  synced: boolean;
}

/** Rebound's own state for the health page. */
export interface UiHealth {
  informers(): InformerHealth[];
  /** Whether this replica holds the leader Lease (always true without leader election). */
  leading(): boolean;
  identity: string;
}

/** Who a bearer token belongs to, as the API server says (TokenReview). */
export interface UserInfo {
  username: string;
  groups: string[];
}

export interface AccessAttributes {
  verb: 'get' | 'list' | 'watch' | 'create' | 'patch';
  group: string;
  resource: string;
  /** Empty: every namespace. */
  namespace: string;
}

export interface KubeEventRow {
  type: string;
  reason: string;
  message: string;
  count: number;
  lastTime: string;
}

/** The API server's answers, and acting as the user: every write is made with the user's own token. */
export interface UiKube {
  /** TokenReview; undefined when the API server does not accept the token. */
  authenticate(token: string): Promise<UserInfo | undefined>;
  /** SubjectAccessReview for the user (made with the controller's identity). */
  allowed(user: UserInfo, attributes: AccessAttributes): Promise<boolean>;
  /** Creates an Approval as the user (the admission policy checks spec.user against the token). */
  createApproval(
    token: string,
    user: UserInfo,
    answer: { namespace: string; problem: string; attempt: number; decision: ApprovalDecision; message?: string },
  ): Promise<string>;
  /** Sets or removes the `rebound.dev/suspend` annotation as the user. */
  setSuspended(token: string, namespace: string, name: string, suspended: boolean): Promise<void>;
  /** Kubernetes Events about one object (by uid), oldest first, read as the user. */
  events(token: string, namespace: string, uid: string): Promise<KubeEventRow[]>;
}

/** SLI values over a window for a problem page's charts. */
export interface UiSliSeries {
  /**
   * One query over [start, end] from the Prometheus the problem's evaluation used (its Remediation's
   * allowed evaluation.prometheusURL, else the controller's). Never throws: trouble is a message.
   */
  range(problem: ProblemEvent, query: string, start: Date, end: Date): Promise<RangeOutcome>;
}
