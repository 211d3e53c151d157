import { describe, expect, it } from 'vitest';
import { ReboundError } from '../errors.ts';
import { parsePollSchedule, watchBranches } from './watch.ts';
import type { BranchChange, WatchedStore } from './watch.ts';

describe('parsePollSchedule', () => {
  it.each([
    ['30s', { kind: 'interval', ms: 30_000 }],
    ['5m', { kind: 'interval', ms: 300_000 }],
    ['1h', { kind: 'interval', ms: 3_600_000 }],
    [2500, { kind: 'interval', ms: 2500 }],
    ['*/2 * * * *', { kind: 'cron', expression: '*/2 * * * *' }],
  ])('reads %s', (input, expected) => {
    expect(parsePollSchedule(input)).toEqual(expected);
  });

  it.each(['10ms', 'soon', '99 * * * *', 0])('refuses %s', (input) => {
    expect(() => parsePollSchedule(input)).toThrow(ReboundError);
  });
});

/** A store whose heads the test moves: the watcher's logic, not Git, is under test here. */
class MovingStore implements WatchedStore {
  tips: Record<string, string> = { staging: 's1', production: 'p1' };
  failing = new Set<string>();
  head(branch: string): Promise<string> {
    if (this.failing.has(branch)) return Promise.reject(new Error(`cannot read ${branch}`));
    const head = this.tips[branch];
    return head === undefined ? Promise.reject(new Error('no branch')) : Promise.resolve(head);
  }
  changedPaths(oldCommit: string | undefined, newCommit: string): Promise<string[]> {
    return Promise.resolve([`${oldCommit ?? 'none'}..${newCommit}`]);
  }
}

describe('watchBranches', () => {
  it('takes the first poll as the baseline and reports later moves with their files', async () => {
    const store = new MovingStore();
    const seen: BranchChange[] = [];
    const watcher = watchBranches({
      store,
      branches: ['staging', 'production'],
      schedule: '1h',
      onChange: (c) => void seen.push(c),
    });
    expect(await watcher.pollNow()).toEqual([]);
    store.tips.production = 'p2';
    const changes = await watcher.pollNow();
    expect(changes).toEqual([{ branch: 'production', oldHead: 'p1', newHead: 'p2', changedPaths: ['p1..p2'] }]);
    expect(seen).toEqual(changes);
    expect(await watcher.pollNow()).toEqual([]);
    watcher.stop();
  });

  it('reports changes since heads already processed', async () => {
    const store = new MovingStore();
    const seen: BranchChange[] = [];
    const watcher = watchBranches({
      store,
      branches: ['staging'],
      schedule: '1h',
      onChange: (c) => void seen.push(c),
      initialHeads: { staging: 's0' },
    });
    // The watcher polls once at start; pollNow runs after that poll.
    expect(await watcher.pollNow()).toEqual([]);
    expect(seen).toEqual([{ branch: 'staging', oldHead: 's0', newHead: 's1', changedPaths: ['s0..s1'] }]);
    watcher.stop();
  });

  it('keeps polling the other branches when one fails, and reports the failure', async () => {
    const store = new MovingStore();
    const errors: string[] = [];
    const watcher = watchBranches({
      store,
      branches: ['staging', 'production'],
      schedule: '1h',
      onChange: () => undefined,
      onError: (_e, b) => errors.push(b),
    });
    await watcher.pollNow();
    store.failing.add('staging');
    store.tips.production = 'p3';
    const changes = await watcher.pollNow();
    expect(changes.map((c) => c.branch)).toEqual(['production']);
    expect(errors).toContain('staging');
    watcher.stop();
  });

  it('reads every branch from one listing when the store can, reporting a missing branch', async () => {
    const store = new MovingStore();
    let listings = 0;
    const listing: WatchedStore = {
      head: () => Promise.reject(new Error('head() must not be called when heads() exists')),
      heads: (branches) => {
        listings += 1;
        return Promise.resolve(new Map(branches.map((b) => [b, store.tips[b] ?? new Error(`${b} does not exist`)])));
      },
      changedPaths: (a, b) => store.changedPaths(a, b),
    };
    const errors: string[] = [];
    const watcher = watchBranches({
      store: listing,
      branches: ['staging', 'production', 'qa'],
      schedule: '1h',
      onChange: () => undefined,
      onError: (_e, b) => errors.push(b),
    });
    await watcher.pollNow();
    store.tips.staging = 's2';
    const changes = await watcher.pollNow();
    expect(changes.map((c) => c.newHead)).toEqual(['s2']);
    // The poll at start and the two asked for: one listing each.
    expect(listings).toBe(3);
    expect(errors).toEqual(['qa', 'qa', 'qa']);
    watcher.stop();
  });
});
