import { describe, expect, it } from 'vitest';
import { FLUSH, parsePktLines, pktLine, pktText } from './pktline.ts';

describe('pkt-lines', () => {
  it('frames payloads with a 4-digit hex length that counts itself', () => {
    expect(pktLine('a\n').toString()).toBe('0006a\n');
    expect(pktLine('').toString()).toBe('0004');
    expect(() => pktLine(Buffer.alloc(65520))).toThrow(RangeError);
  });

  it('splits a stream into lines and flushes, stopping at a partial line', () => {
    const data = Buffer.concat([
      pktLine('unpack ok\n'),
      pktLine('ok refs/heads/production\n'),
      FLUSH,
      Buffer.from('00ffshort'),
    ]);
    const { lines, rest } = parsePktLines(data);
    expect(lines.map((l) => (l === null ? null : pktText(l)))).toEqual(['unpack ok', 'ok refs/heads/production', null]);
    expect(rest).toBe(data.length - 9);
  });
});
