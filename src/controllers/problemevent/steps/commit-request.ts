// The commit an attempt's values edit makes, for the stage branch (attempt.ts) or a merge-mode
// proposal branch (proposal.ts): the same edit, subject and trailers either way, so a proposal that
// is merged reads in the history exactly like a commit Rebound made itself.
import type { Attempt, RemediationAction } from '../../../api/index.ts';
import type { ActionHandler } from '../../../actions/types.ts';
import { describeChange } from '../../../remediation/value-edits.ts';
import type { Change } from '../../../remediation/value-edits.ts';
import type { CommitRequest } from '../../../remediation/stage.ts';
import type { PolicyResolution } from '../ports.ts';
import type { StatusDraft } from './draft.ts';
import { label } from './draft.ts';
import type { StepContext } from './types.ts';

type Policy = Extract<PolicyResolution, { ok: true }>;

/** The policy's action k as a values edit. */
export interface ValuesChoice {
  policy: Policy;
  action: RemediationAction;
  value: string;
  editValues: NonNullable<ActionHandler['editValues']>;
  /** Who approved it, which deny window it broke: kept on the attempt and in the commit's trailers. */
  audit: Pick<Attempt, 'approval' | 'breakGlass'>;
}

/** The commit request, and the change the edit made (known once the edit has run). */
export function valuesCommitRequest(
  draft: StatusDraft,
  { stage, decision }: Pick<StepContext, 'stage' | 'decision'>,
  { policy, action, value, editValues, audit }: ValuesChoice,
): { request: CommitRequest; change: () => Change | undefined } {
  const index = 'index' in decision ? decision.index : 0;
  const actionLabel = label({ action: action.action, value });
  const { metadata } = draft.problem;
  let change: Change | undefined;
  const request: CommitRequest = {
    branch: stage.branch,
    path: policy.valuesFile,
    problem: {
      namespace: draft.namespace,
      name: metadata.name ?? '',
      uid: metadata.uid ?? '',
      ...(metadata.creationTimestamp ? { created: new Date(metadata.creationTimestamp) } : {}),
    },
    attempt: index,
    actionLabel,
    ...notesFor(audit),
    edit: (text) => {
      const result = editValues(action, text, {
        file: policy.valuesFile,
        ...(policy.replicasPath ? { replicasPath: policy.replicasPath } : {}),
        ...(policy.minReplicasPath ? { minReplicasPath: policy.minReplicasPath } : {}),
        ...(policy.flagsPath ? { flagsPath: policy.flagsPath } : {}),
        ...(policy.limits ? { limits: policy.limits } : {}),
      });
      change = result.change;
      return result.changed ? { text: result.text, summary: result.summary } : { unchanged: result.reason };
    },
    subject: () => `rebound: ${change ? describeChange(change, draft.problem.spec.service, stage.name) : actionLabel}`,
  };
  return { request, change: () => change };
}

/** The commit's audit trailers: Rebound-Approved-By, Rebound-Break-Glass. */
function notesFor(audit: Pick<Attempt, 'approval' | 'breakGlass'>): {
  notes?: { approvedBy?: string; breakGlass?: string };
} {
  // Sorted: approvals that arrive together land in either order, and the trailer must not depend on it.
  const approvedBy = (audit.approval?.approvers ?? [])
    .filter((a) => a.decision === 'Approve')
    .map((a) => a.user)
    .sort()
    .join(', ');
  if (!approvedBy && !audit.breakGlass) return {};
  return {
    notes: { ...(approvedBy ? { approvedBy } : {}), ...(audit.breakGlass ? { breakGlass: audit.breakGlass } : {}) },
  };
}
