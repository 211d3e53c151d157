import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Condition, Notification, NotificationStatus, ProblemEvent } from '../../api/index.ts';
import { Notifier } from '../../notify/notifier.ts';
import { ESCALATION, problemAt } from '../../notify/fixtures.test-helper.ts';
import { FakeClock } from '../../runtime/clock.ts';
import { MAX_DELIVERIES, NotificationReconciler, persistable } from './reconciler.ts';

const KEY = 'shop/oncall';

function notification(sink: Notification['spec']['sink'], status?: NotificationStatus): Notification {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Notification',
    metadata: { namespace: 'shop', name: 'oncall', generation: 1, creationTimestamp: new Date('2026-12-01T00:00:00Z') },
    spec: { sink },
    ...(status ? { status } : {}),
  };
}

function world(n: Notification, secrets: Record<string, Record<string, string>> = {}, problems: ProblemEvent[] = []) {
  const clock = new FakeClock();
  const written: NotificationStatus[] = [];
  const notifier = new Notifier({
    clock,
    capacity: 10,
    retryInitialMs: 1000,
    retryMaxMs: 10_000,
    onChange: () => undefined,
  });
  const reconciler = new NotificationReconciler({
    clock,
    cache: { get: (key) => (key === KEY ? n : undefined) },
    problems: { list: () => problems },
    secrets: { readSecret: (_ns, name) => Promise.resolve(secrets[name]) },
    notifier,
    writer: {
      patchStatus: (_n, status) => {
        written.push(status);
        n.status = status;
        return Promise.resolve();
      },
    },
    allowedHosts: ['127.0.0.1', 'slack.com'],
    refreshMs: 60_000,
  });
  const ctx = { log: pino({ level: 'silent' }), reconcileId: '1', signal: new AbortController().signal };
  return { notifier, written, reconcile: () => reconciler.reconcile(KEY, ctx) };
}

const ready = (s: NotificationStatus | undefined): Condition | undefined =>
  s?.conditions?.find((c) => c.type === 'Ready');
const stalled = (s: NotificationStatus | undefined): Condition | undefined =>
  s?.conditions?.find((c) => c.type === 'Stalled');

describe('NotificationReconciler', () => {
  it('stalls on a Secret that does not exist, naming it, and builds no queue', async () => {
    const w = world(notification({ type: 'slack', channel: 'C1', secretRef: { name: 'slack-bot' } }));
    expect(await w.reconcile()).toEqual({ requeueAfterMs: 60_000 });
    expect(ready(w.written[0])).toMatchObject({
      status: 'False',
      reason: 'SecretNotFound',
      message: 'Secret shop/slack-bot does not exist',
    });
    expect(stalled(w.written[0])).toMatchObject({ status: 'True', reason: 'SecretNotFound' });
    expect(w.notifier.has(KEY)).toBe(false);
  });

  it('stalls on a Secret without the key the sink needs, and on a host not allowed', async () => {
    const w = world(notification({ type: 'slack', channel: 'C1', secretRef: { name: 'slack-bot' } }), {
      'slack-bot': { tokn: 'x' },
    });
    await w.reconcile();
    expect(ready(w.written[0])).toMatchObject({ status: 'False', reason: 'SinkMisconfigured' });
    const h = world(notification({ type: 'webhook', url: 'http://10.0.0.1/hook' }));
    await h.reconcile();
    expect(ready(h.written[0])).toMatchObject({ status: 'False', reason: 'SinkHostNotAllowed' });
  });

  it('hands the sink to the notifier, which takes every cached problem, and says Delivering', async () => {
    const problems = [problemAt(ESCALATION.at(-1))];
    problems[0]!.metadata.creationTimestamp = new Date('2026-12-02T10:00:00Z');
    const w = world(
      notification({ type: 'webhook', url: 'http://127.0.0.1:1/hook', secretRef: { name: 'hook' } }),
      { hook: { secret: 'k3y-value' } },
      problems,
    );
    await w.reconcile();
    expect(w.notifier.has(KEY)).toBe(true);
    expect(w.notifier.health(KEY)).toMatchObject({ pending: 1, failing: false });
    expect(ready(w.written.at(-1))).toMatchObject({
      status: 'True',
      reason: 'Delivering',
      message: '1 problem(s) waiting',
    });
    expect(JSON.stringify(w.written)).not.toContain('k3y-value');
    // Nothing changed: no second write.
    await w.reconcile();
    expect(w.written).toHaveLength(1);
  });

  it('stops the queue while suspended and keeps the progress', async () => {
    const deliveries = [{ problem: 'p', uid: 'u', delivered: 3 }];
    const w = world(notification({ type: 'webhook', url: 'http://127.0.0.1:1/hook' }, { deliveries }));
    await w.reconcile();
    expect(w.notifier.has(KEY)).toBe(true);
    const n = notification({ type: 'webhook', url: 'http://127.0.0.1:1/hook' }, w.written.at(-1));
    n.spec.suspend = true;
    const s = world(n);
    await s.reconcile();
    expect(s.notifier.has(KEY)).toBe(false);
    expect(ready(s.written[0])).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(stalled(s.written[0])?.status).toBe('False');
  });
});

describe('persistable', () => {
  const problem = (uid: string, created: string, phase?: 'Resolved'): ProblemEvent => {
    const p = problemAt(phase ? { phase } : undefined);
    p.metadata.uid = uid;
    p.metadata.creationTimestamp = new Date(created);
    return p;
  };

  it('drops the entries of problems that are gone', () => {
    const out = persistable(
      [
        { problem: 'a', uid: 'a', delivered: 1 },
        { problem: 'b', uid: 'b', delivered: 2 },
      ],
      [problem('b', '2026-12-02T10:00:00Z')],
      undefined,
    );
    expect(out).toEqual({ deliveries: [{ problem: 'b', uid: 'b', delivered: 2 }] });
  });

  it('past the limit drops the oldest finished problems and moves the horizon past them', () => {
    const count = MAX_DELIVERIES + 2;
    const problems = Array.from({ length: count }, (_, i) =>
      problem(`u${i}`, new Date(Date.UTC(2026, 11, 2, 0, 0, i)).toISOString(), i < 5 ? 'Resolved' : undefined),
    );
    const deliveries = problems.map((p) => ({ problem: 'x', uid: p.metadata.uid ?? '', delivered: 1 }));
    const out = persistable(deliveries, problems, undefined);
    expect(out.deliveries).toHaveLength(MAX_DELIVERIES);
    expect(out.deliveries.map((d) => d.uid).slice(0, 3)).toEqual(['u2', 'u3', 'u4']);
    expect(out.horizon).toBe('2026-12-02T00:00:01.001Z');
  });
});
