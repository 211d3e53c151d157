// Commit messages in docs/design.md's format. The trailers make a step idempotent (after a crash the step
// finds its own commit by problem uid and attempt) and auditable (`git log --grep Rebound-Problem`).
//
//   rebound: scale carts in production to 2 replicas
//
//   Rebound-Problem: <namespace>/<name> <uid>
//   Rebound-Attempt: 1
//   Rebound-Action: scale +1

export const TRAILER = {
  problem: 'Rebound-Problem',
  attempt: 'Rebound-Attempt',
  action: 'Rebound-Action',
  /** Who approved an action that waited for people (src/rules/approvals.ts). */
  approvedBy: 'Rebound-Approved-By',
  /** The deny window an action ran inside, and the policy entry that let it. */
  breakGlass: 'Rebound-Break-Glass',
  /** A hold: the person's commit whose set-back values this commit puts back (docs/remediation.md#holds). */
  reasserts: 'Rebound-Reasserts',
  /** Undo after resolve: the commit a revert (or a restore after a failed revert) sets back; one per commit. */
  reverts: 'Rebound-Reverts',
} as const;

export interface ProblemRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface ReboundTrailers {
  problem: ProblemRef;
  /** Counts from 1. */
  attempt: number;
  action: { action: string; value: string };
  /** Further audit trailers after the three that identify the step: approvers, break-glass. */
  notes?: { approvedBy?: string; breakGlass?: string; reasserts?: string; reverts?: readonly string[] };
}

/** What identifies one step: the same problem uid and attempt must never be committed twice. */
export interface StepKey {
  uid: string;
  attempt: number;
  /** A hold's re-assert is its own step: one per person's commit it answers. */
  reasserts?: string;
}

export function formatCommitMessage(subject: string, trailers?: ReboundTrailers, body?: string): string {
  const paragraphs = [oneLine(subject)];
  if (body !== undefined && body.trim() !== '') paragraphs.push(body.trim());
  if (trailers !== undefined) {
    const { problem, attempt, action } = trailers;
    paragraphs.push(
      [
        `${TRAILER.problem}: ${oneLine(`${problem.namespace}/${problem.name}`)} ${oneLine(problem.uid)}`,
        `${TRAILER.attempt}: ${attempt}`,
        `${TRAILER.action}: ${oneLine(`${action.action} ${action.value}`)}`,
        ...(trailers.notes?.approvedBy ? [`${TRAILER.approvedBy}: ${oneLine(trailers.notes.approvedBy)}`] : []),
        ...(trailers.notes?.breakGlass ? [`${TRAILER.breakGlass}: ${oneLine(trailers.notes.breakGlass)}`] : []),
        ...(trailers.notes?.reasserts ? [`${TRAILER.reasserts}: ${oneLine(trailers.notes.reasserts)}`] : []),
        ...(trailers.notes?.reverts ?? []).map((sha) => `${TRAILER.reverts}: ${oneLine(sha)}`),
      ].join('\n'),
    );
  }
  return `${paragraphs.join('\n\n')}\n`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** `Key: value` lines of the message's last paragraph (Git's trailer block), keys as written. */
export function parseTrailerBlock(message: string): Map<string, string[]> {
  const paragraphs = message
    .replace(/\r\n/g, '\n')
    .trimEnd()
    .split(/\n\s*\n/);
  const trailers = new Map<string, string[]>();
  if (paragraphs.length < 2) return trailers;
  const last = paragraphs[paragraphs.length - 1] ?? '';
  for (const line of last.split('\n')) {
    const match = /^([A-Za-z0-9][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    const values = trailers.get(match[1]) ?? [];
    values.push(match[2].trim());
    trailers.set(match[1], values);
  }
  return trailers;
}

/** Rebound's trailers in a commit message, or undefined when the commit is not a Rebound step. */
export function parseReboundTrailers(message: string): ReboundTrailers | undefined {
  const block = parseTrailerBlock(message);
  const problemLine = block.get(TRAILER.problem)?.[0];
  const attemptLine = block.get(TRAILER.attempt)?.[0];
  if (problemLine === undefined || attemptLine === undefined) return undefined;
  const problem = /^([^/\s]+)\/(\S+)\s+(\S+)$/.exec(problemLine);
  const attempt = /^\d+$/.test(attemptLine) ? Number(attemptLine) : Number.NaN;
  if (
    problem?.[1] === undefined ||
    problem[2] === undefined ||
    problem[3] === undefined ||
    !Number.isSafeInteger(attempt)
  ) {
    return undefined;
  }
  const actionLine = block.get(TRAILER.action)?.[0] ?? '';
  const space = actionLine.indexOf(' ');
  const reasserts = block.get(TRAILER.reasserts)?.[0];
  return {
    ...(reasserts ? { notes: { reasserts } } : {}),
    problem: { namespace: problem[1], name: problem[2], uid: problem[3] },
    attempt,
    action:
      space < 0
        ? { action: actionLine, value: '' }
        : { action: actionLine.slice(0, space), value: actionLine.slice(space + 1) },
  };
}

/** A step's identity as one string: commits of the same step have the same id. */
export function stepId(key: StepKey): string {
  return `${key.uid}\n${String(key.attempt)}\n${key.reasserts ?? ''}`;
}

/** The step a commit's trailers record; undefined for a commit that is not Rebound's. */
export function trailersStepId(trailers: ReboundTrailers | undefined): string | undefined {
  return trailers === undefined
    ? undefined
    : stepId({
        uid: trailers.problem.uid,
        attempt: trailers.attempt,
        ...(trailers.notes?.reasserts ? { reasserts: trailers.notes.reasserts } : {}),
      });
}
