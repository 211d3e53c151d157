// What the store reads: files up to the formats' 1 MiB limit, checked from the object's header
// before its content is read; and what one fetch may bring in.
//
// Why the fetch is bounded: isomorphic-git holds the whole pack in memory and
// inflates every object in it to index it, so a file of hundreds of MB of comment lines, a few
// hundred KB on the wire, would take the process past its memory limit in the fetch itself, and
// again after every restart. The upload-pack answer is therefore checked before isomorphic-git
// sees it: its size on the wire, and each object's inflated size as its pack entry declares it
// (a delta's from the start of its data), inflating one bounded object at a time to walk the pack.
import { constants, inflateSync } from 'node:zlib';
import type { ZlibOptions } from 'node:zlib';
import { ReboundError } from '../errors.ts';
import { deltaResultSize, isDelta, parseEntryHeader } from './object-size.ts';
import { parsePktLines } from './pktline.ts';

export interface FetchLimits {
  /** Bytes of one upload-pack answer (the pack as sent). Default 64 MiB. */
  maxPackBytes: number;
  /** Inflated bytes of any one object in a fetched pack. Default 32 MiB. */
  maxObjectBytes: number;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = { maxPackBytes: 64 * 1024 * 1024, maxObjectBytes: 32 * 1024 * 1024 };

export const FETCH_TOO_LARGE = 'GitFetchTooLarge';

/** The formats' limit (formats/yaml.ts MAX_FILE_BYTES): no configuration or values file is larger. */
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

/** A file the store refused to read because of its size; it says which file, where, and how big. */
export class FileTooLargeError extends ReboundError {
  readonly path: string;
  readonly commit: string;
  readonly size: number;
  readonly limit: number;

  constructor(file: { path: string; commit: string; size: number; limit: number }) {
    super(
      `${file.path} at ${file.commit.slice(0, 8)} is ${file.size} bytes, larger than the ${file.limit}-byte limit`,
      {
        code: 'GitFileTooLarge',
        reason: 'FileTooLarge',
        retryable: false,
      },
    );
    this.name = 'FileTooLargeError';
    this.path = file.path;
    this.commit = file.commit;
    this.size = file.size;
    this.limit = file.limit;
  }
}

export function fetchTooLarge(detail: string): ReboundError {
  return new ReboundError(`${detail}; remove the large file from the branch (a revert is enough)`, {
    code: FETCH_TOO_LARGE,
    reason: 'FileTooLarge',
    retryable: false,
  });
}

/**
 * Throws a FileTooLarge ReboundError when the pack in an upload-pack answer (side-band framed, as
 * isomorphic-git asks for) holds an object larger than the limit. Answers without a pack pass.
 */
export function checkUploadPack(body: Buffer, limits: FetchLimits): void {
  const pack = packOf(body);
  if (pack === undefined) return;
  if (pack.length < 12 || pack.toString('latin1', 0, 4) !== 'PACK') return;
  const count = pack.readUInt32BE(8);
  let at = 12;
  for (let i = 0; i < count; i += 1) {
    const header = parseEntryHeader(pack, at);
    if (header === undefined) return;
    const data = pack.subarray(header.dataStart);
    const produced = isDelta(header.type) ? deltaResultSize(data) : header.size;
    if (produced > limits.maxObjectBytes || header.size > limits.maxObjectBytes) {
      throw fetchTooLarge(
        `the fetched pack holds an object of ${Math.max(produced, header.size)} bytes, over the ${limits.maxObjectBytes}-byte limit`,
      );
    }
    // Inflating the (bounded) entry tells where it ends, so the next header can be read.
    let consumed: number;
    try {
      consumed = inflateWithInfo(data, Math.max(1, header.size));
    } catch {
      // A corrupt pack: isomorphic-git reports it with its own words.
      return;
    }
    at = header.dataStart + consumed;
  }
}

/** Node returns the engine (and how much input it consumed) with `info: true`; its types do not say so. */
function inflateWithInfo(data: Buffer, maxOutputLength: number): number {
  const options = { info: true, maxOutputLength, finishFlush: constants.Z_FINISH } as ZlibOptions;
  const result = inflateSync(data, options) as unknown as { engine: { bytesWritten: number } };
  return result.engine.bytesWritten;
}

/** The pack data of an upload-pack answer: the side-band channel 1 payloads, concatenated. */
function packOf(body: Buffer): Buffer | undefined {
  const { lines } = parsePktLines(body);
  const parts: Buffer[] = [];
  for (const line of lines) if (line !== null && line[0] === 1) parts.push(line.subarray(1));
  return parts.length === 0 ? undefined : Buffer.concat(parts);
}
