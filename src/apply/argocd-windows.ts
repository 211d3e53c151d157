// Argo CD's sync windows, read without I/O: does an AppProject's window keep Argo CD from syncing an
// Application now? With automated sync, Argo CD says nothing when a window denies (it logs "Sync
// prevented by sync window" and leaves the Application OutOfSync), so Rebound works it out from the
// AppProject the way the application-controller does (v3.2 `SyncWindows.Matches` and `CanSync(false)`):
// a window is active when its cron schedule (read by rules/cron.ts, as Project deny windows are) fired
// within the last `duration`; an active deny window denies; otherwise, allow windows that exist but
// are all inactive deny too.

import { lastFiring, parseCron } from '../rules/cron.ts';
import type { CronSchedule } from '../rules/cron.ts';

export interface SyncWindow {
  kind?: string;
  schedule?: string;
  duration?: string;
  applications?: string[];
  namespaces?: string[];
  clusters?: string[];
  manualSync?: boolean;
  timeZone?: string;
  andOperator?: boolean;
}

export interface AppProject {
  metadata?: { name?: string; namespace?: string };
  spec?: { syncWindows?: SyncWindow[] };
}

/** What a window needs to know about the Application. */
export interface WindowedApplication {
  name: string;
  destination: { server?: string; name?: string; namespace?: string };
}

/** Why Argo CD will not sync now, or undefined when the windows let it. */
export function windowDenies(
  project: AppProject,
  app: WindowedApplication,
  now: Date,
): { message: string } | undefined {
  const windows = (project.spec?.syncWindows ?? []).filter((w) => windowMatches(w, app));
  if (windows.length === 0) return undefined;
  const projectName = project.metadata?.name ?? '';
  const active: SyncWindow[] = [];
  for (const w of windows) {
    const state = isActive(w, now);
    // Argo CD refuses every sync while a window cannot be parsed.
    if (state === 'invalid')
      return { message: `AppProject ${projectName} has a sync window it cannot parse: ${describe(w)}` };
    if (state) active.push(w);
  }
  const deny = active.find((w) => w.kind === 'deny');
  if (deny) return { message: `a deny sync window of AppProject ${projectName} is active: ${describe(deny)}` };
  if (active.some((w) => w.kind === 'allow')) return undefined;
  const allows = windows.filter((w) => w.kind === 'allow');
  if (allows.length > 0) {
    return {
      message: `AppProject ${projectName} allows syncs only in its sync windows, none active now: ${allows.map(describe).join('; ')}`,
    };
  }
  return undefined;
}

function describe(w: SyncWindow): string {
  const zone = w.timeZone && w.timeZone !== 'UTC' ? ` ${w.timeZone}` : '';
  return `${w.kind ?? '?'} '${w.schedule ?? ''}'${zone} for ${w.duration ?? '?'}`;
}

/** Argo CD's `Matches`: applications, then clusters, then namespaces; OR unless `andOperator`. */
export function windowMatches(w: SyncWindow, app: WindowedApplication): boolean {
  const dest = app.destination;
  const checks: (boolean | undefined)[] = [
    w.applications?.length ? w.applications.some((p) => globMatch(p, app.name)) : undefined,
    w.clusters?.length
      ? w.clusters.some((p) => (!!dest.name && globMatch(p, dest.name)) || (!!dest.server && globMatch(p, dest.server)))
      : undefined,
    w.namespaces?.length ? w.namespaces.some((p) => globMatch(p, dest.namespace ?? '')) : undefined,
  ];
  const set = checks.filter((c): c is boolean => c !== undefined);
  if (set.length === 0) return false;
  return w.andOperator ? set.every(Boolean) : set.some(Boolean);
}

/** gobwas/glob without separators: `*`, `?`, `[...]` and `{a,b}`. */
export function globMatch(pattern: string, text: string): boolean {
  let re = '';
  let inClass = false;
  let braces = 0;
  for (const ch of pattern) {
    if (inClass) {
      re += ch === '\\' ? '\\\\' : ch;
      if (ch === ']') inClass = false;
    } else if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[') {
      inClass = true;
      re += '[';
    } else if (ch === '{') {
      braces++;
      re += '(?:';
    } else if (ch === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (ch === ',' && braces > 0) re += '|';
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  try {
    return new RegExp(`^${re.replace(/\[!/g, '[^')}$`, 's').test(text);
  } catch {
    return false;
  }
}

/**
 * Active now, as Argo CD has it: `schedule.Next(now - duration)` is before `now`, i.e. the schedule
 * fired at a minute strictly inside (now - duration, now). The schedule is read in the window's
 * `timeZone` (UTC when unset or unknown, as Argo CD falls back).
 */
export function isActive(w: SyncWindow, now: Date): boolean | 'invalid' {
  let schedule: CronSchedule;
  try {
    schedule = parseCron(w.schedule ?? '');
  } catch {
    return 'invalid';
  }
  const duration = parseGoDuration(w.duration ?? '');
  if (duration === undefined) return 'invalid';
  if (duration <= 1) return false;
  // lastFiring looks at whole minutes from the one holding its instant back to instant - lookback.
  return lastFiring(schedule, new Date(now.getTime() - 1), zone(w.timeZone), duration - 2) !== undefined;
}

/** Go's time.ParseDuration for what windows use: `1h`, `30m`, `1h30m`, `90s`, in ms. */
export function parseGoDuration(text: string): number | undefined {
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, n = '0', u = 's'] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(n) * (unit[u] ?? 0);
  return total;
}

function zone(timeZone: string | undefined): string {
  if (!timeZone) return 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return timeZone;
  } catch {
    return 'UTC';
  }
}
