import { describe, expect, it } from 'vitest';
import { Slots } from './slots.ts';

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('Slots', () => {
  it('runs at most max tasks at once, the others in the order they came', async () => {
    const slots = new Slots(2);
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      slots.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(slots.active()).toBe(2);
    gates[1]?.open();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(slots.active()).toBe(0);
  });

  it('gives the slot back when a task throws', async () => {
    const slots = new Slots(1);
    await expect(slots.run(() => Promise.reject(new Error('helm failed')))).rejects.toThrow('helm failed');
    expect(await slots.run(() => Promise.resolve('next'))).toBe('next');
  });

  it('stops waiting when the signal aborts, without taking a slot or running the task', async () => {
    const slots = new Slots(1);
    const holder = gate();
    const held = slots.run(() => holder.promise);
    const abort = new AbortController();
    let ran = false;
    const waiting = slots.run(() => {
      ran = true;
      return Promise.resolve();
    }, abort.signal);
    abort.abort(new Error('leadership lost'));
    await expect(waiting).rejects.toThrow('leadership lost');
    holder.open();
    await held;
    expect(ran).toBe(false);
    expect(slots.active()).toBe(0);
    await expect(slots.run(() => Promise.resolve(), abort.signal)).rejects.toThrow('leadership lost');
  });
});
