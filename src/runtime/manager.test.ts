import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { FakeClock, flushMicrotasks } from './clock.ts';
import { LeaderElector, type LeaseRecord, type LeaseStore } from './leader-election.ts';
import { Manager, type Runnable } from './manager.ts';

const log = createLogger({ level: 'silent' });

function waiter(name: string, needsLeaderElection: boolean, journal: string[], drainMs = 0): Runnable {
  return {
    name,
    needsLeaderElection,
    async start(signal) {
      journal.push(`${name} started`);
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
      journal.push(`${name} stopped`);
    },
  };
}

describe('Manager', () => {
  it('without leader election runs everything, and stops leader work before shared runnables', async () => {
    const journal: string[] = [];
    const manager = new Manager({ log });
    manager.add(waiter('informer', false, journal));
    manager.add(waiter('controller', true, journal, 20));
    const abort = new AbortController();
    const exit = manager.start(abort.signal);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(journal.sort()).toEqual(['controller started', 'informer started']);
    journal.length = 0;
    abort.abort();
    expect(await exit).toBe('stopped');
    expect(journal).toEqual(['controller stopped', 'informer stopped']);
  });

  it('stops everything when one runnable fails', async () => {
    const journal: string[] = [];
    const manager = new Manager({ log });
    manager.add(waiter('informer', false, journal));
    manager.add({ name: 'webhook', needsLeaderElection: false, start: () => Promise.reject(new Error('EADDRINUSE')) });
    expect(await manager.start(new AbortController().signal)).toBe('runnable-failed');
    expect(journal).toEqual(['informer started', 'informer stopped']);
  });

  it('reports readiness per informer until each has synced', () => {
    const manager = new Manager({ log });
    let synced = false;
    manager.addSyncSource({ name: 'problemevents', hasSynced: () => synced });
    const [check] = manager.readinessChecks();
    expect(check?.name).toBe('informer:problemevents');
    expect(check?.check()).toEqual({ ok: false, reason: 'initial list not loaded' });
    synced = true;
    expect(check?.check()).toEqual({ ok: true });
  });

  it('refuses runnables added after start', async () => {
    const manager = new Manager({ log });
    const abort = new AbortController();
    abort.abort();
    await manager.start(abort.signal);
    expect(() => manager.add(waiter('late', false, []))).toThrow(/after start/);
  });

  it('after losing the lease stops its leader work, keeps running, and leads again once it can', async () => {
    const clock = new FakeClock();
    let record: { record: LeaseRecord; resourceVersion: string } | undefined;
    let rv = 0;
    let down = false;
    const write = (r: LeaseRecord): Promise<string> => {
      if (down) return Promise.reject(new Error('connection refused'));
      rv += 1;
      record = { record: r, resourceVersion: String(rv) };
      return Promise.resolve(String(rv));
    };
    const store: LeaseStore = {
      get: () => (down ? Promise.reject(new Error('connection refused')) : Promise.resolve(record)),
      create: write,
      update: write,
    };
    const elector = new LeaderElector({
      identity: 'a',
      store,
      clock,
      log,
      leaseDurationMs: 3_000,
      renewDeadlineMs: 2_000,
      retryPeriodMs: 500,
      random: () => 0,
    });
    const journal: string[] = [];
    const manager = new Manager({ log, leaderElector: elector, gracefulShutdownMs: 1_000 });
    manager.add(waiter('informer', false, journal));
    manager.add(waiter('controller', true, journal));
    const abort = new AbortController();
    let exited = false;
    const exit = manager.start(abort.signal).finally(() => (exited = true));
    await flushMicrotasks();
    expect(journal.sort()).toEqual(['controller started', 'informer started']);
    journal.length = 0;
    // The API server restarts for longer than the renew deadline.
    down = true;
    await clock.advance(2_500);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(journal).toEqual(['controller stopped']);
    expect(exited).toBe(false);
    // Back: the same replica campaigns and leads again.
    down = false;
    await clock.advance(1_000);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(journal).toEqual(['controller stopped', 'controller started']);
    abort.abort();
    expect(await exit).toBe('stopped');
  });
});
