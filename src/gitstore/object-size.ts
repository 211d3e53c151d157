// The size of a Git object read from its header alone, without inflating its content.
//
// Git trees do not record sizes, and isomorphic-git's readObject inflates the whole object: a
// file of hundreds of MB of comment lines (a few hundred KB on the wire) would be read whole into
// memory before anyone could look at its size. Loose objects start with `<type> <size>\0` inside
// their zlib stream; packed objects carry the size in their entry header (and, for deltas, at the
// start of the delta data). Both are read from the first bytes, so a size check costs a few
// hundred bytes of I/O and inflation however large the object is.
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { constants, inflateSync } from 'node:zlib';

export type ObjectKind = 'commit' | 'tree' | 'blob' | 'tag' | 'delta';

export interface ObjectHeader {
  kind: ObjectKind;
  /** Bytes of the object's content once inflated (for a delta, of the object it produces). */
  size: number;
}

const PACK_TYPES: Record<number, ObjectKind> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const REF_DELTA = 7;
// Compressed bytes read to find a header: a zlib stream can spend ~100 bytes on Huffman tables
// before its first output byte; from 64 to 4 KiB covers every encoder. The output of a partial
// inflate is bounded by the input (deflate expands at most ~1032:1).
const PROBES = [64, 512, 4096] as const;
const MAX_PROBE = 4096;

/** Reads object headers from one bare object store; parsed pack indexes are kept (packs are immutable). */
export class ObjectSizes {
  private readonly gitdir: string;
  private readonly indexes = new Map<string, PackIndex>();

  constructor(gitdir: string) {
    this.gitdir = gitdir;
  }

  /** The object's kind and size, or undefined when the store does not have it. */
  async header(oid: string): Promise<ObjectHeader | undefined> {
    return (await this.loose(oid)) ?? (await this.packed(oid));
  }

  private async loose(oid: string): Promise<ObjectHeader | undefined> {
    const path = join(this.gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
    const head = await readStart(path, 0, MAX_PROBE);
    if (head === undefined) return undefined;
    for (const probe of PROBES) {
      const text = partialInflate(head.subarray(0, probe)).toString('latin1');
      const match = /^(commit|tree|blob|tag) (\d+)\0/.exec(text);
      if (match?.[1] !== undefined && match[2] !== undefined)
        return { kind: match[1] as ObjectKind, size: Number(match[2]) };
      if (probe >= head.length) break;
    }
    throw new Error(`loose object ${oid} has no readable header`);
  }

  private async packed(oid: string): Promise<ObjectHeader | undefined> {
    const packDir = join(this.gitdir, 'objects', 'pack');
    const names = await readdir(packDir).catch(() => [] as string[]);
    for (const name of names) {
      if (!name.endsWith('.idx')) continue;
      const index = await this.index(join(packDir, name));
      const offset = index.offsetOf(oid);
      if (offset === undefined) continue;
      return entryHeader(join(packDir, `${name.slice(0, -4)}.pack`), offset);
    }
    return undefined;
  }

  private async index(path: string): Promise<PackIndex> {
    const known = this.indexes.get(path);
    if (known !== undefined) return known;
    const parsed = new PackIndex(await readFile(path));
    this.indexes.set(path, parsed);
    return parsed;
  }
}

/** A version 2 pack index: fan-out table, sorted ids, CRCs, 32-bit offsets, 64-bit offsets. */
export class PackIndex {
  private readonly data: Buffer;
  private readonly count: number;

  constructor(data: Buffer) {
    if (data.length < 8 + 256 * 4 || data.readUInt32BE(0) !== 0xff744f63 || data.readUInt32BE(4) !== 2) {
      throw new Error('not a version 2 pack index');
    }
    this.data = data;
    this.count = data.readUInt32BE(8 + 255 * 4);
  }

  offsetOf(oid: string): number | undefined {
    const wanted = Buffer.from(oid, 'hex');
    if (wanted.length !== 20) return undefined;
    const first = wanted[0] ?? 0;
    let lo = first === 0 ? 0 : this.data.readUInt32BE(8 + (first - 1) * 4);
    let hi = this.data.readUInt32BE(8 + first * 4);
    const ids = 8 + 256 * 4;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const cmp = this.data.compare(wanted, 0, 20, ids + mid * 20, ids + mid * 20 + 20);
      if (cmp === 0) return this.offsetAt(mid);
      if (cmp > 0) hi = mid;
      else lo = mid + 1;
    }
    return undefined;
  }

  private offsetAt(position: number): number {
    const offsets = 8 + 256 * 4 + this.count * 24;
    const small = this.data.readUInt32BE(offsets + position * 4);
    if ((small & 0x80000000) === 0) return small;
    const large = offsets + this.count * 4 + (small & 0x7fffffff) * 8;
    return Number(this.data.readBigUInt64BE(large));
  }
}

/** The header of the pack entry at `offset`: its type and size, or a delta's result size. */
async function entryHeader(packPath: string, offset: number): Promise<ObjectHeader> {
  const head = await readStart(packPath, offset, 32 + MAX_PROBE);
  if (head === undefined) throw new Error(`pack ${packPath} is missing`);
  const parsed = parseEntryHeader(head, 0);
  if (parsed === undefined) throw new Error(`malformed pack entry at ${offset} in ${packPath}`);
  const kind = PACK_TYPES[parsed.type];
  if (kind !== undefined) return { kind, size: parsed.size };
  return { kind: 'delta', size: deltaResultSize(head.subarray(parsed.dataStart)) };
}

export interface EntryHeader {
  type: number;
  /** The inflated size of the entry's data (for a delta: of the delta itself). */
  size: number;
  /** Where the zlib data starts, after the header (and a delta's base reference). */
  dataStart: number;
}

/** Parses a pack entry header at `at`; undefined when `data` ends inside it. */
export function parseEntryHeader(data: Buffer, at: number): EntryHeader | undefined {
  let pos = at;
  let byte = data[pos++];
  if (byte === undefined) return undefined;
  const type = (byte >> 4) & 0x07;
  let size = byte & 0x0f;
  let shift = 4;
  while (byte & 0x80) {
    byte = data[pos++];
    if (byte === undefined) return undefined;
    size += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  }
  if (type === OFS_DELTA) {
    do {
      byte = data[pos++];
      if (byte === undefined) return undefined;
    } while (byte & 0x80);
  } else if (type === REF_DELTA) {
    pos += 20;
    if (pos > data.length) return undefined;
  }
  return { type, size, dataStart: pos };
}

export function isDelta(type: number): boolean {
  return type === OFS_DELTA || type === REF_DELTA;
}

/** The size of the object a delta produces: the second varint of its (inflated) data. */
export function deltaResultSize(compressed: Buffer): number {
  for (const probe of PROBES) {
    const delta = partialInflate(compressed.subarray(0, probe));
    const base = readVarint(delta, 0);
    const result = base === undefined ? undefined : readVarint(delta, base.next);
    if (result !== undefined) return result.value;
    if (probe >= compressed.length) break;
  }
  throw new Error('delta has no readable header');
}

function readVarint(data: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let shift = 0;
  for (let pos = at; pos < data.length; pos += 1) {
    const byte = data[pos] ?? 0;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return { value, next: pos + 1 };
  }
  return undefined;
}

/** Inflates what a truncated zlib stream yields so far (never throws on the missing end). */
function partialInflate(chunk: Buffer): Buffer {
  try {
    return inflateSync(chunk, { finishFlush: constants.Z_SYNC_FLUSH });
  } catch {
    return Buffer.alloc(0);
  }
}

async function readStart(path: string, offset: number, length: number): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const size = (await stat(path)).size;
    const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
