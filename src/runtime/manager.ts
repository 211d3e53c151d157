// The manager runs the process's parts (controller-runtime's Manager): runnables that every replica
// runs (informers, the ops and webhook servers) start at once; runnables that act on the world
// (controllers) start only while this replica leads. Shutdown runs in the safe order: stop the
// leader-only runnables and let in-flight reconciles drain, then release the Lease (so the next
// leader starts after our last write), then stop everything else.
// Losing the Lease (an API server restart longer than the renew deadline, a paused process) ends
// the leader-only runnables at once, their in-flight work cancelled, and the replica campaigns
// again; the process, its informers and its webhook server keep running.
import type { Logger } from 'pino';
import { LeadershipLost } from './leader-election.ts';
import type { LeaderElector } from './leader-election.ts';

export interface Runnable {
  name: string;
  /** True for runnables that change the world: they run only on the leader. */
  needsLeaderElection: boolean;
  /** Runs until `signal` aborts, then resolves. A rejection stops the manager. */
  start(signal: AbortSignal): Promise<void>;
}

/** A named readiness check for /readyz; `ok: false` carries a short reason for people. */
export interface ReadinessCheck {
  name: string;
  check(): { ok: true } | { ok: false; reason: string };
}

export interface SyncSource {
  name: string;
  hasSynced(): boolean;
}

export interface ManagerOptions {
  log: Logger;
  /** Without one, this replica acts as leader at once (single replica, tests). */
  leaderElector?: LeaderElector;
  /** How long leader-only runnables may take to stop. Default 30 s. */
  gracefulShutdownMs?: number;
  onLeaderChange?: (leading: boolean) => void;
}

export type ManagerExit = 'stopped' | 'runnable-failed';

export class Manager {
  readonly #log: Logger;
  readonly #elector: LeaderElector | undefined;
  readonly #gracefulShutdownMs: number;
  readonly #onLeaderChange: ((leading: boolean) => void) | undefined;
  readonly #runnables: Runnable[] = [];
  readonly #syncSources: SyncSource[] = [];
  #started = false;

  constructor(options: ManagerOptions) {
    this.#log = options.log.child({ component: 'manager' });
    this.#elector = options.leaderElector;
    this.#gracefulShutdownMs = options.gracefulShutdownMs ?? 30_000;
    this.#onLeaderChange = options.onLeaderChange;
  }

  add(runnable: Runnable): void {
    if (this.#started) throw new Error(`cannot add runnable ${runnable.name} after start`);
    this.#runnables.push(runnable);
  }

  /** Informers (or anything with `hasSynced`) that readiness waits for. */
  addSyncSource(source: SyncSource): void {
    this.#syncSources.push(source);
  }

  /** For /readyz: every informer synced, leadership known. */
  readinessChecks(): ReadinessCheck[] {
    const checks: ReadinessCheck[] = this.#syncSources.map((source) => ({
      name: `informer:${source.name}`,
      check: () => (source.hasSynced() ? { ok: true } : { ok: false, reason: 'initial list not loaded' }),
    }));
    const elector = this.#elector;
    if (elector) {
      checks.push({
        name: 'leader-election',
        check: () => (elector.status().known ? { ok: true } : { ok: false, reason: 'leader lease not read yet' }),
      });
    }
    return checks;
  }

  /** Runs until `signal` aborts (→ `stopped`), leadership is lost, or a runnable fails. */
  async start(signal: AbortSignal): Promise<ManagerExit> {
    if (this.#started) throw new Error('manager already started');
    this.#started = true;
    const everyone = new AbortController();
    // One scope per term of leadership: lost, it aborts with LeadershipLost; stopped, plainly.
    let leaderScope = new AbortController();
    const electorScope = new AbortController();
    let exit: ManagerExit | undefined;
    const stopWith = (why: ManagerExit): void => {
      exit ??= why;
      wake();
    };
    let wake = (): void => {};
    const woken = new Promise<void>((resolve) => (wake = resolve));
    signal.addEventListener('abort', () => stopWith('stopped'), { once: true });
    if (signal.aborted) stopWith('stopped');

    const runAll = (list: Runnable[], scope: AbortSignal): Promise<void>[] =>
      list.map((r) =>
        r.start(scope).then(
          () => {
            if (!scope.aborted) this.#log.warn({ runnable: r.name }, 'runnable returned before stop');
          },
          (err: unknown) => {
            this.#log.error({ err, runnable: r.name }, 'runnable failed');
            stopWith('runnable-failed');
          },
        ),
      );

    const shared = runAll(
      this.#runnables.filter((r) => !r.needsLeaderElection),
      everyone.signal,
    );
    const leaderOnly = this.#runnables.filter((r) => r.needsLeaderElection);
    let leading: Promise<void>[] = [];
    let electing: Promise<unknown> = Promise.resolve();
    const startLeading = (): void => {
      this.#onLeaderChange?.(true);
      leading = runAll(leaderOnly, leaderScope.signal);
    };

    if (this.#elector) {
      const elector = this.#elector;
      const campaign = async (): Promise<void> => {
        while (!electorScope.signal.aborted) {
          leaderScope = new AbortController();
          const scope = leaderScope;
          const outcome = await elector.run(electorScope.signal, {
            onStartedLeading: (term) => {
              term.addEventListener(
                'abort',
                () => scope.abort(term.reason instanceof LeadershipLost ? term.reason : undefined),
                { once: true },
              );
              startLeading();
            },
            onStoppedLeading: () => {
              this.#onLeaderChange?.(false);
              scope.abort();
            },
          });
          if (outcome !== 'lost') return;
          // Our work must have stopped before we may lead again (and a successor may act meanwhile).
          const stopped = await withDeadline(Promise.all(leading), this.#gracefulShutdownMs);
          if (!stopped)
            this.#log.warn(
              { gracefulShutdownMs: this.#gracefulShutdownMs },
              'leader runnables did not stop in time after leadership was lost',
            );
          this.#log.info('campaigning again after leadership was lost');
        }
      };
      electing = campaign();
    } else {
      startLeading();
    }

    this.#log.info({ runnables: this.#runnables.map((r) => r.name) }, 'manager started');
    await woken;
    this.#log.info({ reason: exit }, 'manager stopping');

    leaderScope.abort();
    const drained = await withDeadline(Promise.all(leading), this.#gracefulShutdownMs);
    if (!drained)
      this.#log.warn({ gracefulShutdownMs: this.#gracefulShutdownMs }, 'leader runnables did not stop in time');
    electorScope.abort();
    await electing;
    // Release only when our work has stopped: a successor must not overlap our last write.
    if (this.#elector && drained) await this.#elector.release();
    everyone.abort();
    await withDeadline(Promise.all(shared), this.#gracefulShutdownMs);
    this.#log.info({ reason: exit }, 'manager stopped');
    return exit ?? 'stopped';
  }
}

async function withDeadline(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * An AbortSignal that aborts on the first SIGTERM or SIGINT; a second one exits at once (an
 * operator pressing Ctrl-C twice wants out). Returns a function that removes the listeners.
 */
export function shutdownSignal(
  log: Logger,
  proc: NodeJS.Process = process,
): { signal: AbortSignal; dispose: () => void } {
  const abort = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (abort.signal.aborted) {
      log.warn({ signal: name }, 'second signal, exiting now');
      proc.exit(130);
    }
    log.info({ signal: name }, 'shutting down');
    abort.abort();
  };
  proc.on('SIGTERM', onSignal);
  proc.on('SIGINT', onSignal);
  return {
    signal: abort.signal,
    dispose: () => {
      proc.off('SIGTERM', onSignal);
      proc.off('SIGINT', onSignal);
    },
  };
}

/** Runnable wrappers for the usual parts. A controller acts on the world, so it runs only on the leader. */
export function controllerRunnable(
  controller: { name: string; run(signal: AbortSignal, drainTimeoutMs: number): Promise<void> },
  drainTimeoutMs = 25_000,
): Runnable {
  return {
    name: controller.name,
    needsLeaderElection: true,
    start: (signal) => controller.run(signal, drainTimeoutMs),
  };
}

/** Closes what the process opened outside the manager (file watchers) once everything else stops. */
export function closeOnStop(name: string, closables: readonly ({ close(): Promise<void> } | undefined)[]): Runnable {
  return {
    name,
    needsLeaderElection: false,
    start: async (signal) => {
      await new Promise<void>((resolve) =>
        signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
      );
      await Promise.all(closables.flatMap((c) => (c ? [c.close()] : [])));
    },
  };
}

export function informerRunnable(informer: { name: string; run(signal: AbortSignal): Promise<void> }): Runnable {
  return { name: `informer:${informer.name}`, needsLeaderElection: false, start: (signal) => informer.run(signal) };
}

/**
 * Outside the worker loop an unhandled rejection or exception is a bug: log it at fatal and exit
 * non-zero so Kubernetes restarts a clean process (crash-only outside the loop, recovery inside).
 */
export function exitOnCrash(log: Logger, proc: NodeJS.Process = process): void {
  const crash = (kind: string) => (err: unknown) => {
    log.fatal({ err, kind }, 'unexpected error outside the reconcile loop, exiting');
    log.flush();
    proc.exit(70);
  };
  proc.on('unhandledRejection', crash('unhandledRejection'));
  proc.on('uncaughtException', crash('uncaughtException'));
}
