// What Rebound tells a forge leaves the loop through this queue (commit statuses, comments on a
// proposal's pull request): posting never blocks a reconcile and never fails it. One worker per
// target (a Project) delivers in order; a call that may pass (the forge down, 5xx, 429) is retried
// with capped backoff, one that cannot (401, 404, a host that is not allowed) is given up and counted.
// At most one status waits per (commit, context): a newer one for the same line replaces it in place
// (pending then failure: only failure needs to arrive). Bounded: past `maxQueued` per target the
// oldest call still waiting (not the one being sent) is dropped and counted.
import { ReboundError, errorMessage } from '../errors.ts';
import { Backoff } from '../runtime/backoff.ts';
import { sleep, systemClock } from '../runtime/clock.ts';
import type { Clock } from '../runtime/clock.ts';
import type { CommitStatus, Forge } from './types.ts';

export type DeliveryResult = 'delivered' | 'retried' | 'failed' | 'dropped';

export interface DeliveryLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface StatusDeliveryOptions {
  /** Waiting statuses per target (default 256). */
  maxQueued?: number;
  /** Tries per status before it is given up (default 8). */
  maxTries?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  clock?: Clock;
  log?: DeliveryLog;
  /** Each try's outcome, for a metric (`rebound_forge_statuses_total{result}`). */
  observe?: (result: DeliveryResult) => void;
  /** Each try's outcome per target, with the error of a try that failed (the Project's ForgeReachable). */
  onOutcome?: (target: string, outcome: DeliveryOutcome) => void;
}

export interface DeliveryOutcome {
  result: Exclude<DeliveryResult, 'dropped'>;
  /** Why a try failed (`retried` or `failed`). */
  error?: unknown;
}

/** One call to make on a forge: a commit status, or a comment on a pull request. */
export interface ForgeCall {
  /** Calls with the same key replace a waiting one (one status line per commit and context). */
  key: string;
  send: (forge: Forge, signal: AbortSignal) => Promise<void>;
  /** What logs say about it (never a token). */
  fields: Record<string, unknown>;
}

interface Item {
  call: ForgeCall;
  /** Resolves the forge when the item is sent (the token is read then, so a rotated Secret is used). */
  forge: () => Promise<Forge | undefined>;
}

interface Target {
  items: Item[];
  running: Promise<void> | undefined;
}

export class StatusDelivery {
  readonly #targets = new Map<string, Target>();
  readonly #options: Required<Omit<StatusDeliveryOptions, 'log' | 'observe' | 'onOutcome'>> &
    Pick<StatusDeliveryOptions, 'log' | 'observe' | 'onOutcome'>;
  readonly #stop = new AbortController();

  constructor(options: StatusDeliveryOptions = {}) {
    this.#options = {
      maxQueued: 256,
      maxTries: 8,
      initialBackoffMs: 1_000,
      maxBackoffMs: 60_000,
      clock: systemClock,
      ...options,
    };
  }

  /** Queues `status` for `target` (a Project's key); returns at once. */
  enqueue(target: string, status: CommitStatus, forge: () => Promise<Forge | undefined>): void {
    this.enqueueCall(
      target,
      {
        key: `status\u0000${status.sha}\u0000${status.context}`,
        send: (f, signal) => f.setCommitStatus(status, signal),
        fields: { commit: status.sha, context: status.context, state: status.state },
      },
      forge,
    );
  }

  /** Queues any call for `target`; returns at once. */
  enqueueCall(target: string, call: ForgeCall, forge: () => Promise<Forge | undefined>): void {
    if (this.#stop.signal.aborted) return;
    let queue = this.#targets.get(target);
    if (!queue) {
      queue = { items: [], running: undefined };
      this.#targets.set(target, queue);
    }
    const waiting = queue.items.find((i, n) => i.call.key === call.key && !(n === 0 && queue.running));
    if (waiting) {
      waiting.call = call;
      waiting.forge = forge;
    } else {
      queue.items.push({ call, forge });
      if (queue.items.length > this.#options.maxQueued) {
        // The head is being sent while a worker runs: the oldest one only waiting goes.
        const [dropped] = queue.items.splice(queue.running ? 1 : 0, 1);
        this.#options.observe?.('dropped');
        this.#options.log?.warn({ target, ...dropped?.call.fields }, 'forge queue full: dropped the oldest call');
      }
    }
    queue.running ??= this.#drain(target, queue);
  }

  /** Resolves when nothing waits any more (tests; a graceful stop). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.#targets.values()].map((t) => t.running).filter((r) => r !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /** Stops retrying: waiting statuses are dropped (at least once holds only while running). */
  stop(): void {
    this.#stop.abort();
  }

  async #drain(target: string, queue: Target): Promise<void> {
    try {
      for (;;) {
        const item = queue.items[0];
        if (!item || this.#stop.signal.aborted) return;
        const sent = item.call;
        await this.#deliver(target, item.forge, sent);
        // A newer call with the same key may have replaced this one while it was sent: then it goes next.
        if (item.call === sent) {
          const index = queue.items.indexOf(item);
          if (index !== -1) queue.items.splice(index, 1);
        }
      }
    } finally {
      queue.running = undefined;
      if (queue.items.length === 0) this.#targets.delete(target);
      else if (!this.#stop.signal.aborted) queue.running = this.#drain(target, queue);
    }
  }

  async #deliver(target: string, resolve: Item['forge'], call: ForgeCall): Promise<void> {
    const backoff = new Backoff({
      initialMs: this.#options.initialBackoffMs,
      maxMs: this.#options.maxBackoffMs,
    });
    for (let tries = 1; ; tries++) {
      try {
        const forge = await resolve();
        if (forge) await call.send(forge, this.#stop.signal);
        this.#options.observe?.('delivered');
        this.#options.onOutcome?.(target, { result: 'delivered' });
        return;
      } catch (err) {
        const retryable = !(err instanceof ReboundError) || err.retryable;
        const fields = {
          target,
          ...call.fields,
          tries,
          code: err instanceof ReboundError ? err.code : undefined,
          err: errorMessage(err),
        };
        if (!retryable || tries >= this.#options.maxTries || this.#stop.signal.aborted) {
          this.#options.observe?.('failed');
          this.#options.onOutcome?.(target, { result: 'failed', error: err });
          this.#options.log?.warn(fields, 'forge call not delivered: given up');
          return;
        }
        this.#options.observe?.('retried');
        this.#options.onOutcome?.(target, { result: 'retried', error: err });
        this.#options.log?.info(fields, 'forge call not delivered yet: retrying');
        await sleep(this.#options.clock, backoff.next(), this.#stop.signal);
      }
    }
  }
}
