// One JSON request to a forge's API: the host allow-list first, a timeout per request, no
// redirects (a redirect could carry the token elsewhere), a capped read of the answer, and errors
// classified once here with the token scrubbed from anything the forge echoed back.
import { REASONS } from '../api/constants.ts';
import { describeFetchError, ReboundError } from '../errors.ts';
import { checkAllowedUrl } from '../net/allowed-hosts.ts';
import { scrubberFor } from '../net/scrub.ts';
import type { ForgeSettings } from './types.ts';

const DEFAULT_TIMEOUT_MS = 10_000;
/** What a message keeps of a refusal's body. */
const KEPT_BODY_CHARS = 300;
/** Answers are small JSON objects; anything larger is refused rather than buffered. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export interface ForgeRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  /** Absolute URL under the forge's API. */
  url: string;
  body?: unknown;
  signal?: AbortSignal | undefined;
}

export interface ForgeAnswer {
  status: number;
  json: unknown;
}

/** Builds the requester for one forge: `auth` holds the headers that carry the token. */
export function forgeRequester(
  settings: ForgeSettings,
  auth: Record<string, string>,
  extraHeaders: Record<string, string> = {},
): (request: ForgeRequest, allow?: readonly number[]) => Promise<ForgeAnswer> {
  const scrub = scrubberFor({ headers: auth, secrets: [settings.token] });
  const fetchFn = settings.fetch ?? fetch;
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return async (request, allow = []) => {
    const allowed = checkAllowedUrl(request.url, settings.allowedHosts, "the Project's spec.forge.allowedHosts");
    if (!allowed.ok)
      throw new ReboundError(allowed.reason, {
        code: 'ForgeHostNotAllowed',
        reason: REASONS.InvalidSpec,
        retryable: false,
      });
    // Named by method and path only: the query never carries a secret here, but keep messages short.
    const what = `${request.method} ${allowed.url.origin}${allowed.url.pathname}`;
    const signals = [AbortSignal.timeout(timeoutMs), ...(request.signal ? [request.signal] : [])];
    let response: Response;
    try {
      response = await fetchFn(allowed.url, {
        method: request.method,
        headers: {
          accept: 'application/json',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          'user-agent': 'rebound',
          ...extraHeaders,
          ...auth,
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        redirect: 'manual',
        signal: AbortSignal.any(signals),
      });
    } catch (err) {
      request.signal?.throwIfAborted();
      throw new ReboundError(`${what}: ${scrub(describeFetchError(err))}`, {
        code: 'ForgeUnavailable',
        retryable: true,
        cause: err,
      });
    }
    const text = await readCapped(response, what);
    if (response.ok || allow.includes(response.status)) {
      let json: unknown = undefined;
      if (text.trim() !== '') {
        try {
          json = JSON.parse(text);
        } catch (err) {
          throw new ReboundError(`${what}: the answer is not JSON`, {
            code: 'ForgeBadAnswer',
            retryable: true,
            cause: err,
          });
        }
      }
      return { status: response.status, json };
    }
    const detail = scrub(text.slice(0, KEPT_BODY_CHARS)).replace(/\s+/g, ' ').trim();
    const message = `${what} answered ${String(response.status)}${detail ? `: ${detail}` : ''}`;
    const status = response.status;
    if (status === 401 || status === 403)
      throw new ReboundError(`${message} (is the token in spec.forge.secretRef valid and allowed to do this?)`, {
        code: 'ForgeUnauthorized',
        retryable: false,
      });
    if (status >= 500 || status === 429 || status === 408)
      throw new ReboundError(message, { code: 'ForgeUnavailable', retryable: true });
    if (status >= 300 && status < 400)
      throw new ReboundError(`${message} (redirects are not followed: is spec.forge.url the forge's address?)`, {
        code: 'ForgeRedirected',
        retryable: false,
      });
    throw new ReboundError(message, { code: status === 404 ? 'ForgeNotFound' : 'ForgeRejected', retryable: false });
  };
}

async function readCapped(response: Response, what: string): Promise<string> {
  const length = Number(response.headers.get('content-length') ?? '0');
  if (length > MAX_ANSWER_BYTES) {
    await response.body?.cancel();
    throw new ReboundError(`${what}: the answer is larger than ${String(MAX_ANSWER_BYTES)} bytes`, {
      code: 'ForgeBadAnswer',
      retryable: false,
    });
  }
  const buffer = Buffer.from(await response.arrayBuffer());
  if (buffer.length > MAX_ANSWER_BYTES)
    throw new ReboundError(`${what}: the answer is larger than ${String(MAX_ANSWER_BYTES)} bytes`, {
      code: 'ForgeBadAnswer',
      retryable: false,
    });
  return buffer.toString('utf8');
}

/** The API's base URL under the forge's web address, without a trailing slash. */
export function apiBase(url: string, path: string): string {
  return `${url.replace(/\/+$/, '')}${path}`;
}

/** `owner/name` as two URL path segments, each escaped. */
export function ownerAndName(repository: string): string {
  const parts = repository.split('/');
  if (parts.length !== 2 || parts.some((p) => p === ''))
    throw new ReboundError(`spec.forge.repository must be "owner/name", not ${JSON.stringify(repository)}`, {
      code: 'ForgeInvalidRepository',
      reason: REASONS.InvalidSpec,
      retryable: false,
    });
  return parts.map(encodeURIComponent).join('/');
}

/** A field of a JSON answer, or a ForgeBadAnswer naming it. */
export function field<T>(json: unknown, name: string, check: (v: unknown) => v is T, what: string): T {
  const value = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[name] : undefined;
  if (!check(value))
    throw new ReboundError(`${what}: the answer has no usable "${name}"`, { code: 'ForgeBadAnswer', retryable: false });
  return value;
}

export const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
export const isString = (v: unknown): v is string => typeof v === 'string';

export function optionalString(json: unknown, name: string): string | undefined {
  const value = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** One line of at most `max` characters (forges cut descriptions; GitHub at 140). */
export function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
