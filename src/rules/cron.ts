// A small five-field cron reader and matcher for deny windows (minute hour day-of-month month
// day-of-week), read in an IANA time zone. Pure: no timers, so the loop can ask "did a window start
// within the last D?" of any instant. Supports `*`, lists, ranges, steps (`*/15`, `1-5/2`) and
// English names (`mon`, `jan`); day-of-month and day-of-week combine as in Vixie cron (either
// matches when both are restricted).

export interface CronSchedule {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly weekdays: ReadonlySet<number>;
  readonly daysRestricted: boolean;
  readonly weekdaysRestricted: boolean;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  // 7 is Sunday too, as in most crons.
  { name: 'day-of-week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

export class CronError extends Error {}

/** Parses `0 22 * * fri`; throws CronError naming the bad field. */
export function parseCron(text: string): CronSchedule {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5)
    throw new CronError(
      `"${text}" must have five fields (minute hour day-of-month month day-of-week), has ${parts.length}`,
    );
  const sets = parts.map((part, i) => parseField(part, FIELDS[i] as FieldSpec));
  const [minutes, hours, days, months, weekdaysRaw] = sets as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  const weekdays = new Set([...weekdaysRaw].map((d) => d % 7));
  return {
    minutes,
    hours,
    days,
    months,
    weekdays,
    daysRestricted: parts[2] !== '*',
    weekdaysRestricted: parts[4] !== '*',
  };
}

function parseField(text: string, spec: FieldSpec): Set<number> {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (range === undefined || range === '' || extra !== undefined)
      throw new CronError(`${spec.name} "${text}" is not a cron field`);
    const step = stepText === undefined ? 1 : toNumber(stepText, spec, false);
    if (step < 1) throw new CronError(`${spec.name} "${text}": a step must be at least 1`);
    let from: number;
    let to: number;
    if (range === '*') {
      from = spec.min;
      to = spec.max;
    } else {
      const [a, b, more] = range.split('-');
      if (a === undefined || more !== undefined) throw new CronError(`${spec.name} "${text}" is not a cron field`);
      from = toNumber(a, spec, true);
      to = b === undefined ? (stepText === undefined ? from : spec.max) : toNumber(b, spec, true);
      if (from > to) throw new CronError(`${spec.name} "${text}": range ${from}-${to} runs backwards`);
    }
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

function toNumber(text: string, spec: FieldSpec, bounded: boolean): number {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  const value = named >= 0 ? named + (spec.min === 1 ? 1 : 0) : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isNaN(value))
    throw new CronError(`${spec.name} "${text}" is not a number${spec.names ? ' or a name' : ''}`);
  if (bounded && (value < spec.min || value > spec.max))
    throw new CronError(`${spec.name} ${value} is outside ${spec.min}-${spec.max}`);
  return value;
}

/** The wall-clock fields of an instant in a time zone. */
export interface LocalTime {
  minute: number;
  hour: number;
  day: number;
  month: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws RangeError for a time zone the runtime does not know. */
export function localTime(t: Date, timeZone: string): LocalTime {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(t)) parts[p.type] = p.value;
  return {
    minute: Number(parts['minute']),
    hour: Number(parts['hour']),
    day: Number(parts['day']),
    month: Number(parts['month']),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts['weekday'] ?? ''),
  };
}

function dayMatches(s: CronSchedule, l: LocalTime): boolean {
  const byDay = s.days.has(l.day);
  const byWeekday = s.weekdays.has(l.weekday);
  if (s.daysRestricted && s.weekdaysRestricted) return byDay || byWeekday;
  return byDay && byWeekday;
}

const MINUTE_MS = 60_000;

/**
 * The latest minute at or before `t` (and after `t - lookbackMs`) at which the schedule fires, or
 * undefined. Walks back a minute at a time inside matching hours and skips whole hours otherwise,
 * so a week's look-back costs a few hundred steps.
 */
export function lastFiring(s: CronSchedule, t: Date, timeZone: string, lookbackMs: number): Date | undefined {
  const earliest = t.getTime() - lookbackMs;
  let cursor = Math.floor(t.getTime() / MINUTE_MS) * MINUTE_MS;
  while (cursor >= earliest) {
    const l = localTime(new Date(cursor), timeZone);
    if (!s.months.has(l.month) || !dayMatches(s, l) || !s.hours.has(l.hour)) {
      // To the last minute of the previous local hour.
      cursor -= (l.minute + 1) * MINUTE_MS;
      continue;
    }
    if (s.minutes.has(l.minute)) return new Date(cursor);
    cursor -= MINUTE_MS;
  }
  return undefined;
}

/**
 * The first minute after `t` (and at most `lookaheadMs` after it) at which the schedule fires, or
 * undefined: lastFiring's mirror, for `rebound plan`'s "the next deny window opens at".
 */
export function nextFiring(s: CronSchedule, t: Date, timeZone: string, lookaheadMs: number): Date | undefined {
  const latest = t.getTime() + lookaheadMs;
  let cursor = Math.floor(t.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  while (cursor <= latest) {
    const l = localTime(new Date(cursor), timeZone);
    if (!s.months.has(l.month) || !dayMatches(s, l) || !s.hours.has(l.hour)) {
      // To the first minute of the next local hour.
      cursor += (60 - l.minute) * MINUTE_MS;
      continue;
    }
    if (s.minutes.has(l.minute)) return new Date(cursor);
    cursor += MINUTE_MS;
  }
  return undefined;
}
