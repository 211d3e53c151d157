import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import git from 'isomorphic-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReboundError } from '../errors.ts';
import { checkUploadPack } from './limits.ts';
import { makeObject } from './objects.ts';
import { ObjectSizes } from './object-size.ts';
import { pktLine, FLUSH } from './pktline.ts';

// 4 MB of comment lines: a few KB once compressed, the shape of the attack.
const hugeText = Buffer.from('# a comment line that compresses very well\n'.repeat(100_000));
const small = makeObject('blob', Buffer.from('replicaCount: 1\n'));
const huge = makeObject('blob', hugeText);
const base = makeObject('blob', Buffer.from('x'.repeat(100_000)));
// A delta that copies its 100 KB base 30 times: 600 bytes, and it produces 3 MB.
const COPIES = 30;
const grown = makeObject('blob', Buffer.concat(Array.from({ length: COPIES }, () => base.content)));
const grownDelta = Buffer.concat([
  varint(base.content.length),
  varint(grown.content.length),
  // Copy, no offset bytes (offset 0), three size bytes: 100000 = 0x0186a0.
  ...Array.from({ length: COPIES }, () => Buffer.from([0x80 | 0x70, 0xa0, 0x86, 0x01])),
]);

type RawEntry = { object: ReturnType<typeof makeObject> } | { delta: Buffer; base: ReturnType<typeof makeObject> };

/** A pack written the way Git writes one; deltas given as raw delta data against a base id. */
function pack(entries: RawEntry[]): Buffer {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(entries.length, 8);
  const parts: Buffer[] = [header];
  for (const entry of entries) {
    if ('object' in entry) {
      const type = { commit: 1, tree: 2, blob: 3, tag: 4 }[entry.object.type];
      parts.push(entryHeader(type, entry.object.content.length), deflateSync(entry.object.content));
    } else {
      parts.push(entryHeader(7, entry.delta.length), Buffer.from(entry.base.oid, 'hex'), deflateSync(entry.delta));
    }
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

function entryHeader(type: number, size: number): Buffer {
  const bytes = [(type << 4) | (size & 0x0f)];
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) | 0x80;
    bytes.push(rest & 0x7f);
    rest = Math.floor(rest / 128);
  }
  return Buffer.from(bytes);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.push((rest & 0x7f) | (rest >= 128 ? 0x80 : 0));
    rest = Math.floor(rest / 128);
  } while (rest > 0);
  return Buffer.from(bytes);
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rebound-object-size-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeLoose(gitdir: string, object: ReturnType<typeof makeObject>): Promise<void> {
  const objectDir = join(gitdir, 'objects', object.oid.slice(0, 2));
  await mkdir(objectDir, { recursive: true });
  await writeFile(
    join(objectDir, object.oid.slice(2)),
    deflateSync(Buffer.concat([Buffer.from(`${object.type} ${object.content.length}\0`), object.content])),
  );
}

describe('ObjectSizes', () => {
  it('reads the size of loose objects from their header', async () => {
    const gitdir = join(dir, 'loose');
    await writeLoose(gitdir, small);
    await writeLoose(gitdir, huge);
    const sizes = new ObjectSizes(gitdir);
    expect(await sizes.header(small.oid)).toEqual({ kind: 'blob', size: small.content.length });
    expect(await sizes.header(huge.oid)).toEqual({ kind: 'blob', size: hugeText.length });
    expect(await sizes.header('0'.repeat(40))).toBeUndefined();
  });

  it('reads the size of packed objects and of deltas from the pack, as isomorphic-git indexed it', async () => {
    const gitdir = join(dir, 'packed');
    await git.init({ fs, gitdir, bare: true });
    await mkdir(join(gitdir, 'objects', 'pack'), { recursive: true });
    await writeFile(
      join(gitdir, 'objects', 'pack', 'pack-test.pack'),
      pack([{ object: small }, { object: huge }, { object: base }, { delta: grownDelta, base }]),
    );
    await git.indexPack({ fs, dir: gitdir, gitdir, filepath: 'objects/pack/pack-test.pack' });
    const sizes = new ObjectSizes(gitdir);
    expect(await sizes.header(small.oid)).toEqual({ kind: 'blob', size: small.content.length });
    expect(await sizes.header(huge.oid)).toEqual({ kind: 'blob', size: hugeText.length });
    expect(await sizes.header(grown.oid)).toEqual({ kind: 'delta', size: grown.content.length });
    expect(await sizes.header('f'.repeat(40))).toBeUndefined();
  });
});

function uploadPackAnswer(pack: Buffer): Buffer {
  const lines = [pktLine('NAK\n')];
  for (let at = 0; at < pack.length; at += 65_000)
    lines.push(pktLine(Buffer.concat([Buffer.from([1]), pack.subarray(at, at + 65_000)])));
  return Buffer.concat([...lines, FLUSH]);
}

describe('checkUploadPack', () => {
  const limits = { maxPackBytes: 64 * 1024 * 1024, maxObjectBytes: 1024 * 1024 };

  it('lets a pack of small objects through', () => {
    expect(() => checkUploadPack(uploadPackAnswer(pack([{ object: small }, { object: base }])), limits)).not.toThrow();
  });

  it.each<[string, RawEntry[], number]>([
    ['a large object stored whole', [{ object: small }, { object: huge }], huge.content.length],
    [
      'a small delta that produces a large object',
      [{ object: base }, { delta: grownDelta, base }],
      grown.content.length,
    ],
  ])('refuses %s, from its header, as FileTooLarge', (_name, entries, size) => {
    const answer = uploadPackAnswer(pack(entries));
    expect(answer.length).toBeLessThan(200_000);
    let thrown: unknown;
    try {
      checkUploadPack(answer, limits);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ReboundError);
    expect(thrown).toMatchObject({ code: 'GitFetchTooLarge', reason: 'FileTooLarge', retryable: false });
    expect((thrown as Error).message).toContain(`object of ${size} bytes, over the 1048576-byte limit`);
  });
});
