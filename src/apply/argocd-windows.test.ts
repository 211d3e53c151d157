import { describe, expect, it } from 'vitest';
import { globMatch, isActive, parseGoDuration, windowDenies, windowMatches } from './argocd-windows.ts';
import type { AppProject, SyncWindow } from './argocd-windows.ts';

const APP = { name: 'carts-production', destination: { server: 'https://kubernetes.default.svc', namespace: 'prod' } };
const at = (iso: string): Date => new Date(iso);
const project = (...syncWindows: SyncWindow[]): AppProject => ({
  metadata: { name: 'shop', namespace: 'argocd' },
  spec: { syncWindows },
});

describe('windowDenies', () => {
  const nightly: SyncWindow = { kind: 'deny', schedule: '0 22 * * *', duration: '8h', applications: ['carts-*'] };

  it('denies while a deny window that matches the Application is active, naming it', () => {
    expect(windowDenies(project(nightly), APP, at('2026-12-03T23:30:00Z'))).toEqual({
      message: "a deny sync window of AppProject shop is active: deny '0 22 * * *' for 8h",
    });
    // The window runs from 22:00 for 8 hours: 06:00 is already outside it.
    expect(windowDenies(project(nightly), APP, at('2026-12-03T05:59:00Z'))).toBeDefined();
    expect(windowDenies(project(nightly), APP, at('2026-12-03T06:00:00Z'))).toBeUndefined();
    expect(windowDenies(project(nightly), APP, at('2026-12-03T21:59:59Z'))).toBeUndefined();
  });

  it('lets a window that does not match the Application be', () => {
    const other = { ...nightly, applications: ['orders-*'] };
    expect(windowDenies(project(other), APP, at('2026-12-03T23:30:00Z'))).toBeUndefined();
  });

  it('denies outside every allow window, and an active allow window lets it sync', () => {
    const office: SyncWindow = { kind: 'allow', schedule: '0 9 * * 1-5', duration: '8h', namespaces: ['prod'] };
    // Thursday 12:00 UTC: inside; Saturday: outside.
    expect(windowDenies(project(office), APP, at('2026-12-03T12:00:00Z'))).toBeUndefined();
    expect(windowDenies(project(office), APP, at('2026-12-05T12:00:00Z'))?.message).toBe(
      "AppProject shop allows syncs only in its sync windows, none active now: allow '0 9 * * 1-5' for 8h",
    );
  });

  it('denies on a window Argo CD cannot parse, as Argo CD does', () => {
    const broken: SyncWindow = { kind: 'deny', schedule: 'every day', duration: '1h', applications: ['*'] };
    expect(windowDenies(project(broken), APP, at('2026-12-03T12:00:00Z'))?.message).toMatch(/cannot parse/);
  });

  it('reads the schedule in the window time zone', () => {
    const berlin: SyncWindow = { ...nightly, timeZone: 'Europe/Berlin' };
    // 21:30 UTC is 22:30 in Berlin in December.
    expect(windowDenies(project(berlin), APP, at('2026-12-03T21:30:00Z'))).toBeDefined();
    expect(windowDenies(project(nightly), APP, at('2026-12-03T21:30:00Z'))).toBeUndefined();
  });
});

describe('windowMatches', () => {
  it('matches by application, cluster or namespace; with andOperator by all that are set', () => {
    expect(windowMatches({ applications: ['carts-*'] }, APP)).toBe(true);
    expect(windowMatches({ clusters: ['https://kubernetes.default.svc'] }, APP)).toBe(true);
    expect(windowMatches({ namespaces: ['prod', 'staging'] }, APP)).toBe(true);
    expect(windowMatches({ applications: ['orders'], namespaces: ['prod'] }, APP)).toBe(true);
    expect(windowMatches({ applications: ['orders'], namespaces: ['prod'], andOperator: true }, APP)).toBe(false);
    expect(windowMatches({}, APP)).toBe(false);
  });
});

describe('the pieces', () => {
  it('globs like gobwas/glob', () => {
    expect(globMatch('carts-*', 'carts-production')).toBe(true);
    expect(globMatch('{carts,orders}-production', 'orders-production')).toBe(true);
    expect(globMatch('carts-?', 'carts-ab')).toBe(false);
    expect(globMatch('a.b', 'axb')).toBe(false);
  });

  it('parses Go durations; a schedule or duration it cannot read makes the window invalid', () => {
    expect(isActive({ schedule: '61 * * * *', duration: '1h' }, at('2026-12-03T12:00:00Z'))).toBe('invalid');
    expect(isActive({ schedule: '* * *', duration: '1h' }, at('2026-12-03T12:00:00Z'))).toBe('invalid');
    expect(isActive({ schedule: '* * * * *', duration: 'an hour' }, at('2026-12-03T12:00:00Z'))).toBe('invalid');
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
    expect(parseGoDuration('90s')).toBe(90_000);
    expect(parseGoDuration('1 hour')).toBeUndefined();
  });

  it('is active when the schedule fired within the last duration', () => {
    const everyMinute: SyncWindow = { schedule: '* * * * *', duration: '1h' };
    expect(isActive(everyMinute, at('2026-12-03T12:00:30Z'))).toBe(true);
    // Fired at 12:00, one minute long: 12:00:59 inside, 12:01:00 is the next firing.
    const noon: SyncWindow = { schedule: '0 12 * * *', duration: '1m' };
    expect(isActive(noon, at('2026-12-03T12:00:59Z'))).toBe(true);
    expect(isActive(noon, at('2026-12-03T12:01:00Z'))).toBe(false);
    expect(isActive(noon, at('2026-12-03T11:59:59Z'))).toBe(false);
    // Day of month or day of week when both are restricted (robfig/cron).
    const either: SyncWindow = { schedule: '0 0 1 * 1', duration: '1h' };
    expect(isActive(either, at('2026-12-07T00:30:00Z'))).toBe(true); // a Monday
    expect(isActive(either, at('2026-12-01T00:30:00Z'))).toBe(true); // the 1st
    expect(isActive(either, at('2026-12-02T00:30:00Z'))).toBe(false);
  });
});
