import { describe, expect, it } from 'vitest';
import { ObjectCache } from './object-cache.ts';
import { makeObject } from './objects.ts';

const blob = (text: string, size = text.length): ReturnType<typeof makeObject> =>
  makeObject('blob', Buffer.from(text.padEnd(size, '.')));

describe('ObjectCache', () => {
  it('forgets the least recently used object past the count bound', () => {
    const cache = new ObjectCache({ maxObjects: 2, maxBytes: 1_000_000 });
    const [a, b, c] = [blob('a'), blob('b'), blob('c')];
    cache.set(a);
    cache.set(b);
    expect(cache.get(a.oid)).toBe(a); // a is now newer than b
    cache.set(c);
    expect([cache.has(a.oid), cache.has(b.oid), cache.has(c.oid)]).toEqual([true, false, true]);
  });

  it('stays under its byte bound whatever the count, and counts each object once', () => {
    const cache = new ObjectCache({ maxObjects: 512, maxBytes: 100_000 });
    const trees = Array.from({ length: 40 }, (_, i) => blob(`root tree ${String(i)}`, 35_000));
    for (const t of trees) cache.set(t);
    cache.set(trees[39] ?? blob('x'));
    expect(cache.size()).toBe(2);
    expect(cache.bytes()).toBe(70_000);
    expect(cache.has(trees[39]?.oid ?? '')).toBe(true);
    expect(cache.has(trees[38]?.oid ?? '')).toBe(true);
  });

  it('keeps the newest object even when it alone is over the byte bound', () => {
    const cache = new ObjectCache({ maxObjects: 512, maxBytes: 10 });
    const big = blob('big', 50);
    cache.set(blob('small'));
    cache.set(big);
    expect(cache.size()).toBe(1);
    expect(cache.peek(big.oid)).toBe(big);
  });
});
