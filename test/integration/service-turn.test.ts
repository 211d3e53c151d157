// The service turn against a real kube-apiserver: claims are coordination.k8s.io/v1 Leases, and the
// API server alone decides who gets one. Several independent claimants (as many controller processes,
// each with an empty cache) race for one service; exactly one wins, the others wait, and the turn
// passes on when the holder finishes or is deleted, one claimant at a time.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { ProblemEvent } from '../../src/api/index.ts';
import { LeaseTurnClaims, holderState, turnLeaseName } from '../../src/controllers/problemevent/service-turn.ts';
import { kubeClaimStore, reboundClients } from '../../src/kube/index.ts';
import { adminKubeConfig, freshNamespace, problemEvent } from './runtime-helpers.ts';

const cluster = inject('cluster');
const kc = adminKubeConfig(cluster.kubeconfigPath);
const clients = reboundClients(kc);
let ns: string;
let leases: string;

beforeAll(async () => {
  ns = await freshNamespace(kc, 'turn');
  leases = await freshNamespace(kc, 'turn-leases');
});

/** One claimant per controller process: its own client and no cache at all (everything is read live). */
function claimant(): LeaseTurnClaims {
  return new LeaseTurnClaims(kubeClaimStore(adminKubeConfig(cluster.kubeconfigPath), leases), {
    cached: () => undefined,
    live: async (ref) => holderState(await clients.problemEvents.get(ref.namespace, ref.name), ref),
  });
}

async function create(name: string, service: string): Promise<ProblemEvent> {
  const result = await clients.problemEvents.create(problemEvent(ns, name, service));
  if (!result.created) throw new Error(`${name} exists`);
  return result.object;
}

describe('the service turn on a real API server', () => {
  it('gives one service to exactly one of many racing claimants and hands it on one at a time', async () => {
    const problems = await Promise.all(
      Array.from({ length: 12 }, (_, i) => create(`p-${String(11 - i).padStart(2, '0')}`, 'carts')),
    );
    const claimants = Array.from({ length: 4 }, () => claimant());
    const holders = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const open = problems.filter((p) => !holders.has(p.metadata.name ?? ''));
      // Every claimant claims for every open problem at once, as four processes with many workers would.
      const results = await Promise.all(
        open.flatMap((p) =>
          claimants.map(async (c) => ({ name: p.metadata.name ?? '', turn: await c.claim(p, { confirm: true }) })),
        ),
      );
      const held = new Set(results.filter((r) => r.turn.held).map((r) => r.name));
      expect(held.size, `round ${String(round)}`).toBe(1);
      const [holder] = [...held];
      expect(
        results.filter((r) => !r.turn.held).every((r) => !r.turn.held && r.turn.holder === `${ns}/${holder ?? ''}`),
      ).toBe(true);
      holders.add(holder ?? '');
      const problem = problems.find((p) => p.metadata.name === holder);
      if (!problem) throw new Error('no holder');
      if (round === 0) {
        // Finished, and the release is lost (a crash): the next claimant takes it over.
        await clients.problemEvents.patchStatus(ns, holder ?? '', { phase: 'Resolved' });
      } else if (round === 1) {
        await clients.problemEvents.delete(ns, holder ?? '');
      } else {
        await clients.problemEvents.patchStatus(ns, holder ?? '', { phase: 'Resolved' });
        await claimants[0]?.release(problem);
      }
    }
    // Released with nobody waiting for it in this test: the Lease is gone.
    const store = kubeClaimStore(kc, leases);
    expect(await store.get(turnLeaseName(problems[0] as ProblemEvent))).toBeUndefined();
  });

  it('lets different services hold their turns at the same time', async () => {
    const carts = await create('carts-1', 'orders-a');
    const orders = await create('orders-1', 'orders-b');
    const [a, b] = [claimant(), claimant()];
    expect(await Promise.all([a.claim(carts, { confirm: true }), b.claim(orders, { confirm: true })])).toEqual([
      { held: true },
      { held: true },
    ]);
  });
});
