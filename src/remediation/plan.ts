// What Rebound would do for one problem, as data: the policy source, the action for attempt k, the
// values file and the diff. Pure: the caller reads the stage branch (rebound plan, the controller's
// status) and hands the texts in.
import { ACTIONS } from '../api/index.ts';
import type { PolicySource, RemediationAction, RemediationLimits } from '../api/index.ts';
import type { RemediationPolicy } from '../formats/remediation.ts';
import { applyAction, DEFAULT_FLAGS_PATH, DEFAULT_REPLICAS_PATH, isEditError } from './value-edits.ts';
import type { Change } from './value-edits.ts';
import { unifiedDiff } from './diff.ts';
import { chooseAction, describeSource, sourceWithMatch } from './policy.ts';
import type { ProblemKey } from './policy.ts';

/** `<service>/values.yaml`: the default file an action edits. */
export function valuesFilePath(service: string): string {
  return `${service}/values.yaml`;
}

export interface PlanInput {
  branch: string;
  service: string;
  problem: ProblemKey;
  attempt: number;
  /** The policy in force and where it came from; undefined when the branch has none. */
  policy?: { policy: RemediationPolicy; source: PolicySource } | undefined;
  /** Where the policy was looked for, for the reason when there is none (`carts/remediation.yaml`). */
  policyPath: string;
  valuesFile: string;
  /** The values file's text on the branch, undefined when it does not exist. */
  valuesText: string | undefined;
  replicasPath?: readonly string[];
  minReplicasPath?: readonly string[];
  flagsPath?: readonly string[];
  limits?: RemediationLimits;
}

/** The `rebound plan --json` document (docs/design.md, commands). */
export interface PlanJson {
  source: string | null;
  branch: string;
  file: string | null;
  action: Pick<RemediationAction, 'name' | 'action' | 'value'> | null;
  exhausted: boolean;
  reason: string | null;
  diff: string | null;
  /** `required` when the action waits for people's approval (`approval: required`) before anything is committed. */
  approval: 'required' | null;
}

export type PlanOutcome =
  /** An action is planned; `change` is what it does (`diff` empty when the file already has it). */
  | { kind: 'planned'; json: PlanJson; source: PolicySource; summary: string | null; change: Change }
  /** An action that edits nothing: it goes to an external executor (`file` and `diff` are null). */
  | { kind: 'handed-off'; json: PlanJson; source: PolicySource }
  /** No action: no policy, no matching entry, or every action already tried. */
  | { kind: 'none'; json: PlanJson; source: PolicySource | null }
  /** An action was chosen but cannot become an edit (unknown action, bad value, values file wrong). */
  | { kind: 'invalid'; json: PlanJson; source: PolicySource };

export function planRemediation(input: PlanInput): PlanOutcome {
  const outcome = plan(input);
  // `approval` comes last in the document, after the fields docs/design.md defined first.
  const { approval, ...json } = outcome.json;
  return { ...outcome, json: { ...json, approval } };
}

function plan(input: PlanInput): PlanOutcome {
  const base = { branch: input.branch, file: null, action: null, exhausted: false, diff: null, approval: null };
  if (!input.policy) {
    const reason = `no remediation policy: ${input.policyPath} does not exist on branch ${input.branch}`;
    return { kind: 'none', source: null, json: { source: null, ...base, reason } };
  }
  const choice = chooseAction(input.policy.policy, input.problem, input.attempt);
  if (choice.kind === 'unmatched') {
    return {
      kind: 'none',
      source: input.policy.source,
      json: { source: describeSource(input.policy.source), ...base, reason: choice.reason },
    };
  }
  const source = sourceWithMatch(input.policy.source, choice.match);
  const sourceText = describeSource(source);
  if (choice.kind === 'exhausted') {
    return { kind: 'none', source, json: { source: sourceText, ...base, exhausted: true, reason: choice.reason } };
  }
  const { name, action, value } = choice.action;
  const approval: PlanJson['approval'] = choice.action.approval === 'required' ? 'required' : null;
  if (!(Object.values(ACTIONS) as string[]).includes(action)) {
    const reason = `"${action}" is not built in: the controller sends it to an external executor as sh.keptn.event.action.triggered (with --action-sink); nothing is committed`;
    return {
      kind: 'handed-off',
      source,
      json: {
        source: sourceText,
        branch: input.branch,
        file: null,
        action: { name, action, value },
        exhausted: false,
        reason,
        diff: null,
        approval,
      },
    };
  }
  const planned = {
    source: sourceText,
    branch: input.branch,
    file: input.valuesFile,
    action: { name, action, value },
    exhausted: false,
    approval,
  };
  if (input.valuesText === undefined) {
    return {
      kind: 'invalid',
      source,
      json: { ...planned, reason: `${input.valuesFile} does not exist on branch ${input.branch}`, diff: null },
    };
  }
  try {
    const result = applyAction(choice.action, input.valuesText, {
      file: input.valuesFile,
      replicasPath: input.replicasPath ?? DEFAULT_REPLICAS_PATH,
      ...(input.minReplicasPath ? { minReplicasPath: input.minReplicasPath } : {}),
      flagsPath: input.flagsPath ?? DEFAULT_FLAGS_PATH,
      ...(input.limits ? { limits: input.limits } : {}),
    });
    if (!result.changed) {
      return {
        kind: 'planned',
        source,
        summary: null,
        change: result.change,
        json: { ...planned, reason: result.reason, diff: '' },
      };
    }
    const diff = unifiedDiff(input.valuesFile, input.valuesText, result.text);
    return {
      kind: 'planned',
      source,
      summary: result.summary,
      change: result.change,
      json: { ...planned, reason: null, diff },
    };
  } catch (err) {
    if (!isEditError(err)) throw err;
    return { kind: 'invalid', source, json: { ...planned, reason: err.message, diff: null } };
  }
}
