// Leader election over a real coordination.k8s.io/v1 Lease: two candidates (and two managers)
// against one kube-apiserver; exactly one leads; when it releases or crashes, the other takes over.
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeLeaseStore } from '../../src/kube/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { LeaderElector, LeadershipLost } from '../../src/runtime/leader-election.ts';
import { Manager, type ManagerExit } from '../../src/runtime/manager.ts';
import { ChaosProxy, adminKubeConfig, eventually, freshNamespace } from './runtime-helpers.ts';

const cluster = inject('cluster');
const log = createLogger({ level: process.env.REBOUND_TEST_LOG === '1' ? 'debug' : 'silent' });
const kc = adminKubeConfig(cluster.kubeconfigPath);
const cleanups: (() => Promise<void> | void)[] = [];
let ns: string;

// Short timings so the tests run in seconds; the ratios are client-go's defaults (15/10/2).
const TIMING = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 400 };

beforeAll(async () => {
  ns = await freshNamespace(kc, 'leader');
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Candidate {
  elector: LeaderElector;
  leading: () => boolean;
  history: string[];
  stop: () => Promise<'stopped' | 'lost'>;
}

function candidate(identity: string, leaseName: string, server?: string): Candidate {
  const elector = new LeaderElector({
    identity,
    store: kubeLeaseStore(adminKubeConfig(cluster.kubeconfigPath, server), { namespace: ns, name: leaseName }),
    clock: systemClock,
    log,
    ...TIMING,
  });
  let leading = false;
  const history: string[] = [];
  const abort = new AbortController();
  const running = elector.run(abort.signal, {
    onStartedLeading: () => {
      leading = true;
      history.push('started');
    },
    onStoppedLeading: () => {
      leading = false;
      history.push('stopped');
    },
  });
  const stop = async (): Promise<'stopped' | 'lost'> => {
    abort.abort();
    return running;
  };
  cleanups.push(async () => {
    await stop();
  });
  return { elector, leading: () => leading, history, stop };
}

async function readLease(name: string) {
  return kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: ns, name });
}

describe('LeaderElector (real Lease)', () => {
  it('lets exactly one of two candidates lead, and keeps the Lease renewed', async () => {
    const a = candidate('replica-a', 'one-leader');
    const b = candidate('replica-b', 'one-leader');
    const leader = await eventually('a leader', () => (a.leading() ? a : b.leading() ? b : undefined));
    const follower = leader === a ? b : a;
    // Watch for a while: never two leaders at once.
    const until = Date.now() + 2 * TIMING.leaseDurationMs;
    while (Date.now() < until) {
      expect(a.leading() && b.leading()).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(leader.leading()).toBe(true);
    expect(follower.history).toEqual([]);
    expect(follower.elector.status()).toMatchObject({ known: true, leading: false, holder: leader.elector.identity });

    const lease = await readLease('one-leader');
    expect(lease.spec?.holderIdentity).toBe(leader.elector.identity);
    expect(lease.spec?.leaseDurationSeconds).toBe(3);
    const renewedAgo = Date.now() - new Date(lease.spec?.renewTime ?? 0).getTime();
    expect(renewedAgo).toBeLessThan(TIMING.leaseDurationMs);
  });

  it('hands over quickly when the leader releases the Lease on shutdown', async () => {
    const a = candidate('replica-a', 'release');
    await eventually('a leads', () => (a.leading() ? true : undefined));
    const b = candidate('replica-b', 'release');
    await eventually('b sees a', () => (b.elector.status().holder === 'replica-a' ? true : undefined));

    expect(await a.stop()).toBe('stopped');
    await a.elector.release();
    const released = await readLease('release');
    expect(released.spec?.holderIdentity ?? '').toBe('');
    const releasedAt = Date.now();

    await eventually('b leads', () => (b.leading() ? true : undefined));
    // Well under a lease duration: b did not wait for expiry.
    expect(Date.now() - releasedAt).toBeLessThan(TIMING.leaseDurationMs);
    const lease = await readLease('release');
    expect(lease.spec?.holderIdentity).toBe('replica-b');
    expect(lease.spec?.leaseTransitions).toBe(1);
  });

  it('takes over from a leader that crashed (stopped renewing) only after the lease expired', async () => {
    // a talks to the API through a proxy; refusing it makes a stop renewing, like a dead process.
    const proxy = new ChaosProxy(cluster.server);
    await proxy.accept();
    cleanups.push(() => proxy.stop());
    const a = candidate('replica-a', 'crash', proxy.url);
    await eventually('a leads', () => (a.leading() ? true : undefined));
    const b = candidate('replica-b', 'crash');
    await eventually('b sees a', () => (b.elector.status().holder === 'replica-a' ? true : undefined));

    const lastRenew = new Date((await readLease('crash')).spec?.renewTime ?? 0).getTime();
    await proxy.refuse();
    await eventually('a gives up leadership', () => (a.history.includes('stopped') ? true : undefined), 10_000);
    await eventually('b leads', () => (b.leading() ? true : undefined), 15_000);
    const lease = await readLease('crash');
    expect(lease.spec?.holderIdentity).toBe('replica-b');
    const acquired = new Date(lease.spec?.acquireTime ?? 0).getTime();
    // b waited for the lease to expire (measured from when b saw the last renewal).
    expect(acquired - lastRenew).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - TIMING.retryPeriodMs);
    expect(a.leading()).toBe(false);
  });
});

describe('Manager with leader election (real Lease)', () => {
  it('runs leader-only work on one replica; on shutdown it drains, releases, and the other takes over', async () => {
    const work: string[] = [];
    const startManager = (identity: string) => {
      const elector = new LeaderElector({
        identity,
        store: kubeLeaseStore(kc, { namespace: ns, name: 'managers' }),
        clock: systemClock,
        log,
        ...TIMING,
      });
      let active = false;
      const manager = new Manager({ log, leaderElector: elector, gracefulShutdownMs: 5_000 });
      manager.add({
        name: 'controller',
        needsLeaderElection: true,
        start: async (signal) => {
          active = true;
          work.push(`${identity} start`);
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          await new Promise((resolve) => setTimeout(resolve, 200)); // draining in-flight work
          work.push(`${identity} drained`);
          active = false;
        },
      });
      manager.add({
        name: 'informer',
        needsLeaderElection: false,
        start: (signal) =>
          new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
      });
      const abort = new AbortController();
      const exit: Promise<ManagerExit> = manager.start(abort.signal);
      cleanups.push(async () => {
        abort.abort();
        await exit;
      });
      return { manager, elector, active: () => active, stop: async () => (abort.abort(), exit) };
    };

    const m1 = startManager('m1');
    await eventually('m1 active', () => (m1.active() ? true : undefined));
    const m2 = startManager('m2');
    await eventually('m2 knows the leader', () => (m2.elector.status().known ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(m2.active()).toBe(false);
    expect(m2.manager.readinessChecks().every((c) => c.check().ok)).toBe(true);

    expect(await m1.stop()).toBe('stopped');
    await eventually('m2 active', () => (m2.active() ? true : undefined));
    // m1 finished draining before m2 started: no overlap of leader-only work.
    expect(work).toEqual(['m1 start', 'm1 drained', 'm2 start']);
  });

  it('when the API server is away longer than the renew deadline: stops leader work at once, stays up, leads again', async () => {
    const proxy = new ChaosProxy(cluster.server);
    await proxy.accept();
    cleanups.push(() => proxy.stop());
    const elector = new LeaderElector({
      identity: 'survivor',
      store: kubeLeaseStore(adminKubeConfig(cluster.kubeconfigPath, proxy.url), { namespace: ns, name: 'outage' }),
      clock: systemClock,
      log,
      ...TIMING,
    });
    const terms: string[] = [];
    let active = false;
    const manager = new Manager({ log, leaderElector: elector, gracefulShutdownMs: 5_000 });
    manager.add({
      name: 'controller',
      needsLeaderElection: true,
      start: async (signal) => {
        active = true;
        terms.push('start');
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        terms.push(signal.reason instanceof LeadershipLost ? 'lost' : 'stopped');
        active = false;
      },
    });
    let exited: ManagerExit | undefined;
    const abort = new AbortController();
    const exit = manager.start(abort.signal).then((e) => (exited = e));
    cleanups.push(async () => {
      abort.abort();
      await exit;
    });
    await eventually('leading', () => (active ? true : undefined));
    // The API server goes away (a graceful restart longer than the renew deadline).
    await proxy.refuse();
    await eventually('leader work stopped', () => (terms.includes('lost') ? true : undefined), 10_000);
    expect(exited).toBeUndefined();
    await proxy.accept();
    await eventually('leading again', () => (active && terms.length === 3 ? true : undefined), 15_000);
    expect(terms).toEqual(['start', 'lost', 'start']);
    expect(exited).toBeUndefined();
  });
});
