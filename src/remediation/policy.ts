// Policy lookup and action choice, as Keptn's remediation-service did it (keptn-semantics.md §1.3,
// §7) with Rebound's differences from docs/design.md:
//   - 0.1.4 entries match exactly and case-sensitively on rootCause, then problemTitle, then the
//     entry named `default`; legacy `remediations[].name` entries match when the title starts with
//     `name`, and every action of the entry is used in order, not only the first;
//   - attempt k (counting from 1) takes action k; past the last one the problem is exhausted;
//   - a Remediation resource takes precedence over `<service>/remediation.yaml` on the stage branch.
import type { PolicySource, Remediation, RemediationAction } from '../api/index.ts';
import { ReboundError } from '../errors.ts';
import type { RemediationPolicy, RemediationPolicyEntry } from '../formats/remediation.ts';

/** The entry name that catches problems no other entry names. */
export const DEFAULT_PROBLEM_TYPE = 'default';

export type MatchKind = NonNullable<PolicySource['match']>;

/** A policy with where it came from; `source` lacks `problemType`/`match` until an entry matches. */
export interface ResolvedPolicy {
  policy: RemediationPolicy;
  source: PolicySource;
}

/** The policy file on a stage branch, as read by the caller. */
export interface PolicyFile {
  branch: string;
  commit: string;
  path: string;
  policy: RemediationPolicy;
}

/** `<service>/remediation.yaml`: where Keptn kept a service's policy on the stage branch. */
export function policyFilePath(service: string): string {
  return `${service}/remediation.yaml`;
}

/** A Remediation resource's entries, in the 0.1.4 shape (exact matching). */
export function policyFromResource(resource: Remediation): ResolvedPolicy {
  return {
    policy: {
      format: '0.1.4',
      entries: resource.spec.remediations.map((r) => ({
        problemType: r.problemType,
        match: 'exact',
        actions: [...r.actionsOnOpen],
      })),
    },
    source: { kind: 'Remediation', name: resource.metadata.name ?? '' },
  };
}

export function policyFromFile(file: PolicyFile): ResolvedPolicy {
  return { policy: file.policy, source: { kind: 'Git', branch: file.branch, commit: file.commit, path: file.path } };
}

/** The resource wins over the file (docs/design.md); undefined when there is neither. */
export function selectPolicy(candidates: {
  resource?: Remediation | undefined;
  file?: PolicyFile | undefined;
}): ResolvedPolicy | undefined {
  if (candidates.resource) return policyFromResource(candidates.resource);
  if (candidates.file) return policyFromFile(candidates.file);
  return undefined;
}

/** "Remediation carts-production" or "production@<commit>:carts/remediation.yaml". */
export function describeSource(source: PolicySource): string {
  if (source.kind === 'Remediation') return `Remediation ${source.name ?? ''}`;
  return `${source.branch ?? '?'}@${source.commit ?? '?'}:${source.path ?? '?'}`;
}

/** What a problem is matched on. */
export interface ProblemKey {
  problemTitle: string;
  rootCause?: string | undefined;
}

export interface EntryMatch {
  entry: RemediationPolicyEntry;
  matchedOn: MatchKind;
}

/**
 * The entry for a problem: exact rootCause, then exact problemTitle (or, for legacy entries, a title
 * starting with the entry's name), then `default`; the first in file order wins at each step. An
 * empty rootCause means "none" (Keptn matched it against an empty problemType; no valid file has one).
 */
export function findEntry(policy: RemediationPolicy, problem: ProblemKey): EntryMatch | undefined {
  const { entries } = policy;
  const rootCause = problem.rootCause ?? '';
  if (rootCause !== '') {
    const byRootCause = entries.find((e) => e.match === 'exact' && e.problemType === rootCause);
    if (byRootCause) return { entry: byRootCause, matchedOn: 'rootCause' };
  }
  for (const entry of entries) {
    if (entry.match === 'exact' && entry.problemType === problem.problemTitle)
      return { entry, matchedOn: 'problemTitle' };
    if (entry.match === 'prefix' && problem.problemTitle.startsWith(entry.problemType))
      return { entry, matchedOn: 'prefix' };
  }
  const fallback = entries.find((e) => e.problemType === DEFAULT_PROBLEM_TYPE);
  return fallback ? { entry: fallback, matchedOn: 'default' } : undefined;
}

export type ActionChoice =
  | {
      kind: 'action';
      attempt: number;
      action: RemediationAction;
      match: EntryMatch;
      /** Actions left after this one. */ remaining: number;
    }
  | { kind: 'exhausted'; attempt: number; match: EntryMatch; reason: string }
  | { kind: 'unmatched'; attempt: number; reason: string };

/** Action `attempt` (1-based) of the entry matching `problem`, or why there is none. */
export function chooseAction(policy: RemediationPolicy, problem: ProblemKey, attempt: number): ActionChoice {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new ReboundError(`invalid attempt ${attempt}: attempts count from 1`, {
      code: 'InvalidAttempt',
      retryable: false,
    });
  }
  const match = findEntry(policy, problem);
  if (!match) return { kind: 'unmatched', attempt, reason: unmatchedReason(problem) };
  const { actions } = match.entry;
  const action = actions[attempt - 1];
  if (!action) {
    const count = `${actions.length} action${actions.length === 1 ? '' : 's'}`;
    return {
      kind: 'exhausted',
      attempt,
      match,
      reason: `there is no action ${attempt} for ${describeProblem(problem)}: entry "${match.entry.problemType}" has ${count}`,
    };
  }
  return { kind: 'action', attempt, action, match, remaining: actions.length - attempt };
}

/** Why no policy entry applies to a problem, in Keptn's wording. */
export function unmatchedReason(problem: ProblemKey): string {
  return `unable to find action for ${describeProblem(problem)}: no entry matches and there is no "${DEFAULT_PROBLEM_TYPE}" entry`;
}

/** Keptn's wording: `problem title "X"`, with the root cause when there is one. */
export function describeProblem(problem: ProblemKey): string {
  const title = `problem title ${JSON.stringify(problem.problemTitle)}`;
  return problem.rootCause ? `root cause ${JSON.stringify(problem.rootCause)} or ${title}` : title;
}

/** The policy source as a ProblemEvent's status records it, with the entry that matched. */
export function sourceWithMatch(source: PolicySource, match: EntryMatch): PolicySource {
  return { ...source, problemType: match.entry.problemType, match: match.matchedOn };
}
