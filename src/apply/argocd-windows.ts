// Argo CD's sync windows, read without I/O: does an AppProject's window keep Argo CD from syncing an
// Application now? With automated sync, Argo CD says nothing when a window denies (it logs "Sync
// prevented by sync window" and leaves the Application OutOfSync), so Rebound works it out from the
// AppProject the way the application-controller does (v3.2 `SyncWindows.Matches` and `CanSync(false)`):
// a window is active when its cron schedule fired within the last `duration`; an active deny window
// denies; otherwise, allow windows that exist but are all inactive deny too.

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

/** Active now: the schedule fired at a minute in (now - duration, now]. */
export function isActive(w: SyncWindow, now: Date): boolean | 'invalid' {
  const schedule = parseCron(w.schedule ?? '');
  const duration = parseGoDuration(w.duration ?? '');
  if (!schedule || duration === undefined) return 'invalid';
  const offset = zoneOffsetMs(w.timeZone, now);
  // Argo CD: schedule.Next(now + offset - duration) is before now + offset. Next is the first whole
  // minute strictly after its argument.
  const local = now.getTime() + offset;
  const from = Math.floor((local - duration) / 60_000) * 60_000 + 60_000;
  // A window longer than a year fires within it or never: a year of minutes is the bound.
  const last = Math.min(local, from + 366 * 24 * 60 * 60_000);
  for (let t = from; t < last; t += 60_000) if (cronMatches(schedule, new Date(t))) return true;
  return false;
}

interface Cron {
  minute: Set<number>;
  hour: Set<number>;
  dom: Set<number>;
  month: Set<number>;
  dow: Set<number>;
  domStar: boolean;
  dowStar: boolean;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** robfig/cron's standard five fields (names, ranges, steps, lists, `?`), or undefined. */
export function parseCron(spec: string): Cron | undefined {
  const fields = (DESCRIPTORS[spec.trim().toLowerCase()] ?? spec).trim().split(/\s+/);
  if (fields.length !== 5) return undefined;
  const [mi = '', h = '', dom = '', mo = '', dow = ''] = fields;
  const minute = parseField(mi, 0, 59);
  const hour = parseField(h, 0, 23);
  const days = parseField(dom, 1, 31);
  const month = parseField(mo, 1, 12, MONTHS, 1);
  const weekdays = parseField(dow, 0, 7, DAYS, 0);
  if (!minute || !hour || !days || !month || !weekdays) return undefined;
  if (weekdays.has(7)) weekdays.add(0);
  return {
    minute,
    hour,
    dom: days,
    month,
    dow: weekdays,
    domStar: dom === '*' || dom === '?',
    dowStar: dow === '*' || dow === '?',
  };
}

function parseField(field: string, min: number, max: number, names: string[] = [], base = 0): Set<number> | undefined {
  const out = new Set<number>();
  const value = (s: string): number | undefined => {
    const named = names.indexOf(s.toLowerCase());
    if (named >= 0) return named + base;
    return /^\d+$/.test(s) ? Number(s) : undefined;
  };
  for (const part of field.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : /^\d+$/.test(stepText) ? Number(stepText) : 0;
    if (step < 1) return undefined;
    let lo: number | undefined;
    let hi: number | undefined;
    if (range === '*' || range === '?') [lo, hi] = [min, max];
    else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      [lo, hi] = [value(a), value(b)];
    } else {
      lo = value(range);
      hi = stepText === undefined ? lo : max;
    }
    if (lo === undefined || hi === undefined || lo < min || hi > max || lo > hi) return undefined;
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

function cronMatches(c: Cron, t: Date): boolean {
  if (!c.minute.has(t.getUTCMinutes()) || !c.hour.has(t.getUTCHours()) || !c.month.has(t.getUTCMonth() + 1))
    return false;
  const dom = c.dom.has(t.getUTCDate());
  const dow = c.dow.has(t.getUTCDay());
  // robfig/cron: when either day field is a star, both must match; otherwise either may.
  return c.domStar || c.dowStar ? dom && dow : dom || dow;
}

/** Go's time.ParseDuration for what windows use: `1h`, `30m`, `1h30m`, `90s`, in ms. */
export function parseGoDuration(text: string): number | undefined {
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, n = '0', u = 's'] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(n) * (unit[u] ?? 0);
  return total;
}

/** The zone's offset from UTC now, in ms (Argo CD takes today's offset too); UTC when unset. */
function zoneOffsetMs(zone: string | undefined, now: Date): number {
  if (!zone || zone === 'UTC') return 0;
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
      .formatToParts(now)
      .find((p) => p.type === 'timeZoneName')?.value;
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
    if (!m) return 0;
    return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3_600_000 + Number(m[3]) * 60_000);
  } catch {
    // Argo CD falls back to UTC on an unknown zone.
    return 0;
  }
}
