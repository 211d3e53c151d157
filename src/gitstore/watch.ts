// Branch watching: the stage branches are read on the Project's schedule (`spec.git.poll`: an
// interval such as `30s` / `5m`, or a cron expression) and on demand when a push webhook arrives.
// A poll costs one request per branch when nothing moved; a moved branch is fetched and reported
// with the files that changed, so callers reload only what they need (remediation.yaml, slo.yaml...).
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import { ReboundError } from '../errors.ts';
import type { StoreLogger } from './store.ts';

export interface BranchChange {
  branch: string;
  /** The head last seen; undefined for a branch seen for the first time. */
  oldHead: string | undefined;
  newHead: string;
  /** Files added, removed or changed between the two heads (every file when oldHead is undefined). */
  changedPaths: string[];
}

/** What the watcher needs from the store. */
export interface WatchedStore {
  head(branch: string): Promise<string>;
  /** All heads from one ref listing, when the store can (GitStore does): one request per poll. */
  heads?(branches: readonly string[]): Promise<Map<string, string | Error>>;
  changedPaths(oldCommit: string | undefined, newCommit: string): Promise<string[]>;
}

export interface WatchOptions {
  store: WatchedStore;
  branches: readonly string[];
  /** Milliseconds, a duration (`30s`, `5m`, `1h`) or a cron expression (`*\/2 * * * *`). */
  schedule: number | string;
  onChange: (change: BranchChange) => void | Promise<void>;
  onError?: (err: unknown, branch: string) => void;
  /** Heads already processed (e.g. from the Project's status): changes since them are reported on the first poll. */
  initialHeads?: Record<string, string>;
  logger?: StoreLogger;
}

export interface BranchWatcher {
  /** Polls every branch now (after any poll in flight) and returns what changed. */
  pollNow(): Promise<BranchChange[]>;
  stop(): void;
}

export type PollSchedule = { kind: 'interval'; ms: number } | { kind: 'cron'; expression: string };

const DURATION = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
/** Polling faster than this only loads the Git server. */
export const MIN_POLL_MS = 1_000;

export function parsePollSchedule(schedule: number | string): PollSchedule {
  if (typeof schedule === 'number') {
    if (!Number.isFinite(schedule) || schedule < MIN_POLL_MS) throw invalidSchedule(String(schedule));
    return { kind: 'interval', ms: schedule };
  }
  const trimmed = schedule.trim();
  const duration = DURATION.exec(trimmed);
  if (duration?.[1] !== undefined && duration[2] !== undefined) {
    const ms = Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS];
    if (ms < MIN_POLL_MS) throw invalidSchedule(schedule);
    return { kind: 'interval', ms };
  }
  if (cron.validate(trimmed)) return { kind: 'cron', expression: trimmed };
  throw invalidSchedule(schedule);
}

function invalidSchedule(schedule: string): ReboundError {
  return new ReboundError(
    `spec.git.poll "${schedule}" is neither a duration of at least 1s (e.g. 30s, 5m) nor a cron expression`,
    { code: 'InvalidPollSchedule', reason: 'InvalidSpec', retryable: false },
  );
}

export function watchBranches(options: WatchOptions): BranchWatcher {
  const schedule = parsePollSchedule(options.schedule);
  const heads = new Map<string, string>(Object.entries(options.initialHeads ?? {}));
  const primed = new Set<string>(heads.keys());
  let inFlight: Promise<BranchChange[]> | undefined;
  let stopped = false;

  const pollOnce = async (): Promise<BranchChange[]> => {
    const changes: BranchChange[] = [];
    let listed: Map<string, string | Error> | undefined;
    try {
      listed = options.store.heads === undefined ? undefined : await options.store.heads(options.branches);
    } catch (err) {
      for (const branch of options.branches) report(err, branch);
      return changes;
    }
    for (const branch of options.branches) {
      if (stopped) break;
      try {
        const head = listed === undefined ? await options.store.head(branch) : listed.get(branch);
        if (head === undefined || head instanceof Error) throw head ?? new Error(`no head for ${branch}`);
        const change = await observe(branch, head);
        if (change !== undefined) changes.push(change);
      } catch (err) {
        report(err, branch);
      }
    }
    return changes;
  };

  const observe = async (branch: string, newHead: string): Promise<BranchChange | undefined> => {
    const oldHead = heads.get(branch);
    heads.set(branch, newHead);
    if (!primed.has(branch)) {
      // The first sight of a branch is the baseline, not a change.
      primed.add(branch);
      return undefined;
    }
    if (oldHead === newHead) return undefined;
    const change = { branch, oldHead, newHead, changedPaths: await options.store.changedPaths(oldHead, newHead) };
    options.logger?.info({ branch, oldHead, newHead, files: change.changedPaths.length }, 'stage branch moved');
    await options.onChange(change);
    return change;
  };

  const report = (err: unknown, branch: string): void => {
    if (options.onError !== undefined) options.onError(err, branch);
    else options.logger?.warn({ branch, err }, 'polling the stage branch failed');
  };

  // Polls never overlap: a request made while one runs waits for it and then polls again, so a
  // webhook always leads to a read that started after the push.
  const pollNow = (): Promise<BranchChange[]> => {
    const previous = inFlight ?? Promise.resolve([]);
    const next = previous.catch(() => []).then(pollOnce);
    inFlight = next;
    void next.finally(() => {
      if (inFlight === next) inFlight = undefined;
    });
    return next;
  };
  const tick = (): void => {
    if (inFlight !== undefined || stopped) return; // a scheduled tick while busy adds nothing
    pollNow().catch(() => undefined);
  };

  let timer: NodeJS.Timeout | undefined;
  let task: ScheduledTask | undefined;
  if (schedule.kind === 'interval') {
    timer = setInterval(tick, schedule.ms);
    timer.unref();
  } else {
    task = cron.schedule(schedule.expression, tick, { noOverlap: true });
  }
  tick();

  return {
    pollNow,
    stop() {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      if (task !== undefined) void task.stop();
    },
  };
}
