import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN, parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['2m', 120_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '2', 'm2', '2m x', '2d'])('rejects %j', (text) => expect(() => parseDuration(text)).toThrow(RangeError));

  it.each(['2m', '1h30m', '250ms', '2', '2d', 'm2'])('agrees with the schema pattern on %j', (text) => {
    const parses = (() => {
      try {
        parseDuration(text);
        return true;
      } catch {
        return false;
      }
    })();
    expect(parses).toBe(new RegExp(DURATION_PATTERN).test(text));
  });
});
