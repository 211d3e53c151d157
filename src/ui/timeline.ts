// A problem's timeline: every step the controller recorded, in time order, each with how long it
// took (from the step it follows). Pure: read from the ProblemEvent's status.
import type { Attempt, ProblemEvent } from '../api/types.ts';

export interface TimelineEntry {
  /** RFC 3339. */
  time: string;
  /** Which attempt it belongs to (0: the problem itself). */
  attempt: number;
  step: string;
  detail: string;
  /** Time since the step this one follows (within its attempt, or since the problem opened). */
  durationMs?: number;
}

const ms = (t: string | undefined): number => (t ? Date.parse(t) : Number.NaN);

function attemptSteps(a: Attempt): Omit<TimelineEntry, 'durationMs'>[] {
  const out: Omit<TimelineEntry, 'durationMs'>[] = [];
  const add = (time: string | undefined, step: string, detail: string): void => {
    if (time) out.push({ time, attempt: a.index, step, detail });
  };
  const action = `${a.action} ${a.value}`.trim();
  if (a.approval) {
    add(a.approval.requestedTime, 'approval requested', a.approval.why ?? action);
    add(a.approval.decidedTime, `approval ${a.approval.state.toLowerCase()}`, a.approval.message ?? '');
  }
  add(a.execution?.startedTime, 'action started', `${action}${a.execution?.target ? ` → ${a.execution.target}` : ''}`);
  add(a.committedTime, 'committed', `${action} as ${a.commit?.slice(0, 12) ?? '?'} on ${a.branch ?? '?'}`);
  add(a.appliedTime, 'applied', a.helmRevision ? `Helm revision ${a.helmRevision}` : 'applied');
  add(a.sync?.requestedTime, 'sync requested', `${a.sync?.engine ?? ''} ${(a.sync?.objects ?? []).join(', ')}`.trim());
  add(a.sync?.syncedTime, 'synced', a.sync?.revision ?? '');
  add(
    a.execution?.finishedTime,
    `action ${a.execution?.state.toLowerCase() ?? 'finished'}`,
    a.execution?.message ?? '',
  );
  for (const t of a.tasks ?? []) {
    add(t.startedTime, `task ${t.name} started`, t.target ?? '');
    add(t.finishedTime, `task ${t.name} ${t.state.toLowerCase()}`, t.message ?? '');
  }
  add(
    a.evaluationTime,
    a.result ? `evaluated: ${a.result}` : 'evaluation due',
    a.score !== undefined ? `score ${a.score}` : '',
  );
  return out;
}

/** Every recorded step, oldest first. */
export function timeline(problem: ProblemEvent): TimelineEntry[] {
  const status = problem.status ?? {};
  const opened = String(problem.metadata.creationTimestamp ?? status.startTime ?? '');
  const entries: Omit<TimelineEntry, 'durationMs'>[] = [];
  if (opened)
    entries.push({
      time: new Date(opened).toISOString(),
      attempt: 0,
      step: 'opened',
      detail: problem.spec.problemTitle,
    });
  if (status.startTime) entries.push({ time: status.startTime, attempt: 0, step: 'picked up', detail: '' });
  for (const a of status.attempts ?? []) entries.push(...attemptSteps(a));
  if (status.completionTime)
    entries.push({ time: status.completionTime, attempt: 0, step: `finished: ${status.phase ?? ''}`, detail: '' });
  const sorted = entries
    .map((e, i) => ({ e, i }))
    .filter(({ e }) => !Number.isNaN(ms(e.time)))
    .sort((x, y) => ms(x.e.time) - ms(y.e.time) || x.i - y.i)
    .map(({ e }) => e);
  return sorted.map((e, i) => {
    const before = sorted[i - 1];
    return before ? { ...e, durationMs: ms(e.time) - ms(before.time) } : e;
  });
}
