// The commit status queue with a fake forge and a clock that fires at once (the waits are recorded,
// never slept): order per target, retries with backoff on what may pass, giving up on what cannot,
// newer statuses replacing waiting ones, the bound.
import { describe, expect, it } from 'vitest';
import { ReboundError } from '../errors.ts';
import type { Clock } from '../runtime/clock.ts';
import { StatusDelivery } from './delivery.ts';
import type { DeliveryResult } from './delivery.ts';
import type { CommitStatus, Forge } from './types.ts';

function instantClock(waits: number[]): Clock {
  return {
    now: () => 0,
    setTimer(ms, fn) {
      waits.push(ms);
      queueMicrotask(fn);
      return () => undefined;
    },
  };
}

/** A forge whose setCommitStatus answers from `answers` in turn (then succeeds), recording what it got. */
function fakeForge(answers: (Error | undefined)[] = [], gate?: Promise<void>): Forge & { got: CommitStatus[] } {
  const got: CommitStatus[] = [];
  const unused = (): Promise<never> => Promise.reject(new Error('not used'));
  return {
    type: 'gitea',
    got,
    async setCommitStatus(status) {
      if (gate) await gate;
      const answer = answers.shift();
      if (answer) throw answer;
      got.push(status);
    },
    openPullRequest: unused,
    pullRequest: unused,
    comment: unused,
    updatePullRequest: unused,
  };
}

const status = (sha: string, state: CommitStatus['state'], context = 'rebound/production'): CommitStatus => ({
  sha,
  state,
  context,
  description: `${state} on ${sha}`,
});

const down = (): ReboundError => new ReboundError('503', { code: 'ForgeUnavailable', retryable: true });
const refused = (): ReboundError => new ReboundError('401', { code: 'ForgeUnauthorized', retryable: false });

function delivery(waits: number[], results: DeliveryResult[], maxQueued?: number): StatusDelivery {
  return new StatusDelivery({
    clock: instantClock(waits),
    initialBackoffMs: 100,
    maxBackoffMs: 400,
    maxTries: 4,
    ...(maxQueued ? { maxQueued } : {}),
    observe: (r) => results.push(r),
  });
}

describe('StatusDelivery', () => {
  it('delivers in order per target', async () => {
    const forge = fakeForge();
    const results: DeliveryResult[] = [];
    const queue = delivery([], results);
    queue.enqueue('ns/p', status('a', 'pending'), () => Promise.resolve(forge));
    queue.enqueue('ns/p', status('b', 'pending'), () => Promise.resolve(forge));
    await queue.idle();
    expect(forge.got.map((s) => `${s.sha}:${s.state}`)).toEqual(['a:pending', 'b:pending']);
    expect(results).toEqual(['delivered', 'delivered']);
  });

  it('retries what may pass with capped backoff, then delivers', async () => {
    const forge = fakeForge([down(), down(), down()]);
    const waits: number[] = [];
    const results: DeliveryResult[] = [];
    const queue = new StatusDelivery({
      clock: instantClock(waits),
      initialBackoffMs: 100,
      maxBackoffMs: 300,
      maxTries: 5,
      observe: (r) => results.push(r),
    });
    queue.enqueue('ns/p', status('a', 'failure'), () => Promise.resolve(forge));
    await queue.idle();
    expect(forge.got.map((s) => s.state)).toEqual(['failure']);
    expect(results).toEqual(['retried', 'retried', 'retried', 'delivered']);
    expect(waits).toHaveLength(3);
    expect(waits[0]).toBeGreaterThanOrEqual(100);
    expect(waits[0]).toBeLessThan(200);
    expect(waits[2]).toBe(300);
  });

  it('gives up at once on what cannot pass, and after maxTries on what keeps failing', async () => {
    const forge = fakeForge([refused(), down(), down(), down(), down()]);
    const results: DeliveryResult[] = [];
    const queue = delivery([], results);
    queue.enqueue('ns/p', status('a', 'pending'), () => Promise.resolve(forge));
    queue.enqueue('ns/p', status('b', 'pending'), () => Promise.resolve(forge));
    queue.enqueue('ns/p', status('c', 'pending'), () => Promise.resolve(forge));
    await queue.idle();
    expect(results).toEqual(['failed', 'retried', 'retried', 'retried', 'failed', 'delivered']);
    expect(forge.got.map((s) => s.sha)).toEqual(['c']);
  });

  it('tells each outcome with its target and the error, for the Project condition', async () => {
    const forge = fakeForge([down(), refused()]);
    const outcomes: string[] = [];
    const queue = new StatusDelivery({
      clock: instantClock([]),
      maxTries: 4,
      onOutcome: (target, o) =>
        outcomes.push(`${target} ${o.result}${o.error instanceof ReboundError ? ` ${o.error.code ?? ''}` : ''}`),
    });
    queue.enqueue('ns/a', status('a', 'pending'), () => Promise.resolve(forge));
    await queue.idle();
    queue.enqueue('ns/b', status('b', 'pending'), () => Promise.resolve(forge));
    await queue.idle();
    expect(outcomes).toEqual(['ns/a retried ForgeUnavailable', 'ns/a failed ForgeUnauthorized', 'ns/b delivered']);
  });

  it('a newer status for the same commit and context replaces the waiting one', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const forge = fakeForge([], gate);
    const queue = delivery([], []);
    queue.enqueue('ns/p', status('a', 'pending'), () => Promise.resolve(forge));
    queue.enqueue('ns/p', status('b', 'pending'), () => Promise.resolve(forge));
    queue.enqueue('ns/p', status('b', 'failure'), () => Promise.resolve(forge));
    queue.enqueue('ns/p', status('b', 'success', 'rebound/staging'), () => Promise.resolve(forge));
    open();
    await queue.idle();
    expect(forge.got.map((s) => `${s.sha}:${s.state}:${s.context}`)).toEqual([
      'a:pending:rebound/production',
      'b:failure:rebound/production',
      'b:success:rebound/staging',
    ]);
  });

  it('keeps at most maxQueued per target, dropping the oldest waiting (not the one being sent)', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const forge = fakeForge([], gate);
    const results: DeliveryResult[] = [];
    const queue = delivery([], results, 2);
    for (const sha of ['a', 'b', 'c', 'd']) queue.enqueue('ns/p', status(sha, 'pending'), () => Promise.resolve(forge));
    open();
    await queue.idle();
    expect(results.filter((r) => r === 'dropped')).toHaveLength(2);
    expect(forge.got.map((s) => s.sha)).toEqual(['a', 'd']);
  });

  it('a Project without a forge delivers nothing and counts it delivered', async () => {
    const results: DeliveryResult[] = [];
    const queue = delivery([], results);
    queue.enqueue('ns/p', status('a', 'pending'), () => Promise.resolve(undefined));
    await queue.idle();
    expect(results).toEqual(['delivered']);
  });

  it('after stop, nothing new is queued', async () => {
    const forge = fakeForge();
    const queue = delivery([], []);
    queue.stop();
    queue.enqueue('ns/p', status('a', 'pending'), () => Promise.resolve(forge));
    await queue.idle();
    expect(forge.got).toEqual([]);
  });
});
