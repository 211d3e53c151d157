// One remediation at a time per project/stage/service, decided by the API server: the problem that
// acts holds a claim (a Lease named after the service) that was written and confirmed before any
// action. Creating the claim fails with 409 when it is held; taking over a claim or releasing it is
// conditional on the version read. So no interleaving of reconciles, a lagging cache, a restart or a
// second replica can give the turn to two problems; the cache is only trusted to say "wait".
//
// A claim has no expiry. It is released when its holder finishes (a terminal phase) and taken over
// when its holder is known, from a fresh read, to be finished, deleted or suspended: a holder whose
// release was lost (a crash, a deletion) never blocks the service.
import { createHash } from 'node:crypto';
import { ANNOTATIONS, LABELS } from '../../api/index.ts';
import type { ProblemEvent } from '../../api/index.ts';
import { ReboundError, errorMessage } from '../../errors.ts';
import type { ClaimStore, ClaimWrite } from '../../kube/claim-leases.ts';
import { isSettled } from '../../api/phases.ts';
import { keyOf } from './decide.ts';

/** A problem as a claim names it: uid included, so a new problem of the same name is someone else. */
export interface HolderRef {
  namespace: string;
  name: string;
  uid: string;
}

export type TurnState = { held: true } | { held: false; holder: string };

/** Whether a holder may still act: `open`, or `finished` (terminal, deleted, replaced by a new uid, suspended). */
export type HolderState = 'open' | 'finished';

export interface HolderReads {
  /** From the informer cache; undefined when the cache does not have it (it may lag). */
  cached(ref: HolderRef): HolderState | undefined;
  /** From the API server: the only read a take-over is decided on. */
  live(ref: HolderRef): Promise<HolderState>;
}

export interface TurnClaims {
  /**
   * Claims the problem's service for it, or says who holds it. With `confirm` the claim is read from
   * the API server even when this process took it (before an action); without, a claim this process
   * took earlier is trusted (waits and evaluations change nothing outside the status).
   */
  claim(problem: ProblemEvent, options: { confirm: boolean }): Promise<TurnState>;
  /**
   * Gives the service's turn back if this problem holds it. Never throws: a claim left behind (the
   * API server out of reach) is taken over by the next problem, its holder being finished.
   */
  release(problem: ProblemEvent): Promise<void>;
  /** The problem is gone: gives back a claim this process knows it held. Never throws, as release. */
  forget(key: string): Promise<void>;
}

export interface TurnLog {
  warn(fields: object, message: string): void;
}

/** Conflicting writers settle in a round or two; more means something else keeps writing. */
const MAX_ROUNDS = 5;

/** Claims as Leases in one namespace (the controller's own). */
export class LeaseTurnClaims implements TurnClaims {
  readonly #store: ClaimStore;
  readonly #holders: HolderReads;
  /** Claims this process took or confirmed: problem key → Lease name and holder id. */
  readonly #held = new Map<string, { lease: string; holder: string }>();
  /** Problems this process last found waiting for another holder. */
  readonly #waiters = new Set<string>();
  readonly #log: TurnLog | undefined;

  constructor(store: ClaimStore, holders: HolderReads, log?: TurnLog) {
    this.#store = store;
    this.#holders = holders;
    this.#log = log;
  }

  async claim(problem: ProblemEvent, options: { confirm: boolean }): Promise<TurnState> {
    const key = keyOf(problem);
    const lease = turnLeaseName(problem);
    const me = holderId(problem);
    const known = this.#held.get(key);
    if (!options.confirm && known?.holder === me) return { held: true };
    const write = claimWrite(problem, me);
    // A problem not yet seen waiting creates first: its service's claim is usually free (one request,
    // not a read and a create). A waiter reads first: its create would only be refused.
    let create = known === undefined && !this.#waiters.has(key);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (create && (await this.#store.create(lease, write)) === 'created') return this.#took(key, lease, me);
      const stored = await this.#store.get(lease);
      create = stored === undefined;
      if (!stored) continue;
      if (stored.holder === me) return this.#took(key, lease, me);
      const other = parseHolderId(stored.holder);
      // The cache may only say "wait": it can lag behind a holder that has just claimed.
      if (other && this.#holders.cached(other) === 'open') return this.#waiting(key, other);
      if (other && (await this.#holders.live(other)) === 'open') return this.#waiting(key, other);
      if ((await this.#store.replace(lease, write, stored.resourceVersion)) === 'replaced')
        return this.#took(key, lease, me);
    }
    throw new ReboundError(`the turn of ${serviceOf(problem)} kept changing hands while claiming it`, {
      code: 'TurnContended',
      reason: 'TurnUnavailable',
      retryable: true,
    });
  }

  async release(problem: ProblemEvent): Promise<void> {
    this.#held.delete(keyOf(problem));
    this.#waiters.delete(keyOf(problem));
    await this.#giveBack(turnLeaseName(problem), holderId(problem));
  }

  async forget(key: string): Promise<void> {
    this.#waiters.delete(key);
    const known = this.#held.get(key);
    if (!known) return;
    this.#held.delete(key);
    await this.#giveBack(known.lease, known.holder);
  }

  async #giveBack(lease: string, holder: string): Promise<void> {
    try {
      const stored = await this.#store.get(lease);
      // Someone else's claim (taken over after ours), or already released: nothing to give back.
      if (stored?.holder !== holder) return;
      await this.#store.remove(lease, stored.resourceVersion);
    } catch (err) {
      this.#log?.warn(
        { lease, err: errorMessage(err) },
        'could not give back a service turn; the next problem takes it over',
      );
    }
  }

  #took(key: string, lease: string, holder: string): TurnState {
    this.#waiters.delete(key);
    this.#held.set(key, { lease, holder });
    return { held: true };
  }

  #waiting(key: string, other: HolderRef): TurnState {
    this.#held.delete(key);
    this.#waiters.add(key);
    return { held: false, holder: `${other.namespace}/${other.name}` };
  }
}

/** Reads a holder's state: a problem that is terminal, suspended, deleted or replaced cannot act again. */
export function holderState(problem: ProblemEvent | undefined, ref: HolderRef): HolderState {
  if (!problem || problem.metadata.uid !== ref.uid) return 'finished';
  if (isSettled(problem.status?.phase)) return 'finished';
  if (problem.metadata.annotations?.[ANNOTATIONS.suspend] === 'true') return 'finished';
  return 'open';
}

/** project/stage/service in the problem's namespace: what one claim covers. */
export function serviceOf(problem: ProblemEvent): string {
  const { project, stage, service } = problem.spec;
  return `${problem.metadata.namespace ?? 'default'}/${project}/${stage}/${service}`;
}

/** A DNS-safe, fixed-length Lease name per service (the service's own names can be long). */
export function turnLeaseName(problem: ProblemEvent): string {
  return `rebound-turn-${createHash('sha256').update(serviceOf(problem)).digest('hex').slice(0, 24)}`;
}

export function holderId(problem: ProblemEvent): string {
  return `${problem.metadata.namespace ?? 'default'}/${problem.metadata.name ?? ''}/${problem.metadata.uid ?? ''}`;
}

export function parseHolderId(text: string): HolderRef | undefined {
  const [namespace, name, uid, ...rest] = text.split('/');
  if (!namespace || !name || !uid || rest.length > 0) return undefined;
  return { namespace, name, uid };
}

/** The Lease names its service in labels where they fit and in full in an annotation. */
function claimWrite(problem: ProblemEvent, holder: string): ClaimWrite {
  return {
    holder,
    labels: { [LABELS.managedBy]: 'rebound', [LABELS.turn]: 'true' },
    annotations: { [ANNOTATIONS.turnOf]: serviceOf(problem) },
  };
}
