import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.ts';
import {
  BucketRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
} from './rate-limiter.ts';

describe('ItemExponentialRateLimiter', () => {
  it('doubles per failure of one key, caps at the maximum, and resets on forget', () => {
    const limiter = new ItemExponentialRateLimiter({ baseDelayMs: 5, maxDelayMs: 1_000 });
    const delays = Array.from({ length: 10 }, () => limiter.when('a'));
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1_000, 1_000]);
    expect(limiter.numRequeues('a')).toBe(10);
    expect(limiter.when('b')).toBe(5); // keys back off independently
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
  });

  it('stays finite after very many failures', () => {
    const limiter = new ItemExponentialRateLimiter({ baseDelayMs: 5, maxDelayMs: 1_000_000 });
    let last = 0;
    for (let i = 0; i < 2_000; i++) last = limiter.when('k');
    expect(last).toBe(1_000_000);
  });
});

describe('BucketRateLimiter', () => {
  it('lets a burst through, then spaces tokens at the rate, refilling with time', async () => {
    const clock = new FakeClock();
    const bucket = new BucketRateLimiter(clock, { qps: 10, burst: 3 });
    expect([bucket.when('a'), bucket.when('b'), bucket.when('c')]).toEqual([0, 0, 0]);
    expect(bucket.when('d')).toBe(100);
    expect(bucket.when('e')).toBe(200);
    await clock.advance(1_000); // 10 tokens back, capped at the burst; 2 were owed
    expect(bucket.when('f')).toBe(0);
  });
});

describe('defaultControllerRateLimiter', () => {
  it('takes the longer of per-key backoff and the shared bucket', () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter(clock, { qps: 1, burst: 1 });
    expect(limiter.when('a')).toBe(5); // per-key 5 ms, bucket has a token
    expect(limiter.when('b')).toBe(1_000); // bucket empty: 1 s for the next token
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.numRequeues('b')).toBe(1);
  });

  it('MaxOf reports the largest requeue count', () => {
    const a = new ItemExponentialRateLimiter({ baseDelayMs: 1, maxDelayMs: 10 });
    const b = new ItemExponentialRateLimiter({ baseDelayMs: 1, maxDelayMs: 10 });
    b.when('k');
    const max = new MaxOfRateLimiter(a, b);
    max.when('k');
    expect(max.numRequeues('k')).toBe(2);
  });
});
