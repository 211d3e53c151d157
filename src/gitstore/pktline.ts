// Git's pkt-line framing (gitprotocol-common): a 4-digit hex length that counts itself, then the
// payload; `0000` is a flush packet. The smart HTTP protocol is built from these.

export const FLUSH = Buffer.from('0000');

export function pktLine(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const length = body.length + 4;
  if (length > 65520) throw new RangeError(`pkt-line payload of ${body.length} bytes exceeds the protocol limit`);
  return Buffer.concat([Buffer.from(length.toString(16).padStart(4, '0')), body]);
}

/** Splits a buffer of pkt-lines; `null` stands for a flush (or delimiter) packet. Stops at the first
 * malformed length, returning what came before and the offset where it stopped. */
export function parsePktLines(data: Buffer): { lines: (Buffer | null)[]; rest: number } {
  const lines: (Buffer | null)[] = [];
  let offset = 0;
  while (offset + 4 <= data.length) {
    const hex = data.toString('latin1', offset, offset + 4);
    if (!/^[0-9a-f]{4}$/i.test(hex)) break;
    const length = Number.parseInt(hex, 16);
    if (length === 0 || length === 1 || length === 2) {
      lines.push(null);
      offset += 4;
      continue;
    }
    if (length < 4 || offset + length > data.length) break;
    lines.push(data.subarray(offset + 4, offset + length));
    offset += length;
  }
  return { lines, rest: offset };
}

/** A pkt-line payload as text without its trailing newline. */
export function pktText(line: Buffer): string {
  const text = line.toString('utf8');
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}
