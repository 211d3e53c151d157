import { describe, expect, it } from 'vitest';
import type { ProblemEvent, ProblemEventStatus } from '../../api/index.ts';
import { leftTheLine, nextInLine } from './wake.ts';

const T = '2026-11-22T12:00:00Z';
function problem(
  name: string,
  opts: { created?: string; status?: ProblemEventStatus; state?: 'OPEN' | 'RESOLVED'; suspend?: boolean } = {},
): ProblemEvent {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: {
      name,
      namespace: 'shop',
      creationTimestamp: new Date(opts.created ?? T),
      ...(opts.suspend ? { annotations: { 'rebound.dev/suspend': 'true' } } : {}),
    },
    spec: { project: 'shop', stage: 'production', service: 'carts', problemTitle: 'x', state: opts.state ?? 'OPEN' },
    ...(opts.status ? { status: opts.status } : {}),
  };
}

describe('nextInLine', () => {
  it('wakes only the oldest other problem still in line: creation time, then name', () => {
    const holder = problem('holder', { status: { phase: 'Resolved' } });
    const siblings = [
      holder,
      problem('zeta', { created: '2026-11-22T11:00:00Z' }),
      problem('b'),
      problem('a'),
      problem('c', { created: '2026-11-22T10:00:00Z', status: { phase: 'Exhausted' } }),
    ];
    expect(nextInLine(holder, siblings)).toEqual(['shop/zeta']);
    expect(
      nextInLine(
        holder,
        siblings.filter((p) => p.metadata.name !== 'zeta'),
      ),
    ).toEqual(['shop/a']);
  });

  it('skips suspended, resolved-by-source and finished problems, and wakes nobody when the line is empty', () => {
    const left = problem('left');
    const siblings = [
      left,
      problem('s', { suspend: true }),
      problem('r', { state: 'RESOLVED' }),
      problem('u', { status: { phase: 'Unhandled' } }),
    ];
    expect(nextInLine(left, siblings)).toEqual([]);
    expect(nextInLine(left, [...siblings, problem('w')])).toEqual(['shop/w']);
  });
});

describe('leftTheLine', () => {
  const open = problem('p', { status: { phase: 'Evaluating' } });
  it('is true when a problem finishes, is suspended, or its source resolves it', () => {
    expect(leftTheLine(open, problem('p', { status: { phase: 'Resolved' } }))).toBe(true);
    expect(leftTheLine(open, problem('p', { status: { phase: 'Evaluating' }, suspend: true }))).toBe(true);
    expect(leftTheLine(open, problem('p', { status: { phase: 'Evaluating' }, state: 'RESOLVED' }))).toBe(true);
    // Resolved by its source first, finished by the loop afterwards: the finish frees the turn.
    expect(
      leftTheLine(
        problem('p', { state: 'RESOLVED' }),
        problem('p', { state: 'RESOLVED', status: { phase: 'Resolved' } }),
      ),
    ).toBe(true);
  });

  it('is false for progress within the line and for updates of finished problems', () => {
    expect(leftTheLine(problem('p'), open)).toBe(false);
    expect(leftTheLine(open, open)).toBe(false);
    const done = problem('p', { status: { phase: 'Resolved' } });
    expect(leftTheLine(done, done)).toBe(false);
  });
});
