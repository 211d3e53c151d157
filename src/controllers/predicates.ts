// Which updates matter to a watch (Flux's predicate.go): status writes and resyncs deliver update
// events too, and reconciling on each of them would be wasted work, or a loop.
import { ANNOTATIONS } from '../api/index.ts';
import type { Project } from '../api/index.ts';

interface Generational {
  metadata: { generation?: number };
}

/** A new spec (generation), not a status write or a resync. */
export function specChanged<T extends Generational>(before: T, after: T): boolean {
  return before.metadata.generation !== after.metadata.generation;
}

/**
 * A new spec, the Project controller found a different stage list (e.g. shipyard.yaml changed), or a
 * person reset the circuit breaker.
 */
export function projectChanged(before: Project, after: Project): boolean {
  const stages = (p: Project): string =>
    JSON.stringify(
      (p.status?.stages ?? []).map((s) => [s.name, s.branch, s.remediation, s.apply, s.namespace, s.remediationTasks]),
    );
  const reset = (p: Project): string | undefined => p.metadata.annotations?.[ANNOTATIONS.circuitReset];
  return specChanged(before, after) || stages(before) !== stages(after) || reset(before) !== reset(after);
}

/**
 * The Project's branch watch found a stage branch at a new head (holds: an open problem reads who
 * pushed, docs/remediation.md#holds). A poll that found the same heads changes nothing.
 */
export function stageHeadsMoved(before: Project, after: Project): boolean {
  const heads = (p: Project): string => JSON.stringify((p.status?.stages ?? []).map((s) => [s.name, s.commit]));
  return heads(before) !== heads(after);
}
