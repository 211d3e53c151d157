// Request bodies with a hard size limit enforced while streaming: a sender cannot make us buffer more
// than the limit, whatever Content-Length says (or does not say).
import type { IncomingMessage } from 'node:http';
import { errorMessage } from '../errors.ts';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** An HTTP answer decided before the body reached the mapper (size, type, auth). */
export class HttpError extends Error {
  readonly status: number;
  readonly field: string | null;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    message: string,
    options: { field?: string | null; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.field = options.field ?? null;
    this.headers = options.headers ?? {};
  }
}

/** The body as JSON, or a 400 saying why not. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new HttpError(400, 'empty body: expected a JSON document');
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new HttpError(400, `body is not valid JSON: ${errorMessage(err)}`);
  }
}

export function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request body larger than ${limit} bytes`);
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** The media type without parameters, lower-cased; and whether a declared charset is UTF-8. */
export function mediaType(contentType: string | undefined): { type: string; utf8: boolean } | undefined {
  if (contentType === undefined) return undefined;
  const [type = '', ...params] = contentType.split(';');
  const charset = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('charset='));
  const value = charset?.slice('charset='.length).replace(/"/g, '');
  return { type: type.trim().toLowerCase(), utf8: value === undefined || value === 'utf-8' || value === 'utf8' };
}
