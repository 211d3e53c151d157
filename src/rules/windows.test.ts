import { describe, expect, it } from 'vitest';
import type { DenyWindow } from '../api/index.ts';
import { CronError, lastFiring, nextFiring, parseCron } from './cron.ts';
import { checkWindows, nextWindow, windowProblem } from './windows.ts';

describe('parseCron', () => {
  const bad: [string, RegExp][] = [
    ['* * * *', /five fields/],
    ['60 * * * *', /minute 60 is outside 0-59/],
    ['* 24 * * *', /hour 24/],
    ['* * 0 * *', /day-of-month 0/],
    ['* * * 13 *', /month 13/],
    ['* * * * 8', /day-of-week 8/],
    ['*/0 * * * *', /step must be at least 1/],
    ['5-1 * * * *', /runs backwards/],
    ['a * * * *', /not a number/],
    ['1,,2 * * * *', /not a cron field/],
    ['every friday', /five fields/],
  ];
  it.each(bad)('refuses %s', (text, message) => {
    expect(() => parseCron(text)).toThrow(CronError);
    expect(() => parseCron(text)).toThrow(message);
  });

  it('reads lists, ranges, steps and names; 7 is Sunday', () => {
    const s = parseCron('0,30 9-17/4 * jan-mar sun,7');
    expect([...s.minutes]).toEqual([0, 30]);
    expect([...s.hours]).toEqual([9, 13, 17]);
    expect([...s.months]).toEqual([1, 2, 3]);
    expect([...s.weekdays]).toEqual([0]);
  });
});

describe('lastFiring', () => {
  const cases: { name: string; cron: string; tz: string; at: string; lookback: string; want: string | undefined }[] = [
    {
      name: 'this very minute',
      cron: '0 22 * * *',
      tz: 'UTC',
      at: '2026-11-20T22:00:30Z',
      lookback: '1h',
      want: '2026-11-20T22:00:00.000Z',
    },
    {
      name: 'an hour ago',
      cron: '0 22 * * *',
      tz: 'UTC',
      at: '2026-11-20T23:00:00Z',
      lookback: '2h',
      want: '2026-11-20T22:00:00.000Z',
    },
    {
      name: 'outside the look-back',
      cron: '0 22 * * *',
      tz: 'UTC',
      at: '2026-11-20T23:00:00Z',
      lookback: '30m',
      want: undefined,
    },
    {
      name: 'friday 22:00 Berlin is 21:00 UTC in winter',
      cron: '0 22 * * fri',
      tz: 'Europe/Berlin',
      at: '2026-11-21T02:00:00Z',
      lookback: '48h',
      want: '2026-11-20T21:00:00.000Z',
    },
    {
      name: 'day-of-month or day-of-week when both are set',
      cron: '0 0 1 * mon',
      tz: 'UTC',
      at: '2026-11-24T12:00:00Z',
      lookback: '48h',
      want: '2026-11-23T00:00:00.000Z',
    },
    {
      name: 'a week back on a weekly schedule',
      cron: '30 8 * * wed',
      tz: 'UTC',
      at: '2026-11-24T12:00:00Z',
      lookback: '168h',
      want: '2026-11-18T08:30:00.000Z',
    },
  ];
  it.each(cases)('$name', ({ cron, tz, at, lookback, want }) => {
    const ms =
      { '1h': 3_600_000, '2h': 7_200_000, '30m': 1_800_000, '48h': 172_800_000, '168h': 604_800_000 }[lookback] ?? 0;
    expect(lastFiring(parseCron(cron), new Date(at), tz, ms)?.toISOString()).toBe(want);
  });
});

describe('checkWindows', () => {
  const friday: DenyWindow = { name: 'weekend', schedule: '0 18 * * fri', duration: '60h', timeZone: 'UTC' };
  const nightly: DenyWindow = { name: 'nightly', schedule: '0 1 * * *', duration: '2h', stages: ['production'] };
  const overlap: DenyWindow = { name: 'release', schedule: '0 5 * * mon', duration: '4h' };
  const cases: { name: string; windows: DenyWindow[]; stage: string; at: string; want: unknown }[] = [
    { name: 'no windows', windows: [], stage: 'production', at: '2026-11-21T12:00:00Z', want: { kind: 'open' } },
    {
      name: 'inside the weekend freeze',
      windows: [friday],
      stage: 'production',
      at: '2026-11-21T12:00:00Z',
      want: {
        kind: 'denied',
        window: 'weekend',
        until: new Date('2026-11-23T06:00:00Z'),
        started: new Date('2026-11-20T18:00:00Z'),
      },
    },
    { name: 'after it', windows: [friday], stage: 'production', at: '2026-11-23T06:00:00Z', want: { kind: 'open' } },
    {
      name: 'a stage the window does not cover',
      windows: [nightly],
      stage: 'staging',
      at: '2026-11-21T01:30:00Z',
      want: { kind: 'open' },
    },
    {
      name: 'a stage it covers',
      windows: [nightly],
      stage: 'production',
      at: '2026-11-21T01:30:00Z',
      want: {
        kind: 'denied',
        window: 'nightly',
        until: new Date('2026-11-21T03:00:00Z'),
        started: new Date('2026-11-21T01:00:00Z'),
      },
    },
    {
      name: 'overlapping windows: held until the later end',
      windows: [friday, overlap],
      stage: 'production',
      at: '2026-11-23T05:30:00Z',
      want: {
        kind: 'denied',
        window: 'weekend',
        until: new Date('2026-11-23T09:00:00Z'),
        started: new Date('2026-11-20T18:00:00Z'),
      },
    },
    {
      name: 'malformed schedule fails closed',
      windows: [{ name: 'bad', schedule: '0 25 * * *', duration: '1h' }],
      stage: 'production',
      at: '2026-11-21T12:00:00Z',
      want: { kind: 'invalid', window: 'bad', message: 'deny window bad: schedule: hour 25 is outside 0-23' },
    },
    {
      name: 'unknown time zone fails closed',
      windows: [{ name: 'tz', schedule: '0 1 * * *', duration: '1h', timeZone: 'Mars/Olympus' }],
      stage: 'production',
      at: '2026-11-21T12:00:00Z',
      want: {
        kind: 'invalid',
        window: 'tz',
        message: 'deny window tz: timeZone "Mars/Olympus" is not an IANA time zone',
      },
    },
    {
      name: 'a window longer than a week fails closed',
      windows: [{ name: 'long', schedule: '0 1 * * *', duration: '200h' }],
      stage: 'production',
      at: '2026-11-21T12:00:00Z',
      want: { kind: 'invalid', window: 'long', message: 'deny window long: duration 200h is longer than a week' },
    },
  ];
  it.each(cases)('$name', ({ windows, stage, at, want }) => {
    expect(checkWindows(windows, stage, new Date(at))).toEqual(want);
  });

  it('accepts a sound window', () => {
    expect(windowProblem(friday)).toBeUndefined();
    expect(windowProblem({ name: 'zero', schedule: '* * * * *', duration: '0s' })).toBe(
      'duration must be longer than 0',
    );
  });
});

describe('nextFiring and nextWindow', () => {
  it.each([
    { cron: '0 22 * * fri', tz: 'UTC', at: '2026-11-20T22:00:30Z', want: '2026-11-27T22:00:00.000Z' },
    { cron: '0 22 * * fri', tz: 'UTC', at: '2026-11-20T21:59:00Z', want: '2026-11-20T22:00:00.000Z' },
    { cron: '30 8 * * *', tz: 'Asia/Kolkata', at: '2026-11-20T00:00:00Z', want: '2026-11-20T03:00:00.000Z' },
    { cron: '0 0 1 jan *', tz: 'UTC', at: '2026-11-20T00:00:00Z', want: undefined },
  ])('$cron in $tz after $at', ({ cron, tz, at, want }) => {
    expect(nextFiring(parseCron(cron), new Date(at), tz, 7 * 24 * 3_600_000)?.toISOString()).toBe(want);
  });

  const windows: DenyWindow[] = [
    { name: 'friday', schedule: '0 18 * * fri', duration: '64h', timeZone: 'Europe/Berlin' },
    { name: 'nightly', schedule: '0 2 * * *', duration: '1h', stages: ['staging'] },
  ];
  it('the first window covering the stage that opens next, and when it closes', () => {
    expect(nextWindow(windows, 'production', new Date('2026-11-18T12:00:00Z'))).toEqual({
      window: 'friday',
      opens: new Date('2026-11-20T17:00:00Z'),
      closes: new Date('2026-11-23T09:00:00Z'),
    });
    expect(nextWindow(windows, 'staging', new Date('2026-11-18T12:00:00Z'))?.window).toBe('nightly');
    expect(nextWindow([], 'production', new Date('2026-11-18T12:00:00Z'))).toBeUndefined();
  });
});
