// When an action waits for people, and what their answers come to. Pure: the Approvals are read
// from the informer cache by the caller; identity comes from spec.user/spec.groups, which the API
// server has checked against the creator (manifests/approval-identity.yaml).
import type { Approval, ApprovalSettings, Approver, AttemptApproval, RemediationAction } from '../api/index.ts';
import type { EvaluationResult, RemediationMode } from '../api/index.ts';
import type { ApprovalTask } from '../remediation/stage.ts';

/** Why attempt `index`'s action waits for people, or undefined when it may run on its own. */
export function approvalReason(
  stage: { name: string; remediation: RemediationMode; sequence?: { approval?: ApprovalTask } },
  action: Pick<RemediationAction, 'approval'>,
  index: number,
  /** The result the shipyard's approval task sees (approvalInput): `pass` unless it says otherwise. */
  seen: ApprovalInput = 'pass',
): string | undefined {
  if (stage.remediation === 'manual') return `stage ${stage.name} is manual: every action waits for approval`;
  if (action.approval === 'required') return `action ${index} of the policy requires approval`;
  const task = stage.sequence?.approval;
  if (task) {
    // Keptn's approval-service approved on its own only a pass or a warning set to automatic.
    if (task[seen] !== 'automatic')
      return `the remediation sequence of stage ${stage.name} has an approval task (${seen}: manual)`;
  }
  return undefined;
}

export type ApprovalInput = 'pass' | 'warning';

/**
 * The result a shipyard approval task sees before attempt `index`: in Keptn the task before it,
 * get-action, passed when it found an action; a later attempt follows the previous attempt's
 * evaluation, and a `warning` there asks the `warning` setting.
 */
export function approvalInput(previous: { result?: EvaluationResult } | undefined): ApprovalInput {
  return previous?.result === 'warning' ? 'warning' : 'pass';
}

/** The Project's settings with their defaults. */
export function effectiveSettings(
  settings: ApprovalSettings | undefined,
): Required<Pick<ApprovalSettings, 'minApprovals' | 'onTimeout'>> & ApprovalSettings {
  return { ...settings, minApprovals: settings?.minApprovals ?? 1, onTimeout: settings?.onTimeout ?? 'Unhandled' };
}

export interface IgnoredApproval {
  name: string;
  user: string;
  why: string;
}

export interface Tally {
  state: 'Pending' | 'Approved' | 'Rejected';
  /** The answers that count, one per person (their latest), oldest first. */
  approvers: Approver[];
  /** Answers that do not count, and why (not in a required group, made before this request). */
  ignored: IgnoredApproval[];
  approvals: number;
}

/**
 * What the Approvals for one attempt come to: any eligible rejection rejects; `minApprovals`
 * distinct people approving approves. Answers made before the request (an earlier diff) and by
 * people outside the required groups do not count.
 */
export function tallyApprovals(
  approvals: readonly Approval[],
  request: Pick<AttemptApproval, 'requestedTime' | 'minApprovals' | 'groups'>,
): Tally {
  const requested = Date.parse(request.requestedTime);
  const required = request.groups ?? [];
  const byUser = new Map<string, Approver>();
  const ignored: IgnoredApproval[] = [];
  const ordered = [...approvals].sort(
    (a, b) => created(a) - created(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  for (const a of ordered) {
    const name = a.metadata.name ?? '';
    const { user } = a.spec;
    // Whole seconds: the API server's creationTimestamp drops the milliseconds of our request time.
    if (created(a) < Math.floor(requested / 1000) * 1000) {
      ignored.push({
        name,
        user,
        why: `made at ${new Date(created(a)).toISOString()}, before this request (${request.requestedTime})`,
      });
      continue;
    }
    if (required.length > 0 && !(a.spec.groups ?? []).some((g) => required.includes(g))) {
      ignored.push({ name, user, why: `${user} is in none of the approving groups (${required.join(', ')})` });
      continue;
    }
    byUser.set(user, {
      name,
      user,
      decision: a.spec.decision,
      time: new Date(created(a)).toISOString(),
      ...(a.spec.message ? { message: a.spec.message } : {}),
    });
  }
  const approvers = [...byUser.values()];
  const approvalsCount = approvers.filter((a) => a.decision === 'Approve').length;
  const state = approvers.some((a) => a.decision === 'Reject')
    ? 'Rejected'
    : approvalsCount >= (request.minApprovals ?? 1)
      ? 'Approved'
      : 'Pending';
  return { state, approvers, ignored, approvals: approvalsCount };
}

function created(a: Approval): number {
  const t = a.metadata.creationTimestamp;
  return t === undefined ? Number.MAX_SAFE_INTEGER : new Date(t).getTime();
}

/** "2 of 2 approvals from sre" style summary for messages. */
export function describeRequest(request: Pick<AttemptApproval, 'minApprovals' | 'groups'>, have = 0): string {
  const who = request.groups && request.groups.length > 0 ? ` from members of ${request.groups.join(', ')}` : '';
  return `${have} of ${request.minApprovals ?? 1} approval(s)${who}`;
}
