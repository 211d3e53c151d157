import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { FakeClock, flushMicrotasks } from './clock.ts';
import { LeaderElector, LeadershipLost, type LeaseRecord, type LeaseStore } from './leader-election.ts';

/** One Lease with optimistic concurrency, as the API server keeps it. */
class MemoryLease {
  record: LeaseRecord | undefined;
  rv = 0;
  writes = 0;

  storeFor(): LeaseStore & { down: boolean } {
    return storeFor(this);
  }

  write(record: LeaseRecord): string {
    this.record = { ...record };
    this.rv++;
    this.writes++;
    return String(this.rv);
  }
}

function storeFor(lease: MemoryLease): LeaseStore & { down: boolean } {
  return {
    down: false,
    get() {
      if (this.down) return Promise.reject(new Error('connection refused'));
      return Promise.resolve(
        lease.record ? { record: { ...lease.record }, resourceVersion: String(lease.rv) } : undefined,
      );
    },
    create(record) {
      if (this.down) return Promise.reject(new Error('connection refused'));
      if (lease.record) return Promise.reject(new Error('409 AlreadyExists'));
      return Promise.resolve(lease.write(record));
    },
    update(record, resourceVersion) {
      if (this.down) return Promise.reject(new Error('connection refused'));
      if (resourceVersion !== String(lease.rv)) return Promise.reject(new Error('409 Conflict'));
      return Promise.resolve(lease.write(record));
    },
  };
}

function candidate(clock: FakeClock, lease: MemoryLease, identity: string) {
  const store = lease.storeFor();
  const events: string[] = [];
  const elector = new LeaderElector({
    identity,
    store,
    clock,
    log: createLogger({ level: 'silent' }),
    leaseDurationMs: 3_000,
    renewDeadlineMs: 2_000,
    retryPeriodMs: 500,
    random: () => 0,
  });
  const abort = new AbortController();
  let outcome: string | undefined;
  const done = elector
    .run(abort.signal, {
      onStartedLeading: () => events.push('started'),
      onStoppedLeading: () => events.push('stopped'),
    })
    .then((o) => (outcome = o));
  return { elector, store, events, abort, done, outcome: () => outcome };
}

describe('LeaderElector', () => {
  it('lets exactly one of two candidates lead and keeps renewing', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate(clock, lease, 'a');
    const b = candidate(clock, lease, 'b');
    await flushMicrotasks();
    await clock.advance(10_000);
    expect(a.events).toEqual(['started']);
    expect(b.events).toEqual([]);
    expect(lease.record?.holderIdentity).toBe('a');
    expect(lease.record?.leaseTransitions).toBe(0);
    expect(lease.record?.renewTime?.getTime()).toBeGreaterThan(clock.now() - 1_000);
    expect(a.elector.status()).toEqual({ known: true, leading: true, holder: 'a' });
    expect(b.elector.status()).toEqual({ known: true, leading: false, holder: 'a' });
    a.abort.abort();
    b.abort.abort();
  });

  it('hands over after the leader stops renewing (crash), once the lease has expired', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate(clock, lease, 'a');
    await flushMicrotasks();
    const b = candidate(clock, lease, 'b');
    await clock.advance(1_000);
    expect(a.events).toEqual(['started']);
    a.store.down = true; // a can no longer reach the API: it stops renewing
    const crashedAt = clock.now();
    await clock.advance(2_500);
    expect(a.events).toEqual(['started', 'stopped']); // gave up after renewDeadline
    expect(a.outcome()).toBe('lost');
    await clock.advance(2_000);
    expect(b.events).toEqual(['started']);
    expect(lease.record?.holderIdentity).toBe('b');
    expect(lease.record?.leaseTransitions).toBe(1);
    // b took over no sooner than one lease duration after a's last renewal
    expect(lease.record?.acquireTime?.getTime()).toBeGreaterThanOrEqual(crashedAt + 3_000 - 500);
    b.abort.abort();
  });

  it('releases the lease on shutdown so the other candidate takes over at its next try', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate(clock, lease, 'a');
    await flushMicrotasks();
    const b = candidate(clock, lease, 'b');
    await clock.advance(1_000);
    a.abort.abort();
    await a.done;
    await a.elector.release();
    expect(a.outcome()).toBe('stopped');
    expect(lease.record?.holderIdentity).toBe('');
    await clock.advance(500);
    expect(b.events).toEqual(['started']);
    expect(lease.record?.holderIdentity).toBe('b');
    b.abort.abort();
  });

  it('rejects timings where a leader could outlive its lease', () => {
    const lease = new MemoryLease();
    const options = {
      identity: 'x',
      store: lease.storeFor(),
      clock: new FakeClock(),
      log: createLogger({ level: 'silent' }),
    };
    expect(() => new LeaderElector({ ...options, leaseDurationMs: 2_000, renewDeadlineMs: 2_000 })).toThrow(
      /renewDeadline/,
    );
    expect(() => new LeaderElector({ ...options, renewDeadlineMs: 1_000, retryPeriodMs: 1_000 })).toThrow(
      /retryPeriod/,
    );
  });

  it('stops leading at the renew deadline even while a renewal hangs (API server restarting gracefully)', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate(clock, lease, 'a');
    await flushMicrotasks();
    await clock.advance(1_000);
    expect(a.events).toEqual(['started']);
    // Every request now hangs: no error, no answer.
    a.store.get = () => new Promise(() => {});
    await clock.advance(1_999);
    expect(a.events).toEqual(['started']);
    await clock.advance(1);
    expect(a.events).toEqual(['started', 'stopped']);
    expect(a.outcome()).toBe('lost');
    expect(a.elector.isLeading()).toBe(false);
  });

  it('hands its work a signal that aborts with LeadershipLost, and knows it lost the lease before any timer runs', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const store = lease.storeFor();
    const elector = new LeaderElector({
      identity: 'a',
      store,
      clock,
      log: createLogger({ level: 'silent' }),
      leaseDurationMs: 3_000,
      renewDeadlineMs: 2_000,
      retryPeriodMs: 500,
      random: () => 0,
    });
    let term: AbortSignal | undefined;
    const abort = new AbortController();
    const done = elector.run(abort.signal, { onStartedLeading: (s) => (term = s), onStoppedLeading: () => {} });
    await clock.advance(0);
    expect(elector.isLeading()).toBe(true);
    // A paused process: its clock jumps past the deadline before its timers have run.
    (clock as unknown as { now: () => number }).now = (
      (base) => () =>
        base + 5_000
    )(clock.now());
    expect(elector.isLeading()).toBe(false);
    expect(term?.aborted).toBe(true);
    expect(term?.reason).toBeInstanceOf(LeadershipLost);
    abort.abort();
    expect(await done).toBe('lost');
  });
});
