// Leader election over a coordination.k8s.io/v1 Lease, with client-go's rules:
//  - a candidate takes the Lease when it is free or its holder has not renewed for
//    leaseDuration, measured on OUR clock from when we last saw the record change (so clock skew
//    between replicas does not matter);
//  - writes carry the resourceVersion read, so two candidates racing for it cannot both win;
//  - the leader renews every retryPeriod; if it cannot renew within renewDeadline it stops leading
//    (renewDeadline < leaseDuration, so it stops before anyone else may take over);
//  - on graceful shutdown the leader releases the Lease (empty holder) so a successor need not wait.
// Leadership ends the moment it can no longer be vouched for: a watchdog fires renewDeadline after the
// start of the last successful renewal even when the renewal request itself hangs (an API server
// restarting gracefully), and the signal handed to the leader's work aborts with LeadershipLost.
import type { Logger } from 'pino';
import { sleep, type Clock } from './clock.ts';

export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: Date | undefined;
  renewTime?: Date | undefined;
  leaseTransitions: number;
}

/**
 * The Lease object on the API server; src/kube implements it. Writes resolve the new
 * resourceVersion and reject on conflict (someone else wrote first).
 */
export interface LeaseStore {
  get(): Promise<{ record: LeaseRecord; resourceVersion: string } | undefined>;
  create(record: LeaseRecord): Promise<string>;
  update(record: LeaseRecord, resourceVersion: string): Promise<string>;
}

export interface LeaderCallbacks {
  /** Called once when this replica becomes leader; `signal` aborts when leadership ends. */
  onStartedLeading(signal: AbortSignal): void;
  /** Called once when leadership ends (lost, or released on shutdown). */
  onStoppedLeading(): void;
  /** Called when the observed holder changes (including to ourselves). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionOptions {
  identity: string;
  store: LeaseStore;
  clock: Clock;
  log: Logger;
  /** Default 15 s. */
  leaseDurationMs?: number;
  /** Default 10 s; must be less than leaseDurationMs. */
  renewDeadlineMs?: number;
  /** Default 2 s. */
  retryPeriodMs?: number;
  /** Release the Lease when `run`'s signal aborts while leading. Default true. */
  releaseOnCancel?: boolean;
  /** Source of jitter in [0, 1); injectable for tests. */
  random?: () => number;
}

export interface LeadershipStatus {
  /** True once the Lease has been read or written at least once. */
  known: boolean;
  leading: boolean;
  /** The holder last observed (empty when the Lease is free). */
  holder: string;
}

const JITTER = 1.2;

/** The abort reason of the leader's signal when leadership was lost (not a graceful stop). */
export class LeadershipLost extends Error {
  constructor(message = 'leadership lost') {
    super(message);
    this.name = 'LeadershipLost';
  }
}

export function isLeadershipLost(reason: unknown): reason is LeadershipLost {
  return reason instanceof LeadershipLost;
}

export class LeaderElector {
  readonly identity: string;
  readonly #store: LeaseStore;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #releaseOnCancel: boolean;
  readonly #random: () => number;
  #observed: { record: LeaseRecord; resourceVersion: string; at: number } | undefined;
  #leading = false;
  /** When the last successful write of the Lease by us started (monotonic clock). */
  #renewStartedAt = 0;
  /** Ends the current term of leadership (set while leading). */
  #lose: ((why: string) => void) | undefined;
  #reportedLeader = '';

  constructor(options: LeaderElectionOptions) {
    this.identity = options.identity;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#log = options.log.child({ component: 'leader-election', identity: options.identity });
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.#releaseOnCancel = options.releaseOnCancel ?? true;
    this.#random = options.random ?? Math.random;
    if (this.#renewDeadlineMs >= this.#leaseDurationMs) {
      throw new Error('leader election: renewDeadline must be shorter than leaseDuration');
    }
    if (this.#retryPeriodMs * JITTER >= this.#renewDeadlineMs) {
      throw new Error('leader election: retryPeriod (with jitter) must be shorter than renewDeadline');
    }
  }

  status(): LeadershipStatus {
    return {
      known: this.#observed !== undefined,
      leading: this.#leading,
      holder: this.#observed?.record.holderIdentity ?? '',
    };
  }

  /**
   * Campaigns until leader, leads until leadership is lost or `signal` aborts, then returns.
   * Resolves `lost` when leadership was lost (the caller stops acting and may campaign again),
   * `stopped` when `signal` ended it.
   */
  async run(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<'stopped' | 'lost'> {
    this.#log.info('campaigning for leadership');
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew(callbacks)) break;
      await sleep(this.#clock, this.#jittered(this.#retryPeriodMs), signal);
    }
    if (signal.aborted) return 'stopped';

    this.#leading = true;
    this.#log.info('started leading');
    const leadership = new AbortController();
    const lose = (why: string): void => {
      if (leadership.signal.aborted) return;
      this.#leading = false;
      this.#log.error({ renewDeadlineMs: this.#renewDeadlineMs, why }, 'leadership lost');
      leadership.abort(new LeadershipLost(`leadership lost: ${why}`));
    };
    let cancelWatchdog = (): void => {};
    const armWatchdog = (): void => {
      cancelWatchdog();
      // Counted from the start of the last successful write, as client-go does.
      const left = this.#renewStartedAt + this.#renewDeadlineMs - this.#clock.now();
      cancelWatchdog = this.#clock.setTimer(Math.max(0, left), () =>
        lose(`not renewed within ${this.#renewDeadlineMs} ms`),
      );
    };
    armWatchdog();
    this.#lose = lose;
    callbacks.onStartedLeading(leadership.signal);

    const either = AbortSignal.any([signal, leadership.signal]);
    while (!either.aborted) {
      await sleep(this.#clock, this.#retryPeriodMs, either);
      if (either.aborted) break;
      // A renewal that hangs must not hold the loss back: the watchdog's abort ends the wait.
      const renewed = await untilAborted(this.#tryAcquireOrRenew(callbacks), leadership.signal);
      if (leadership.signal.aborted) break;
      if (renewed) {
        armWatchdog();
      } else if (this.#heldByOther()) {
        lose(`the lease is held by ${this.#observed?.record.holderIdentity ?? 'another replica'}`);
      }
    }
    cancelWatchdog();
    this.#lose = undefined;

    this.#leading = false;
    const outcome = leadership.signal.aborted ? 'lost' : 'stopped';
    if (outcome === 'stopped') {
      this.#log.info('stopped leading');
      leadership.abort();
    }
    callbacks.onStoppedLeading();
    return outcome;
  }

  /**
   * True while this replica leads and its last renewal is within the renew deadline, checked
   * against the clock now: a process that was paused longer than that learns it here, before its
   * watchdog timer has had a chance to run, and its leadership ends (the signal aborts) at once.
   */
  isLeading(): boolean {
    if (!this.#leading) return false;
    if (this.#clock.now() - this.#renewStartedAt < this.#renewDeadlineMs) return true;
    this.#lose?.(`not renewed within ${this.#renewDeadlineMs} ms (found on a check)`);
    return false;
  }

  /**
   * Gives the Lease up (empty holder, renew now, duration 1 s) if we still hold it. Call after the
   * work that needed leadership has stopped.
   */
  async release(): Promise<void> {
    if (!this.#releaseOnCancel) return;
    const observed = this.#observed;
    if (!observed || observed.record.holderIdentity !== this.identity) return;
    const now = new Date(this.#clock.now());
    const record: LeaseRecord = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: observed.record.acquireTime,
      renewTime: now,
      leaseTransitions: observed.record.leaseTransitions,
    };
    try {
      await this.#store.update(record, observed.resourceVersion);
      this.#observed = undefined;
      this.#log.info('released leader lease');
    } catch (err) {
      this.#log.warn({ err }, 'could not release leader lease; it will expire');
    }
  }

  #heldByOther(): boolean {
    const holder = this.#observed?.record.holderIdentity ?? '';
    return holder !== '' && holder !== this.identity;
  }

  async #tryAcquireOrRenew(callbacks: LeaderCallbacks): Promise<boolean> {
    const now = this.#clock.now();
    const durationSeconds = Math.max(1, Math.ceil(this.#leaseDurationMs / 1000));
    let current: Awaited<ReturnType<LeaseStore['get']>>;
    try {
      current = await this.#store.get();
    } catch (err) {
      this.#log.warn({ err }, 'reading the leader lease failed');
      return false;
    }

    if (!current) {
      const record: LeaseRecord = {
        holderIdentity: this.identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: new Date(now),
        renewTime: new Date(now),
        leaseTransitions: 0,
      };
      return this.#write(callbacks, record, undefined, now);
    }

    if (this.#observed?.resourceVersion !== current.resourceVersion) {
      this.#observed = { ...current, at: now };
      this.#noticeLeader(callbacks, current.record.holderIdentity);
    }
    const { record } = current;
    const mine = record.holderIdentity === this.identity;
    const free = record.holderIdentity === '';
    const expiresAt = (this.#observed?.at ?? now) + record.leaseDurationSeconds * 1000;
    if (!mine && !free && expiresAt > now) return false;

    const next: LeaseRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: mine ? record.acquireTime : new Date(now),
      renewTime: new Date(now),
      leaseTransitions: mine ? record.leaseTransitions : record.leaseTransitions + 1,
    };
    return this.#write(callbacks, next, current.resourceVersion, now);
  }

  async #write(
    callbacks: LeaderCallbacks,
    record: LeaseRecord,
    resourceVersion: string | undefined,
    now: number,
  ): Promise<boolean> {
    let written: string;
    try {
      written =
        resourceVersion === undefined
          ? await this.#store.create(record)
          : await this.#store.update(record, resourceVersion);
    } catch (err) {
      // A conflict means another candidate wrote first: not an error, just not us this round.
      this.#log.debug({ err }, 'writing the leader lease failed');
      return false;
    }
    this.#observed = { record, resourceVersion: written, at: now };
    if (record.holderIdentity === this.identity) this.#renewStartedAt = now;
    this.#noticeLeader(callbacks, record.holderIdentity);
    return true;
  }

  #noticeLeader(callbacks: LeaderCallbacks, holder: string): void {
    if (holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    if (holder !== '') this.#log.info({ leader: holder }, 'new leader observed');
    callbacks.onNewLeader?.(holder);
  }

  #jittered(ms: number): number {
    return Math.round(ms * (1 + (JITTER - 1) * this.#random()));
  }
}

/** `work`'s result, or false as soon as `signal` aborts (the work is left to finish on its own). */
function untilAborted(work: Promise<boolean>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
