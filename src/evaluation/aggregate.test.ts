import { describe, expect, it } from 'vitest';
import { aggregateValues, percentile } from './aggregate.ts';

describe('aggregateValues (Keptn TestCalculatePercentile)', () => {
  const zeroToTen = [10, 3, 0, 7, 1, 9, 2, 8, 4, 6, 5];
  it.each([
    ['p50', zeroToTen, 5],
    ['p90', zeroToTen, 9.8],
    ['p95', zeroToTen, 10],
    ['p50', [5, 10], 7.5],
    ['avg', [5, 10], 7.5],
    ['avg', [42], 42],
    ['p90', [42], 42],
    // An unknown function does not skip the comparison: it aggregates to 0.
    ['max', [5, 10], 0],
  ] as const)('%s of %j = %d', (fn, values, expected) => {
    expect(aggregateValues(values, fn)).toBeCloseTo(expected, 10);
  });

  it('uses the minimum below the first rank', () => {
    expect(percentile([3, 1, 2], 0.1)).toBe(1);
  });
});
