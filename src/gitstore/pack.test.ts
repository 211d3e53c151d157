import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeObject } from './objects.ts';
import { applyDelta, buildPack, createDelta } from './pack.ts';

describe('createDelta', () => {
  const big = Buffer.from(Array.from({ length: 200_000 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join(''));
  const cases: [string, Buffer, Buffer][] = [
    ['one changed line', Buffer.from('replicaCount: 1\nimage: x\n'), Buffer.from('replicaCount: 2\nimage: x\n')],
    ['identical', Buffer.from('same'), Buffer.from('same')],
    ['empty base', Buffer.alloc(0), Buffer.from('new content')],
    ['empty target', Buffer.from('old content'), Buffer.alloc(0)],
    [
      'insert longer than one opcode',
      Buffer.from('ab'),
      Buffer.concat([Buffer.from('a'), Buffer.alloc(300, 0x78), Buffer.from('b')]),
    ],
    [
      'copies beyond 64 KiB and offsets beyond 16 bits',
      big,
      Buffer.concat([big.subarray(0, 150_000), Buffer.from('X'), big.subarray(150_001)]),
    ],
    ['grown in the middle', Buffer.from('abcdef'), Buffer.from('abcXYZdef')],
  ];
  it.each(cases)('round-trips %s', (_name, base, target) => {
    expect(applyDelta(base, createDelta(base, target)).equals(target)).toBe(true);
  });

  it('encodes a one-entry tree change in a few dozen bytes whatever the tree size', () => {
    const entries = Buffer.alloc(2000 * 40, 0x61);
    const changed = Buffer.from(entries);
    changed.fill(0x62, 40_000, 40_020);
    expect(createDelta(entries, changed).length).toBeLessThan(40);
  });
});

describe('buildPack', () => {
  it('writes a version 2 pack with the object count and a SHA-1 trailer', () => {
    const blob = makeObject('blob', Buffer.from('hello\n'));
    const pack = buildPack([{ object: blob }]);
    expect(pack.subarray(0, 4).toString()).toBe('PACK');
    expect(pack.readUInt32BE(4)).toBe(2);
    expect(pack.readUInt32BE(8)).toBe(1);
    const body = pack.subarray(0, pack.length - 20);
    expect(pack.subarray(pack.length - 20).equals(createHash('sha1').update(body).digest())).toBe(true);
    // A blob of 6 bytes: type 3 in bits 4-6, size in the low nibble, no continuation.
    expect(pack[12]).toBe((3 << 4) | 6);
  });

  it('sends a large object as a reference delta against its base', () => {
    const base = makeObject('blob', Buffer.alloc(10_000, 0x61));
    const changed = Buffer.from(base.content);
    changed[5000] = 0x62;
    const target = makeObject('blob', changed);
    const pack = buildPack([{ object: target, base }]);
    expect((pack[12]! >> 4) & 0x7).toBe(7);
    expect(pack.length).toBeLessThan(100);
  });

  it('sends small objects whole when a delta would not be smaller', () => {
    const base = makeObject('blob', Buffer.from('a'));
    const target = makeObject('blob', Buffer.from('b'));
    const pack = buildPack([{ object: target, base }]);
    expect((pack[12]! >> 4) & 0x7).toBe(3);
  });
});
