// Deny windows (as Argo CD's sync windows, deny kind): from each time the cron schedule fires, for
// `duration`, in `timeZone`, no automated action starts in the stages the window covers. Pure.
import type { DenyWindow } from '../api/index.ts';
import { parseDuration } from '../api/duration.ts';
import { CronError, lastFiring, localTime, nextFiring, parseCron } from './cron.ts';

/** Longest window honoured: a deny "window" of more than a week is a switch, use a disabled stage. */
export const MAX_WINDOW_MS = 7 * 24 * 3_600_000;

export type WindowCheck =
  | { kind: 'open' }
  /** `window` holds actions back until `until` (the latest end among the windows active now). */
  | { kind: 'denied'; window: string; until: Date; started: Date }
  /** A window cannot be read: fail closed, a person must fix the Project. */
  | { kind: 'invalid'; window: string; message: string };

/** Why a window is unusable, or undefined when it is fine. */
export function windowProblem(w: DenyWindow): string | undefined {
  try {
    parseCron(w.schedule);
  } catch (err) {
    if (err instanceof CronError) return `schedule: ${err.message}`;
    throw err;
  }
  let ms: number;
  try {
    ms = parseDuration(w.duration);
  } catch (err) {
    return `duration: ${(err as Error).message}`;
  }
  if (ms <= 0) return 'duration must be longer than 0';
  if (ms > MAX_WINDOW_MS) return `duration ${w.duration} is longer than a week`;
  try {
    localTime(new Date(0), w.timeZone ?? 'UTC');
  } catch {
    return `timeZone "${w.timeZone ?? ''}" is not an IANA time zone`;
  }
  return undefined;
}

/** Whether `stage` is inside one of the windows at `now`; overlapping windows extend each other. */
export function checkWindows(windows: readonly DenyWindow[] | undefined, stage: string, now: Date): WindowCheck {
  const covering = (windows ?? []).filter((w) => !w.stages || w.stages.length === 0 || w.stages.includes(stage));
  for (const w of covering) {
    const problem = windowProblem(w);
    if (problem) return { kind: 'invalid', window: w.name, message: `deny window ${w.name}: ${problem}` };
  }
  let held: Extract<WindowCheck, { kind: 'denied' }> | undefined;
  // Each pass may push the end further when another window is active at the new end (chained windows).
  let at = now;
  for (let pass = 0; pass <= covering.length; pass++) {
    let extended = false;
    for (const w of covering) {
      const ms = parseDuration(w.duration);
      const started = lastFiring(parseCron(w.schedule), at, w.timeZone ?? 'UTC', ms);
      if (!started) continue;
      const until = new Date(started.getTime() + ms);
      if (until.getTime() <= at.getTime()) continue;
      if (!held || until.getTime() > held.until.getTime()) {
        held = { kind: 'denied', window: held?.window ?? w.name, until, started: held?.started ?? started };
        extended = true;
      }
    }
    if (!held || !extended) break;
    at = held.until;
  }
  return held ?? { kind: 'open' };
}

export interface NextWindow {
  window: string;
  opens: Date;
  closes: Date;
}

/**
 * The first deny window covering `stage` that opens after `after` (within a week), or undefined.
 * Ask it with checkWindows' `until` to learn what follows the window active now. Windows must be
 * valid (checkWindows says which is not).
 */
export function nextWindow(
  windows: readonly DenyWindow[] | undefined,
  stage: string,
  after: Date,
): NextWindow | undefined {
  let next: NextWindow | undefined;
  for (const w of windows ?? []) {
    if (w.stages && w.stages.length > 0 && !w.stages.includes(stage)) continue;
    if (windowProblem(w)) continue;
    const opens = nextFiring(parseCron(w.schedule), after, w.timeZone ?? 'UTC', MAX_WINDOW_MS);
    if (!opens || (next && opens.getTime() >= next.opens.getTime())) continue;
    next = { window: w.name, opens, closes: new Date(opens.getTime() + parseDuration(w.duration)) };
  }
  return next;
}
