// BackgroundActions: actions that run off the reconcile worker, polled by id, kept until acknowledged.
import { describe, expect, it } from 'vitest';
import { REASONS } from '../api/index.ts';
import { BackgroundActions } from './runner.ts';
import type { ActionOutcome } from './types.ts';

const DONE: ActionOutcome = {
  kind: 'done',
  detail: 'webhook restart answered 202',
  execution: { executor: 'webhook', tries: 1, responseCode: 202 },
};

/** An action whose end the test decides, and which records the signal it was given. */
function controllable(): {
  run: (signal: AbortSignal) => Promise<ActionOutcome>;
  finish: (o: ActionOutcome) => void;
  fail: (e: unknown) => void;
  calls: AbortSignal[];
} {
  const calls: AbortSignal[] = [];
  let finish: (o: ActionOutcome) => void = () => undefined;
  let fail: (e: unknown) => void = () => undefined;
  const promise = new Promise<ActionOutcome>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return {
    run: (signal) => {
      calls.push(signal);
      return promise;
    },
    finish: (o) => finish(o),
    fail: (e) => fail(e),
    calls,
  };
}

/** Lets started actions run and their promises settle. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

function runner(): { actions: BackgroundActions; settled: string[] } {
  const settled: string[] = [];
  return { actions: new BackgroundActions((key) => void settled.push(key)), settled };
}

describe('BackgroundActions', () => {
  it('knows nothing of an id never started', () => {
    expect(runner().actions.state('ns~p~1~abc')).toEqual({ kind: 'none' });
  });

  it('runs an action: running at once, then settled with its outcome, the key reported once', async () => {
    const { actions, settled } = runner();
    const action = controllable();
    actions.start('ns~p~1~abc', 'ns/p', action.run);
    expect(actions.state('ns~p~1~abc')).toEqual({ kind: 'running' });
    expect(actions.running()).toBe(1);
    await settle();
    expect(action.calls).toHaveLength(1);
    expect(settled).toEqual([]);

    action.finish(DONE);
    await settle();
    expect(actions.state('ns~p~1~abc')).toEqual({ kind: 'settled', outcome: DONE });
    expect(actions.running()).toBe(0);
    expect(settled).toEqual(['ns/p']);
  });

  it('keeps a settled outcome on every poll until it is acknowledged, then forgets it', async () => {
    const { actions, settled } = runner();
    actions.start('ns~p~1~abc', 'ns/p', () => Promise.resolve(DONE));
    await settle();
    expect(actions.state('ns~p~1~abc')).toEqual({ kind: 'settled', outcome: DONE });
    expect(actions.state('ns~p~1~abc')).toEqual({ kind: 'settled', outcome: DONE });
    actions.acknowledge('ns~p~1~abc');
    expect(actions.state('ns~p~1~abc')).toEqual({ kind: 'none' });
    expect(settled).toEqual(['ns/p']);
  });

  it('starts an id only once, whether it is running or settled', async () => {
    const { actions, settled } = runner();
    const first = controllable();
    let again = 0;
    const second = (): Promise<ActionOutcome> => {
      again++;
      return Promise.resolve({ kind: 'failed', reason: REASONS.WebhookUnavailable, detail: 'should not run' });
    };
    actions.start('ns~p~1~abc', 'ns/p', first.run);
    actions.start('ns~p~1~abc', 'ns/p', second);
    await settle();
    first.finish(DONE);
    await settle();
    actions.start('ns~p~1~abc', 'ns/p', second);
    await settle();
    expect(again).toBe(0);
    expect(first.calls).toHaveLength(1);
    expect(actions.state('ns~p~1~abc')).toEqual({ kind: 'settled', outcome: DONE });
    expect(settled).toEqual(['ns/p']);
  });

  it('starts an id again once it is acknowledged (a new try after a status write)', async () => {
    const { actions } = runner();
    actions.start('ns~p~1~abc', 'ns/p', () => Promise.resolve(DONE));
    await settle();
    actions.acknowledge('ns~p~1~abc');
    const next = controllable();
    actions.start('ns~p~1~abc', 'ns/p', next.run);
    await settle();
    expect(next.calls).toHaveLength(1);
    expect(actions.state('ns~p~1~abc')).toEqual({ kind: 'running' });
  });

  it('keeps a thrown error as errored, and reports the key', async () => {
    const { actions, settled } = runner();
    const action = controllable();
    const error = new Error('Secret sockshop/runbook does not exist');
    actions.start('ns~p~2~abc', 'ns/p', action.run);
    action.fail(error);
    await settle();
    expect(actions.state('ns~p~2~abc')).toEqual({ kind: 'errored', error });
    expect(settled).toEqual(['ns/p']);
  });

  it('keeps actions of different ids apart', async () => {
    const { actions, settled } = runner();
    const a = controllable();
    const b = controllable();
    actions.start('ns~p~1~abc', 'ns/p', a.run);
    actions.start('ns~q~1~def', 'ns/q', b.run);
    b.finish(DONE);
    await settle();
    expect(actions.state('ns~p~1~abc')).toEqual({ kind: 'running' });
    expect(actions.state('ns~q~1~def')).toEqual({ kind: 'settled', outcome: DONE });
    expect(actions.running()).toBe(1);
    expect(settled).toEqual(['ns/q']);
  });

  it('stops an action acknowledged while it ran (its callback came first), and ignores its end', async () => {
    const { actions, settled } = runner();
    const action = controllable();
    actions.start('ns~p~1~abc', 'ns/p', action.run);
    await settle();
    actions.acknowledge('ns~p~1~abc');
    expect(action.calls[0]?.aborted).toBe(true);
    action.finish(DONE);
    await settle();
    expect(actions.state('ns~p~1~abc')).toEqual({ kind: 'none' });
    expect(settled).toEqual([]);
  });

  it('cancel stops and forgets every action of one problem, leaving the others alone', async () => {
    const { actions, settled } = runner();
    const first = controllable();
    const second = controllable();
    const other = controllable();
    actions.start('ns~p~1~abc', 'ns/p', first.run);
    actions.start('ns~p~2~abc', 'ns/p', second.run);
    actions.start('ns~q~1~def', 'ns/q', other.run);
    await settle();

    actions.cancel('ns/p');
    expect(first.calls[0]?.aborted).toBe(true);
    expect(second.calls[0]?.aborted).toBe(true);
    expect(other.calls[0]?.aborted).toBe(false);
    expect(actions.state('ns~p~1~abc')).toEqual({ kind: 'none' });
    expect(actions.state('ns~p~2~abc')).toEqual({ kind: 'none' });
    expect(actions.running()).toBe(1);

    first.fail(first.calls[0]?.reason);
    second.finish(DONE);
    other.finish(DONE);
    await settle();
    expect(actions.state('ns~p~1~abc')).toEqual({ kind: 'none' });
    expect(actions.state('ns~p~2~abc')).toEqual({ kind: 'none' });
    expect(actions.state('ns~q~1~def')).toEqual({ kind: 'settled', outcome: DONE });
    expect(settled).toEqual(['ns/q']);
  });

  it('close aborts what runs, ignores their later ends and starts nothing more', async () => {
    const { actions, settled } = runner();
    const running = controllable();
    actions.start('ns~p~1~abc', 'ns/p', running.run);
    await settle();
    const signal = running.calls[0];
    expect(signal?.aborted).toBe(false);

    actions.close();
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(Error);
    expect(actions.state('ns~p~1~abc')).toEqual({ kind: 'none' });
    expect(actions.running()).toBe(0);

    running.fail(signal?.reason);
    await settle();
    expect(actions.state('ns~p~1~abc')).toEqual({ kind: 'none' });
    expect(settled).toEqual([]);

    let startedAfterClose = 0;
    actions.start('ns~q~1~def', 'ns/q', () => {
      startedAfterClose++;
      return Promise.resolve(DONE);
    });
    await settle();
    expect(startedAfterClose).toBe(0);
    expect(actions.state('ns~q~1~def')).toEqual({ kind: 'none' });
    expect(settled).toEqual([]);
  });

  it('aborts an action started and closed in the same turn before it sees its signal', async () => {
    const { actions, settled } = runner();
    const action = controllable();
    actions.start('ns~p~1~abc', 'ns/p', action.run);
    actions.close();
    await settle();
    // The run was already queued: it gets a signal that is aborted, and its end is ignored.
    expect(action.calls.every((s) => s.aborted)).toBe(true);
    action.finish(DONE);
    await settle();
    expect(settled).toEqual([]);
  });
});
