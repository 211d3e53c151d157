import { describe, expect, it } from 'vitest';
import { GroupCommitter } from './batch.ts';

/** A flush the test completes by hand, recording each batch. */
function recorder(): {
  batches: string[][];
  release: () => void;
  committer: GroupCommitter<string, string>;
  failNext: (err: Error) => void;
} {
  const batches: string[][] = [];
  let pending: (() => void)[] = [];
  let failure: Error | undefined;
  const committer = new GroupCommitter<string, string>({
    maxBatch: 3,
    flush: (key, requests) => {
      batches.push([key, ...requests]);
      const err = failure;
      failure = undefined;
      return new Promise((resolve, reject) =>
        pending.push(() => (err ? reject(err) : resolve(requests.map((r) => `${r} done`)))),
      );
    },
  });
  return {
    batches,
    committer,
    release: () => {
      const run = pending;
      pending = [];
      for (const r of run) r();
    },
    failNext: (err) => {
      failure = err;
    },
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommitter', () => {
  it('sends a lone request at once, and what arrives during a flush together in the next one', async () => {
    const { batches, committer, release } = recorder();
    const first = committer.submit('main', 'a');
    const rest = ['b', 'c', 'd', 'e'].map((r) => committer.submit('main', r));
    expect(batches).toEqual([['main', 'a']]);
    release();
    expect(await first).toBe('a done');
    await tick();
    expect(batches).toEqual([
      ['main', 'a'],
      ['main', 'b', 'c', 'd'],
    ]); // bounded by maxBatch
    release();
    await tick();
    expect(batches.at(-1)).toEqual(['main', 'e']);
    release();
    expect(await Promise.all(rest)).toEqual(['b done', 'c done', 'd done', 'e done']);
    expect(committer.batches()).toBe(3);
  });

  it('keeps keys apart: another branch does not wait for this one', () => {
    const { batches, committer } = recorder();
    void committer.submit('main', 'a');
    void committer.submit('production', 'b');
    void committer.submit('main', 'c');
    expect(batches).toEqual([
      ['main', 'a'],
      ['production', 'b'],
    ]);
  });

  it('fails every request of a failed batch and carries on with the next', async () => {
    const { committer, release, failNext } = recorder();
    failNext(new Error('push refused'));
    const a = committer.submit('main', 'a');
    const b = committer.submit('main', 'b');
    release();
    await expect(a).rejects.toThrow('push refused');
    await tick();
    release();
    expect(await b).toBe('b done');
    // The loop ended with the queue: a later request starts a new one at once.
    const c = committer.submit('main', 'c');
    release();
    expect(await c).toBe('c done');
  });
});
