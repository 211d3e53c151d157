import { describe, expect, it } from 'vitest';
import { buildSink, linkFor } from './build.ts';
import { eventsOf } from './events.ts';
import { routes } from './route.ts';
import type { Route } from './route.ts';
import { ESCALATION, FIRST, FIRST_FAILED, problemAt } from './fixtures.test-helper.ts';

describe('eventsOf', () => {
  it('tells the escalation as opened, committed, evaluated, escalated, committed, evaluated, resolved', () => {
    const last = ESCALATION.at(-1);
    const events = eventsOf(problemAt(last));
    expect(events.map((e) => [e.index, e.key, e.step, e.severity])).toEqual([
      [0, 'uid-1/opened', 'opened', 'warning'],
      [1, 'uid-1/1/committed', 'committed', 'info'],
      [2, 'uid-1/1/evaluated', 'evaluated', 'warning'],
      [3, 'uid-1/1/escalated', 'escalated', 'warning'],
      [4, 'uid-1/2/committed', 'committed', 'info'],
      [5, 'uid-1/2/evaluated', 'evaluated', 'info'],
      [6, 'uid-1/resolved', 'resolved', 'info'],
    ]);
    expect(events[1]?.summary).toBe('attempt 1 (scale +1) committed as aaaaaaa on production');
    expect(events[3]?.summary).toBe(
      'attempt 1 (scale +1) did not help: escalating to attempt 2 (featuretoggle EnablePromotion:off)',
    );
    expect(events[5]?.attempt).toMatchObject({ index: 2, result: 'pass', score: 100, commit: 'b'.repeat(40) });
    expect(events.every((e) => e.problem.phase === 'Resolved')).toBe(true);
  });

  it('only ever grows at the end as the status moves on (a count is a complete record)', () => {
    let before = eventsOf(problemAt(undefined));
    for (const status of ESCALATION) {
      const after = eventsOf(problemAt(status));
      expect(after.slice(0, before.length).map((e) => e.key)).toEqual(before.map((e) => e.key));
      expect(after.map((e) => e.time).slice(0, before.length)).toEqual(before.map((e) => e.time));
      before = after;
    }
    expect(before).toHaveLength(7);
  });

  it('tells the undo after resolve: resolved while Reverting, then reverted, keeping the resolution time', () => {
    const last = ESCALATION.at(-1);
    const resolvedTime = '2026-11-22T12:10:00.000Z';
    const waiting = {
      ...last,
      phase: 'Reverting' as const,
      revert: { state: 'Waiting' as const, resolvedTime, dueTime: '2026-11-22T13:10:00.000Z' },
    };
    const before = eventsOf(problemAt(waiting));
    expect(before.at(-1)).toMatchObject({ step: 'resolved', time: resolvedTime });
    for (const [phase, state, severity] of [
      ['Reverted', 'Reverted', 'info'],
      ['Resolved', 'Restored', 'error'],
      ['Resolved', 'Conflicted', 'warning'],
    ] as const) {
      const done = {
        ...waiting,
        phase,
        completionTime: '2026-11-22T13:15:00.000Z',
        revert: { ...waiting.revert, state, finishedTime: '2026-11-22T13:15:00.000Z', message: 'replicaCount 2 → 1' },
      };
      const after = eventsOf(problemAt(done));
      expect(after.slice(0, before.length).map((e) => [e.key, e.time])).toEqual(before.map((e) => [e.key, e.time]));
      expect(after.slice(before.length).map((e) => [e.key, e.step, e.severity])).toEqual([
        ['uid-1/reverted', 'reverted', severity],
      ]);
    }
  });

  it('says exhausted, not escalated, when the last action failed', () => {
    const events = eventsOf(
      problemAt({ phase: 'Exhausted', attempts: [FIRST_FAILED], completionTime: '2026-12-02T10:03:00Z' }),
    );
    expect(events.map((e) => e.step)).toEqual(['opened', 'committed', 'evaluated', 'exhausted']);
    expect(events.at(-1)).toMatchObject({ severity: 'error', time: '2026-12-02T10:03:00Z' });
  });

  it('puts an approval request before the commit and keeps credentials out of a webhook action', () => {
    const events = eventsOf(
      problemAt({
        phase: 'AwaitingApproval',
        attempts: [
          {
            index: 1,
            action: 'webhook',
            value: 'https://user:pw@runbooks.example/restart?token=s3cret',
            approval: { state: 'Pending', requestedTime: '2026-12-02T10:00:01Z', why: 'stage production is manual' },
          },
        ],
      }),
    );
    expect(events.map((e) => e.step)).toEqual(['opened', 'awaiting-approval']);
    expect(events[1]?.summary).toBe(
      'attempt 1 (webhook https://runbooks.example/restart) awaits approval: stage production is manual',
    );
    expect(JSON.stringify(events)).not.toContain('s3cret');
    expect(JSON.stringify(events)).not.toContain('pw@');
  });

  it('names an action outside Git as started, and an attempt failed without evaluation only as escalated', () => {
    const events = eventsOf(
      problemAt({
        phase: 'Remediating',
        attempts: [
          {
            index: 1,
            action: 'restart',
            value: '',
            result: 'fail',
            execution: { id: 'x', state: 'Failed', startedTime: '2026-12-02T10:00:02Z' },
          },
          { ...FIRST, index: 2 },
        ],
      }),
    );
    expect(events.map((e) => `${e.step}:${e.attempt?.index ?? '-'}`)).toEqual([
      'opened:-',
      'committed:1',
      'escalated:1',
      'committed:2',
    ]);
    expect(events[1]?.summary).toBe('attempt 1 (restart) started');
  });
});

describe('routes', () => {
  const [opened, committed, , escalated] = eventsOf(problemAt(ESCALATION.at(-1)));
  const table: [Route, boolean, boolean, boolean][] = [
    [{}, true, true, true],
    [{ projects: ['other'] }, false, false, false],
    [{ projects: ['sockshop'], stages: ['production'], services: ['carts'] }, true, true, true],
    [{ services: [] }, true, true, true],
    [{ stages: ['staging'] }, false, false, false],
    [{ steps: ['opened', 'escalated'] }, true, false, true],
    [{ minSeverity: 'warning' }, true, false, true],
    [{ minSeverity: 'error' }, false, false, false],
  ];
  it.each(table)('%j takes opened %s, committed %s, escalated %s', (route, o, c, e) => {
    expect([routes(route, opened!), routes(route, committed!), routes(route, escalated!)]).toEqual([o, c, e]);
  });
});

describe('buildSink', () => {
  const hosts = ['127.0.0.1'];
  it('needs a slack bot token and a channel from the Secret', () => {
    expect(buildSink({ sink: { type: 'slack', channel: 'C1' } }, {}, { allowedHosts: ['slack.com'] })).toMatchObject({
      ok: false,
      reason: 'SinkMisconfigured',
    });
    expect(
      buildSink({ sink: { type: 'slack', channel: 'C1' } }, { token: 'xoxb-1' }, { allowedHosts: ['slack.com'] }),
    ).toMatchObject({
      ok: true,
      sink: { type: 'slack' },
    });
  });

  it('takes the URL from the Secret over the spec (a Teams URL carries its signature)', () => {
    const built = buildSink({ sink: { type: 'teams' } }, undefined, { allowedHosts: hosts });
    expect(built).toMatchObject({ ok: false, reason: 'SinkMisconfigured' });
    expect(
      buildSink(
        { sink: { type: 'teams' } },
        { url: 'https://x.logic.azure.com/w?sig=1' },
        { allowedHosts: ['*.logic.azure.com'] },
      ),
    ).toMatchObject({
      ok: true,
    });
  });

  it('refuses a host that is not on --notification-allowed-hosts, naming only the host', () => {
    const built = buildSink(
      { sink: { type: 'teams' } },
      { url: 'https://evil.example/x?sig=abc' },
      { allowedHosts: hosts },
    );
    expect(built).toMatchObject({ ok: false, reason: 'SinkHostNotAllowed' });
    expect(JSON.stringify(built)).not.toContain('sig=abc');
    expect(JSON.stringify(built)).toContain('--notification-allowed-hosts');
    expect(
      buildSink({ sink: { type: 'slack', channel: 'C1' } }, { token: 'xoxb-1' }, { allowedHosts: [] }),
    ).toMatchObject({
      ok: false,
      reason: 'SinkHostNotAllowed',
    });
  });

  it('refuses a timeout that is not a duration', () => {
    expect(
      buildSink({ sink: { type: 'webhook', url: 'http://127.0.0.1/', timeout: 'soon' } }, undefined, {
        allowedHosts: hosts,
      }),
    ).toMatchObject({ ok: false, reason: 'SinkMisconfigured' });
  });

  it('fills the link template with the escaped namespace and name', () => {
    const [event] = eventsOf(problemAt(undefined));
    expect(linkFor('https://dash.example/p/{namespace}/{name}')(event!)).toBe(
      'https://dash.example/p/shop/carts-high-latency',
    );
  });
});
