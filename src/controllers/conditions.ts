// Kubernetes-style conditions: one entry per type, lastTransitionTime changes only when the status does.
import type { Condition, ConditionStatus, ConditionType, Reason } from '../api/index.ts';

export interface ConditionUpdate {
  type: ConditionType;
  status: ConditionStatus;
  reason: Reason;
  message: string;
}

/** Condition messages are for people; keep them bounded so a stderr dump cannot bloat the object. */
const MAX_MESSAGE = 1024;

export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date,
  generation?: number,
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === update.type);
  const previous = index >= 0 ? list[index] : undefined;
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: truncate(update.message),
    lastTransitionTime: previous && previous.status === update.status ? previous.lastTransitionTime : now.toISOString(),
    ...(generation === undefined ? {} : { observedGeneration: generation }),
  };
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: ConditionType): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

function truncate(message: string): string {
  return message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE - 1)}…`;
}
