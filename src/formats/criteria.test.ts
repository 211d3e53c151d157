import { describe, expect, it } from 'vitest';
import { compare, parseCriterion, relativeTarget } from './criteria.ts';
import type { Criterion } from './criteria.ts';

type WithoutRaw<T> = T extends unknown ? Omit<T, 'raw'> : never;
type Expected = WithoutRaw<Criterion> | { error: RegExp };

// keptn-semantics.md §3.3, one row per rule or edge case.
const grammar: [string, Expected][] = [
  ['<600', { kind: 'absolute', operator: '<', threshold: 600 }],
  ['<=800', { kind: 'absolute', operator: '<=', threshold: 800 }],
  ['=5', { kind: 'absolute', operator: '=', threshold: 5 }],
  ['>= 0.5', { kind: 'absolute', operator: '>=', threshold: 0.5 }],
  ['>.5', { kind: 'absolute', operator: '>', threshold: 0.5 }],
  ['<1e3', { kind: 'absolute', operator: '<', threshold: 1000 }],
  ['  <=+10   %', { kind: 'relative', operator: '<=', unit: 'percent', direction: 'increase', amount: 10 }],
  ['<=10%', { kind: 'relative', operator: '<=', unit: 'percent', direction: 'increase', amount: 10 }],
  ['>=-5%', { kind: 'relative', operator: '>=', unit: 'percent', direction: 'decrease', amount: 5 }],
  ['<=+10', { kind: 'relative', operator: '<=', unit: 'delta', direction: 'increase', amount: 10 }],
  ['=-1', { kind: 'relative', operator: '=', unit: 'delta', direction: 'decrease', amount: 1 }],
  // There is no negative absolute threshold: a sign always means "relative to earlier results".
  ['<-5', { kind: 'relative', operator: '<', unit: 'delta', direction: 'decrease', amount: 5 }],
  ['==5', { error: /could not parse criteria target value/ }],
  ['=>5', { error: /could not parse criteria target value/ }],
  ['<<600', { error: /could not parse criteria target value/ }],
  ['<abc', { error: /could not parse criteria target value/ }],
  ['<10%%', { error: /could not parse criteria target value/ }],
  ['|5', { error: /could not parse criteria target value/ }],
  ['600', { error: /invalid criteria string/ }],
  ['', { error: /invalid criteria string/ }],
  ['~5', { error: /invalid criteria string/ }],
];

describe('parseCriterion', () => {
  it.each(grammar)('%j', (raw, expected) => {
    const parsed = parseCriterion(raw);
    if ('error' in expected) {
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.message).toMatch(expected.error);
    } else {
      expect(parsed).toEqual({ ok: true, criterion: { raw, ...expected } });
    }
  });
});

describe('relativeTarget and compare', () => {
  const target = (raw: string, aggregate: number): number => {
    const parsed = parseCriterion(raw);
    if (!parsed.ok || parsed.criterion.kind !== 'relative') throw new Error(`not relative: ${raw}`);
    return relativeTarget(parsed.criterion, aggregate);
  };
  it.each([
    ['<=+10%', 200, 220],
    ['<=-10%', 200, 180],
    ['<=+10', 200, 210],
    ['<=-10', 200, 190],
    ['<=10%', 0, 0],
  ])('%s against aggregate %d targets %d', (raw, aggregate, expected) => {
    expect(target(raw, aggregate)).toBeCloseTo(expected, 10);
  });

  it('compares as plain floats, = is exact', () => {
    expect([
      compare(1, '<', 1),
      compare(1, '<=', 1),
      compare(1, '=', 1),
      compare(1.0000001, '=', 1),
      compare(2, '>', 1),
      compare(1, '>=', 1),
    ]).toEqual([false, true, true, false, true, true]);
  });
});
