// The claim's decisions over an in-memory Lease store with the API server's semantics (create fails
// when it exists, replace and delete are conditional on the resourceVersion). The same class runs
// against a real API server in test/integration/service-turn.test.ts and test/integration/loop-storm.test.ts.
import { describe, expect, it } from 'vitest';
import type { ProblemEvent } from '../../api/index.ts';
import type { ClaimStore, ClaimWrite, StoredClaim } from '../../kube/claim-leases.ts';
import { LeaseTurnClaims, holderId, holderState, parseHolderId, turnLeaseName } from './service-turn.ts';
import type { HolderRef, HolderState } from './service-turn.ts';

function problem(
  name: string,
  extra: { uid?: string; service?: string; phase?: 'Resolved' | 'Evaluating'; suspend?: boolean } = {},
): ProblemEvent {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: {
      name,
      namespace: 'shop',
      uid: extra.uid ?? `uid-${name}`,
      ...(extra.suspend ? { annotations: { 'rebound.dev/suspend': 'true' } } : {}),
    },
    spec: { project: 'shop', stage: 'production', service: extra.service ?? 'carts', problemTitle: 'x', state: 'OPEN' },
    ...(extra.phase ? { status: { phase: extra.phase } } : {}),
  };
}

class MemoryLeases implements ClaimStore {
  readonly leases = new Map<string, StoredClaim & { write: ClaimWrite }>();
  #version = 0;
  calls: string[] = [];
  /** Runs once before the next call: another writer getting in between our read and our write. */
  interleave: (() => void) | undefined;

  #between(): void {
    const run = this.interleave;
    this.interleave = undefined;
    run?.();
  }

  get(name: string): Promise<StoredClaim | undefined> {
    this.calls.push('get');
    const found = this.leases.get(name);
    const result = found ? { holder: found.holder, resourceVersion: found.resourceVersion } : undefined;
    this.#between();
    return Promise.resolve(result);
  }

  create(name: string, claim: ClaimWrite): Promise<'created' | 'taken'> {
    this.calls.push('create');
    if (this.leases.has(name)) return Promise.resolve('taken');
    this.put(name, claim);
    return Promise.resolve('created');
  }

  replace(name: string, claim: ClaimWrite, resourceVersion: string): Promise<'replaced' | 'moved'> {
    this.calls.push('replace');
    if (this.leases.get(name)?.resourceVersion !== resourceVersion) return Promise.resolve('moved');
    this.put(name, claim);
    return Promise.resolve('replaced');
  }

  remove(name: string, resourceVersion: string): Promise<'removed' | 'moved'> {
    this.calls.push('remove');
    if (this.leases.get(name)?.resourceVersion !== resourceVersion) return Promise.resolve('moved');
    this.leases.delete(name);
    return Promise.resolve('removed');
  }

  put(name: string, claim: ClaimWrite): void {
    this.leases.set(name, { holder: claim.holder, resourceVersion: String(++this.#version), write: claim });
  }
}

/** What the API server and the cache say of each problem, by namespace/name. */
class World {
  live = new Map<string, ProblemEvent>();
  cache = new Map<string, ProblemEvent>();
  liveReads = 0;
  add(...problems: ProblemEvent[]): void {
    for (const p of problems) {
      this.live.set(`shop/${p.metadata.name ?? ''}`, p);
      this.cache.set(`shop/${p.metadata.name ?? ''}`, p);
    }
  }
  reads = {
    cached: (ref: HolderRef): HolderState | undefined => {
      const p = this.cache.get(`${ref.namespace}/${ref.name}`);
      return p ? holderState(p, ref) : undefined;
    },
    live: (ref: HolderRef): Promise<HolderState> => {
      this.liveReads++;
      return Promise.resolve(holderState(this.live.get(`${ref.namespace}/${ref.name}`), ref));
    },
  };
}

function setup(): { store: MemoryLeases; world: World; turns: LeaseTurnClaims } {
  const store = new MemoryLeases();
  const world = new World();
  return { store, world, turns: new LeaseTurnClaims(store, world.reads) };
}

describe('LeaseTurnClaims', () => {
  it('gives the turn to the first claimant and makes the others wait, whatever their age or name', async () => {
    const { store, world, turns } = setup();
    const z = problem('z');
    const a = problem('a');
    world.add(z, a);
    expect(await turns.claim(z, { confirm: true })).toEqual({ held: true });
    expect(await turns.claim(a, { confirm: true })).toEqual({ held: false, holder: 'shop/z' });
    const lease = store.leases.get(turnLeaseName(z));
    expect(lease?.holder).toBe('shop/z/uid-z');
    expect(lease?.write.labels).toMatchObject({ 'rebound.dev/turn': 'true' });
    expect(lease?.write.annotations).toEqual({ 'rebound.dev/turn-of': 'shop/shop/production/carts' });
  });

  it('lets two services of one project act at the same time', async () => {
    const { world, turns } = setup();
    const carts = problem('a');
    const orders = problem('b', { service: 'orders' });
    world.add(carts, orders);
    expect(await turns.claim(carts, { confirm: true })).toEqual({ held: true });
    expect(await turns.claim(orders, { confirm: true })).toEqual({ held: true });
  });

  it('loses a simultaneous create to the API server and then waits', async () => {
    const { store, world, turns } = setup();
    const mine = problem('mine');
    const other = problem('other');
    world.add(mine, other);
    // The other's create reached the API server first: ours is refused, the read names the holder.
    store.put(turnLeaseName(other), { holder: holderId(other) });
    expect(await turns.claim(mine, { confirm: true })).toEqual({ held: false, holder: 'shop/other' });
    expect(store.calls).toEqual(['create', 'get']);
    // Waiting now, it reads first when it looks again (a create would only be refused).
    store.calls = [];
    expect(await turns.claim(mine, { confirm: true })).toEqual({ held: false, holder: 'shop/other' });
    expect(store.calls).toEqual(['get']);
    // Released meanwhile: the read finds no claim, and the create takes it.
    store.leases.clear();
    store.calls = [];
    expect(await turns.claim(mine, { confirm: true })).toEqual({ held: true });
    expect(store.calls).toEqual(['get', 'create']);
  });

  it("claims a free service's turn with one request", async () => {
    const { store, world, turns } = setup();
    const p = problem('p');
    world.add(p);
    expect(await turns.claim(p, { confirm: true })).toEqual({ held: true });
    expect(store.calls).toEqual(['create']);
    // Confirming it later reads it back from the API server.
    expect(await turns.claim(p, { confirm: true })).toEqual({ held: true });
    expect(store.calls).toEqual(['create', 'get']);
  });

  it('trusts the cache only to wait: a holder missing from a lagging cache is read from the API server', async () => {
    const { world, turns, store } = setup();
    const holder = problem('holder');
    const late = problem('late');
    world.add(late);
    world.live.set('shop/holder', holder); // created and claimed; the cache has not seen it yet
    store.put(turnLeaseName(holder), { holder: holderId(holder) });
    expect(await turns.claim(late, { confirm: true })).toEqual({ held: false, holder: 'shop/holder' });
    expect(world.liveReads).toBe(1);
  });

  it('takes over a claim whose holder finished, was deleted, was replaced by a new uid, or is suspended', async () => {
    for (const gone of [
      problem('h', { phase: 'Resolved' }),
      undefined,
      problem('h', { uid: 'uid-new' }),
      problem('h', { suspend: true }),
    ]) {
      const { store, world, turns } = setup();
      const next = problem('next');
      world.add(next);
      if (gone) world.add(gone);
      store.put(turnLeaseName(next), { holder: 'shop/h/uid-h' });
      expect(await turns.claim(next, { confirm: true })).toEqual({ held: true });
      expect(store.leases.get(turnLeaseName(next))?.holder).toBe('shop/next/uid-next');
    }
  });

  it('does not take over from a holder the cache thinks finished while the API server says it is open', async () => {
    const { store, world, turns } = setup();
    const holder = problem('h');
    const next = problem('next');
    world.add(holder, next);
    world.cache.set('shop/h', problem('h', { phase: 'Resolved' })); // a wrong cache must not hand out the turn
    store.put(turnLeaseName(next), { holder: holderId(holder) });
    expect(await turns.claim(next, { confirm: true })).toEqual({ held: false, holder: 'shop/h' });
  });

  it('gives exactly one of two racing take-overs the turn (the replace is conditional)', async () => {
    const { store, world, turns } = setup();
    const first = problem('first');
    const second = problem('second');
    world.add(first, second, problem('h', { phase: 'Resolved' }));
    store.put(turnLeaseName(first), { holder: 'shop/h/uid-h' });
    // After our read, the other waiter takes it over first: our replace finds the version moved.
    store.interleave = () => store.put(turnLeaseName(first), { holder: holderId(second) });
    expect(await turns.claim(first, { confirm: true })).toEqual({ held: false, holder: 'shop/second' });
  });

  it('keeps a claim it confirmed without asking again, unless told to confirm it', async () => {
    const { store, world, turns } = setup();
    const p = problem('p');
    world.add(p);
    await turns.claim(p, { confirm: true });
    store.calls = [];
    expect(await turns.claim(p, { confirm: false })).toEqual({ held: true });
    expect(store.calls).toEqual([]);
    // Taken over (this process missed it): a confirming claim sees it and waits.
    store.put(turnLeaseName(p), { holder: 'shop/other/uid-other' });
    world.add(problem('other'));
    expect(await turns.claim(p, { confirm: true })).toEqual({ held: false, holder: 'shop/other' });
    expect(await turns.claim(p, { confirm: false })).toEqual({ held: false, holder: 'shop/other' });
  });

  it('releases only its own claim, conditionally', async () => {
    const { store, world, turns } = setup();
    const p = problem('p');
    const q = problem('q');
    world.add(p, q);
    await turns.claim(p, { confirm: true });
    await turns.release(q); // not the holder: the claim stays
    expect(store.leases.get(turnLeaseName(p))?.holder).toBe('shop/p/uid-p');
    await turns.release(p);
    expect(store.leases.size).toBe(0);
    expect(await turns.claim(q, { confirm: true })).toEqual({ held: true });
  });

  it('gives back the claim of a deleted problem it held, by key', async () => {
    const { store, world, turns } = setup();
    const p = problem('p');
    world.add(p);
    await turns.claim(p, { confirm: true });
    await turns.forget('shop/p');
    expect(store.leases.size).toBe(0);
    await turns.forget('shop/never-held');
    expect(store.calls.at(-1)).toBe('remove');
  });

  it('gives up with a retryable error when the claim keeps changing hands', async () => {
    const store = new MemoryLeases();
    const world = new World();
    const p = problem('p');
    world.add(p);
    // Every read finds a Lease that is gone by the time we create... and back when we replace.
    const flapping: ClaimStore = {
      get: () => Promise.resolve({ holder: 'garbage', resourceVersion: '1' }),
      create: () => Promise.resolve('taken'),
      replace: () => Promise.resolve('moved'),
      remove: (n, v) => store.remove(n, v),
    };
    await expect(new LeaseTurnClaims(flapping, world.reads).claim(p, { confirm: true })).rejects.toMatchObject({
      code: 'TurnContended',
      retryable: true,
    });
  });
});

describe('holder ids', () => {
  it('round-trips namespace, name and uid and refuses anything else', () => {
    expect(parseHolderId(holderId(problem('p')))).toEqual({ namespace: 'shop', name: 'p', uid: 'uid-p' });
    for (const bad of ['', 'a/b', 'a/b/c/d', '/b/c', 'rebound-controller-123'])
      expect(parseHolderId(bad)).toBeUndefined();
  });

  it('names the Lease after the service only, as a DNS label', () => {
    const name = turnLeaseName(problem('a'));
    expect(name).toBe(turnLeaseName(problem('b')));
    expect(name).not.toBe(turnLeaseName(problem('a', { service: 'orders' })));
    expect(name).toMatch(/^rebound-turn-[0-9a-f]{24}$/);
  });
});
