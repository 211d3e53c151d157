// Who to wake when a service's turn may have freed: named map functions from a watch event to the
// keys to enqueue, as controller-runtime's handler.EnqueueRequestsFromMapFunc. A waiting problem is
// never polled; it is woken when the problem ahead of it leaves the line (finishes, is suspended or
// is deleted). Only the next in line is woken: waking every waiter would make each hand-over cost
// as many reconciles as there are waiters.
import { ANNOTATIONS } from '../../api/index.ts';
import type { ProblemEvent } from '../../api/index.ts';
import { isSettled } from '../../api/phases.ts';
import { keyOf } from './decide.ts';

/** Can take its turn: open, not finished, not suspended by a person. */
export function inLine(problem: ProblemEvent): boolean {
  return (
    !isSettled(problem.status?.phase) &&
    problem.spec.state !== 'RESOLVED' &&
    problem.metadata.annotations?.[ANNOTATIONS.suspend] !== 'true'
  );
}

/** The update takes the problem out of the line (its turn, if it held it, is free). */
export function leftTheLine(before: ProblemEvent, after: ProblemEvent): boolean {
  return (inLine(before) && !inLine(after)) || (!isSettled(before.status?.phase) && isSettled(after.status?.phase));
}

/**
 * The key to wake when `left` leaves the line of its service: the oldest other problem still in it
 * (creation time, then name; the order a person would expect, not a promise). `siblings` are the
 * service's problems from the cache.
 */
export function nextInLine(left: ProblemEvent, siblings: readonly ProblemEvent[]): string[] {
  const self = keyOf(left);
  const waiting = siblings.filter((p) => keyOf(p) !== self && inLine(p));
  const next = waiting.sort(byAge)[0];
  return next ? [keyOf(next)] : [];
}

function byAge(a: ProblemEvent, b: ProblemEvent): number {
  const ta = timeOf(a.metadata.creationTimestamp);
  const tb = timeOf(b.metadata.creationTimestamp);
  if (ta !== tb) return ta - tb;
  const ka = keyOf(a);
  const kb = keyOf(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function timeOf(value: Date | string | undefined): number {
  return value === undefined ? Number.MAX_SAFE_INTEGER : new Date(value).getTime();
}
