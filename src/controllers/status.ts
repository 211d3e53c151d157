// Ready, Reconciling and Stalled with kstatus semantics, set in one place for every reconciler, and
// the one status writer. kstatus (what `kubectl wait`, Flux health checks and Argo CD read) treats
// Reconciling and Stalled as abnormal-true conditions that must never both be True: marking one
// clears the other, as fluxcd/pkg's runtime/conditions setters do. A call site says what happened
// (reconciling, stalled, ready, not ready); it never picks the three conditions by hand.
import { CONDITION_TYPES, REASONS } from '../api/index.ts';
import type { Condition, ConditionType, Reason } from '../api/index.ts';
import { isNotFound } from '../kube/errors.ts';
import { removeCondition, setCondition } from './conditions.ts';
import type { ConditionUpdate } from './conditions.ts';

/** A resource's conditions being prepared for one status write. */
export class Conditions {
  #list: Condition[];
  readonly #now: Date;
  readonly #generation: number | undefined;

  constructor(current: readonly Condition[] | undefined, now: Date, generation: number | undefined) {
    this.#list = [...(current ?? [])];
    this.#now = now;
    this.#generation = generation;
  }

  /** A resource-specific condition (GitReachable, ConfigValid, PolicyResolved). */
  set(update: ConditionUpdate): void {
    this.#list = setCondition(this.#list, update, this.#now, this.#generation);
  }

  /**
   * Work is under way (or waits its turn, a limit, a metrics source): Reconciling=True, and Stalled
   * False. Stalled stays as an explicit False rather than being deleted, so "not stuck" can be read.
   */
  markReconciling(reason: Reason, message: string): void {
    this.set({ type: CONDITION_TYPES.Reconciling, status: 'True', reason, message });
    this.#notStalled(REASONS.Progressing, 'the loop is making progress');
  }

  /** Only a person can change this: Stalled=True, Ready=False, and no Reconciling left behind. */
  markStalled(reason: Reason, message: string): void {
    this.set({ type: CONDITION_TYPES.Stalled, status: 'True', reason, message });
    this.set({ type: CONDITION_TYPES.Ready, status: 'False', reason, message });
    this.#remove(CONDITION_TYPES.Reconciling);
  }

  /** The wanted state is reached: Ready=True, neither Reconciling nor Stalled. */
  markReady(reason: Reason, message: string): void {
    this.set({ type: CONDITION_TYPES.Ready, status: 'True', reason, message });
    this.#notStalled(reason, message);
    this.#remove(CONDITION_TYPES.Reconciling);
  }

  /** Not ready for a reason that may pass (retried on a schedule): Ready=False, not Stalled. */
  markNotReady(reason: Reason, message: string, retry: string): void {
    this.set({ type: CONDITION_TYPES.Ready, status: 'False', reason, message });
    this.#notStalled(REASONS.Progressing, retry);
  }

  /** A resource-specific condition that no longer applies (its feature was turned off). */
  clear(type: ConditionType): void {
    this.#remove(type);
  }

  get(type: ConditionType): Condition | undefined {
    return this.#list.find((c) => c.type === type);
  }

  list(): Condition[] {
    return [...this.#list];
  }

  #notStalled(reason: Reason, message: string): void {
    this.set({ type: CONDITION_TYPES.Stalled, status: 'False', reason, message });
  }

  #remove(type: ConditionType): void {
    this.#list = removeCondition(this.#list, type);
  }
}

interface StatusObject<S> {
  metadata: { generation?: number };
  status?: S;
}

interface ConditionedStatus {
  conditions?: Condition[];
  observedGeneration?: number;
}

/** The conditions of `object` as a draft, stamped with its generation. */
export function conditionsOf<S extends ConditionedStatus>(object: StatusObject<S>, now: Date): Conditions {
  return new Conditions(object.status?.conditions, now, object.metadata.generation);
}

/** The status as written: the fields, the conditions and the generation it answers for. */
export function statusWith<S extends ConditionedStatus>(
  object: StatusObject<S>,
  status: Omit<S, 'conditions' | 'observedGeneration'>,
  conditions: Conditions,
): S {
  const generation = object.metadata.generation;
  return {
    ...status,
    conditions: conditions.list(),
    ...(generation === undefined ? {} : { observedGeneration: generation }),
  } as S;
}

/**
 * The one status writer: the status with its conditions and the generation it answers for, sent as
 * one merge patch through the resource's port (which may make it conditional on the version read).
 * Returns what the port returned, or undefined when the object was deleted meanwhile: there is
 * nothing left to report on, and the next reconcile sees it gone.
 */
export async function writeStatus<T extends StatusObject<S>, S extends ConditionedStatus, R>(
  writer: { patchStatus(object: T, status: S): Promise<R> },
  object: T,
  status: Omit<S, 'conditions' | 'observedGeneration'>,
  conditions: Conditions,
): Promise<R | undefined> {
  try {
    return await writer.patchStatus(object, statusWith(object, status, conditions));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
