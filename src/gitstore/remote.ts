// The smart HTTP side of the store: one request to read the refs, one to push a pack. Credentials
// travel only in the Authorization header (sent up front, so there is no 401 round trip), never in a
// URL, and every error is classified here with the secret scrubbed from its message.
import http from 'node:http';
import https from 'node:https';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import type { Reason } from '../api/index.ts';
import { ReboundError, errorMessage } from '../errors.ts';
import { scrubberFor } from '../net/scrub.ts';
import type { Scrub } from '../net/scrub.ts';
import { DEFAULT_FETCH_LIMITS, checkUploadPack, fetchTooLarge } from './limits.ts';
import type { FetchLimits } from './limits.ts';
import { FLUSH, parsePktLines, pktLine, pktText } from './pktline.ts';

export interface GitCredentials {
  username: string;
  token?: string;
  password?: string;
}

export type GitService = 'git-upload-pack' | 'git-receive-pack';

export const ZERO_OID = '0'.repeat(40);
const AGENT = 'agent=rebound/0.1';

export interface RefUpdate {
  ref: string;
  /** The value the server must still hold; ZERO_OID to create the ref. */
  old: string;
  new: string;
}

export type PushOutcome = { ok: true } | { ok: false; rejected: string };

export class GitRemote {
  readonly url: string;
  private readonly secret: string | undefined;
  private readonly authorization: string | undefined;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly limits: FetchLimits;
  private readonly scrub: Scrub;

  constructor(url: string, credentials?: GitCredentials, limits: FetchLimits = DEFAULT_FETCH_LIMITS) {
    this.limits = limits;
    const parsed = parseRemoteUrl(url);
    this.url = parsed.toString().replace(/\/+$/, '');
    this.transport = parsed.protocol === 'https:' ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: 4 });
    this.secret = credentials?.token ?? credentials?.password;
    if (credentials !== undefined) {
      const basic = Buffer.from(`${credentials.username}:${this.secret ?? ''}`).toString('base64');
      this.authorization = `Basic ${basic}`;
    }
    this.scrub = scrubberFor({
      secrets: [this.secret],
      ...(this.authorization ? { headers: { Authorization: this.authorization } } : {}),
    });
  }

  /** Every ref the server advertises for `service`, by name. One request. */
  async listRefs(service: GitService): Promise<Map<string, string>> {
    const response = await this.send('GET', `/info/refs?service=${service}`, {}, undefined);
    const { lines } = parsePktLines(response);
    const refs = new Map<string, string>();
    for (const line of lines) {
      if (line === null) continue;
      const text = pktText(line).split('\0')[0] ?? '';
      const match = /^([0-9a-f]{40}) (\S+)$/.exec(text);
      if (match?.[1] !== undefined && match[2] !== undefined && match[2] !== 'capabilities^{}')
        refs.set(match[2], match[1]);
    }
    if (!lines.some((line) => line !== null && pktText(line).startsWith('# service='))) {
      throw this.error(
        'the server did not answer with a Git smart HTTP ref advertisement',
        'GitProtocolError',
        undefined,
        false,
      );
    }
    return refs;
  }

  /** Sends ref updates and a pack to receive-pack. The server applies an update only while the ref
   * still holds `old`, so a concurrent push by someone else is refused, never overwritten. */
  async receivePack(updates: readonly RefUpdate[], pack: Buffer): Promise<PushOutcome> {
    const commands = updates.map((u, i) =>
      pktLine(`${u.old} ${u.new} ${u.ref}${i === 0 ? `\0report-status ${AGENT}` : ''}\n`),
    );
    const body = Buffer.concat([...commands, FLUSH, pack]);
    const response = await this.send(
      'POST',
      '/git-receive-pack',
      { 'Content-Type': 'application/x-git-receive-pack-request', Accept: 'application/x-git-receive-pack-result' },
      body,
    );
    const report = parsePktLines(response).lines.flatMap((line) => (line === null ? [] : [pktText(line)]));
    const unpack = report.find((line) => line.startsWith('unpack '));
    if (unpack !== 'unpack ok') {
      throw this.error(
        `the server could not unpack the pushed objects: ${unpack ?? 'no report'}`,
        'GitPushFailed',
        'CommitFailed',
        false,
      );
    }
    for (const update of updates) {
      const line = report.find((l) => l === `ok ${update.ref}` || l.startsWith(`ng ${update.ref} `));
      if (line === undefined) {
        throw this.error(`the server did not report on ${update.ref}`, 'GitPushFailed', 'CommitFailed', true);
      }
      if (line.startsWith('ng ')) return { ok: false, rejected: line.slice(4 + update.ref.length) };
    }
    return { ok: true };
  }

  /** An isomorphic-git HTTP client that shares this remote's connections and credentials. */
  httpClient(): HttpClient {
    return {
      request: async (request: GitHttpRequest): Promise<GitHttpResponse> => {
        const chunks: Buffer[] = [];
        if (request.body !== undefined) for await (const chunk of request.body) chunks.push(Buffer.from(chunk));
        const url = new URL(request.url);
        const { status, statusMessage, headers, body } = await this.raw(
          request.method ?? 'GET',
          url,
          { ...request.headers, ...this.authHeaders() },
          chunks.length > 0 ? Buffer.concat(chunks) : undefined,
          this.limits.maxPackBytes,
        );
        // Checked before isomorphic-git indexes the pack (which inflates every object in memory).
        if (status === 200 && url.pathname.endsWith('/git-upload-pack')) checkUploadPack(body, this.limits);
        return {
          url: request.url,
          method: request.method ?? 'GET',
          statusCode: status,
          statusMessage,
          headers,
          body: singleChunk(new Uint8Array(body)),
        };
      },
    };
  }

  authHeaders(): Record<string, string> {
    return this.authorization === undefined ? {} : { Authorization: this.authorization };
  }

  /** Removes every form of the credentials from any text that may reach a log, condition or error message. */
  redact(text: string): string {
    return this.scrub(text);
  }

  /** Wraps any error from a Git operation in a ReboundError whose message carries no secret. */
  classify(err: unknown, doing: string): ReboundError {
    if (err instanceof ReboundError) return err;
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
    const status = (err as { data?: { statusCode?: number } } | null)?.data?.statusCode;
    if (status === 401 || status === 403) return this.authError(status);
    if (status === 404)
      return this.error(`${doing}: repository not found`, 'GitRepositoryNotFound', 'GitUnreachable', false);
    const retryable = code !== 'NotFoundError' && code !== 'ParseError';
    return new ReboundError(this.redact(`${doing} at ${this.url} failed: ${errorMessage(err)}`), {
      code: code === '' ? 'GitError' : `Git${code.replace(/Error$/, '')}Error`,
      reason: 'GitUnreachable',
      retryable,
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private authError(status: number): ReboundError {
    return this.error(
      `the Git server refused the credentials (HTTP ${status}); check the Project's Git secret`,
      'GitAuthFailed',
      'GitAuthFailed',
      false,
    );
  }

  /** `reason` undefined: the caller's context names the failure (reading a policy, committing). */
  private error(message: string, code: string, reason: Reason | undefined, retryable: boolean): ReboundError {
    return new ReboundError(this.redact(`${this.url}: ${message}`), { code, retryable, ...(reason ? { reason } : {}) });
  }

  private async send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
  ): Promise<Buffer> {
    const response = await this.raw(method, new URL(`${this.url}${path}`), { ...headers, ...this.authHeaders() }, body);
    if (response.status === 401 || response.status === 403) throw this.authError(response.status);
    if (response.status === 404)
      throw this.error('repository not found (HTTP 404)', 'GitRepositoryNotFound', 'GitUnreachable', false);
    if (response.status !== 200) {
      throw this.error(
        `HTTP ${response.status} for ${method} ${path.split('?')[0] ?? path}`,
        'GitServerError',
        'GitUnreachable',
        response.status >= 500,
      );
    }
    return response.body;
  }

  private raw(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: Buffer | undefined,
    maxBytes = this.limits.maxPackBytes,
  ): Promise<{ status: number; statusMessage: string; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const request = this.transport.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            'User-Agent': 'git/rebound',
            ...headers,
            ...(body === undefined ? {} : { 'Content-Length': String(body.length) }),
          },
          timeout: 30_000,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let received = 0;
          response.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > maxBytes) {
              reject(
                fetchTooLarge(
                  `the Git server's answer to ${method} ${url.pathname} exceeds the ${maxBytes}-byte limit`,
                ),
              );
              response.destroy();
              return;
            }
            chunks.push(chunk);
          });
          response.on('error', reject);
          response.on('end', () => {
            const flat: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) {
              if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            resolve({
              status: response.statusCode ?? 0,
              statusMessage: response.statusMessage ?? '',
              headers: flat,
              body: Buffer.concat(chunks),
            });
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error('request timed out after 30 s')));
      request.on('error', (err) => {
        reject(
          this.error(`cannot reach the Git server: ${errorMessage(err)}`, 'GitUnreachable', 'GitUnreachable', true),
        );
      });
      request.end(body);
    });
  }
}

/** Only http(s) URLs without embedded credentials: a password inside a URL ends up in logs. */
export function parseRemoteUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ReboundError('the Git URL is not a valid URL', {
      code: 'InvalidGitUrl',
      reason: 'InvalidGitUrl',
      retryable: false,
    });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ReboundError(`the Git URL must use http or https, not ${parsed.protocol}`, {
      code: 'InvalidGitUrl',
      reason: 'InvalidGitUrl',
      retryable: false,
    });
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new ReboundError("the Git URL must not contain credentials: put them in the Project's Git secret", {
      code: 'InvalidGitUrl',
      reason: 'InvalidGitUrl',
      retryable: false,
    });
  }
  parsed.hash = '';
  return parsed;
}

/** The async iterator isomorphic-git reads response bodies from, over one buffered chunk. */
function singleChunk(chunk: Uint8Array): AsyncIterableIterator<Uint8Array> {
  let sent = false;
  const iterator: AsyncIterableIterator<Uint8Array> = {
    next: () => {
      if (sent) return Promise.resolve({ done: true, value: undefined });
      sent = true;
      return Promise.resolve({ done: false, value: chunk });
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
