// Packfiles for pushes: exactly the new objects of a step, the trees and blobs sent as deltas
// against the versions the server already has (a "thin" pack, which receive-pack completes), so a
// one-line change costs a few hundred bytes whatever the number of files in the repository.
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { GitObject } from './objects.ts';

const TYPE_CODES = { commit: 1, tree: 2, blob: 3, tag: 4 } as const;
const REF_DELTA = 7;

/** zlib settings for the small objects of a step: a 256 KiB default deflate state per object is
 * allocated and freed eight times a step, and the allocator keeps the high-water mark resident. A
 * 8 KiB window is plenty for a values file or a tree delta, and any inflater reads it. */
export const SMALL_ZLIB = { level: 1, windowBits: 13, memLevel: 6 } as const;

export interface PackEntry {
  object: GitObject;
  /** An object the receiver has (or that comes earlier in this pack) to encode a delta against. */
  base?: GitObject;
}

export function buildPack(entries: readonly PackEntry[]): Buffer {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(entries.length, 8);
  const parts: Buffer[] = [header];
  for (const { object, base } of entries) {
    const delta = base === undefined ? undefined : createDelta(base.content, object.content);
    if (base !== undefined && delta !== undefined && delta.length + 20 < object.content.length) {
      parts.push(objectHeader(REF_DELTA, delta.length), Buffer.from(base.oid, 'hex'), deflateSync(delta, SMALL_ZLIB));
    } else {
      parts.push(objectHeader(TYPE_CODES[object.type], object.content.length), deflateSync(object.content, SMALL_ZLIB));
    }
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

function objectHeader(type: number, size: number): Buffer {
  const bytes: number[] = [];
  let byte = (type << 4) | (size & 0x0f);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes.push(byte | 0x80);
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(byte);
  return Buffer.from(bytes);
}

function sizeVarint(size: number): number[] {
  const bytes: number[] = [];
  let rest = size;
  do {
    let byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return bytes;
}

const MAX_COPY = 0x10000;
const MAX_INSERT = 0x7f;

/**
 * A Git delta turning `base` into `target`: copy the common prefix, insert what differs, copy the
 * common suffix. One edited line in a file, or one changed entry in a tree, is exactly that shape,
 * so this simple encoder is as small as Git's own for our edits.
 */
export function createDelta(base: Buffer, target: Buffer): Buffer {
  let prefix = 0;
  const limit = Math.min(base.length, target.length);
  while (prefix < limit && base[prefix] === target[prefix]) prefix += 1;
  let suffix = 0;
  while (suffix < limit - prefix && base[base.length - 1 - suffix] === target[target.length - 1 - suffix]) {
    suffix += 1;
  }
  const out: number[] = [...sizeVarint(base.length), ...sizeVarint(target.length)];
  copy(out, 0, prefix);
  for (let at = prefix; at < target.length - suffix; at += MAX_INSERT) {
    const end = Math.min(at + MAX_INSERT, target.length - suffix);
    out.push(end - at);
    for (let i = at; i < end; i += 1) out.push(target[i] ?? 0);
  }
  copy(out, base.length - suffix, suffix);
  return Buffer.from(out);
}

function copy(out: number[], offset: number, length: number): void {
  for (let done = 0; done < length; done += MAX_COPY) {
    const size = Math.min(MAX_COPY, length - done);
    const at = offset + done;
    let op = 0x80;
    const args: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const byte = Math.floor(at / 2 ** (8 * i)) & 0xff;
      if (byte !== 0) {
        op |= 1 << i;
        args.push(byte);
      }
    }
    // A size of 0x10000 is encoded as no size bytes at all.
    if (size !== MAX_COPY) {
      for (let i = 0; i < 3; i += 1) {
        const byte = (size >> (8 * i)) & 0xff;
        if (byte !== 0) {
          op |= 0x10 << i;
          args.push(byte);
        }
      }
    }
    out.push(op, ...args);
  }
}

/** Applies a Git delta (the receiver's side); used to check the encoder. */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let pos = 0;
  const readSize = (): number => {
    let size = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = delta[pos++] ?? 0;
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return size;
  };
  const baseSize = readSize();
  if (baseSize !== base.length) throw new Error(`delta base size ${baseSize} does not match ${base.length}`);
  const targetSize = readSize();
  const out: Buffer[] = [];
  while (pos < delta.length) {
    const op = delta[pos++] ?? 0;
    if (op & 0x80) {
      let offset = 0;
      let size = 0;
      for (let i = 0; i < 4; i += 1) if (op & (1 << i)) offset += (delta[pos++] ?? 0) * 2 ** (8 * i);
      for (let i = 0; i < 3; i += 1) if (op & (0x10 << i)) size += (delta[pos++] ?? 0) << (8 * i);
      if (size === 0) size = MAX_COPY;
      out.push(base.subarray(offset, offset + size));
    } else if (op > 0) {
      out.push(delta.subarray(pos, pos + op));
      pos += op;
    } else {
      throw new Error('delta opcode 0 is reserved');
    }
  }
  const result = Buffer.concat(out);
  if (result.length !== targetSize) throw new Error(`delta produced ${result.length} bytes, expected ${targetSize}`);
  return result;
}
