// Kubernetes API errors, classified once at the boundary into ReboundError with a stable code and
// whether a retry can help. They carry no condition reason: the same failed call means a failed
// commit in one place and an unreadable Secret in another, so the caller names it. Callers test
// `code` (or the helpers below), never messages or HTTP statuses.
import { ReboundError } from '../errors.ts';

export const KUBE_ERROR_CODES = {
  NotFound: 'KubeNotFound',
  AlreadyExists: 'KubeAlreadyExists',
  Conflict: 'KubeConflict',
  Expired: 'KubeExpired',
  Invalid: 'KubeInvalid',
  Unauthorized: 'KubeUnauthorized',
  Forbidden: 'KubeForbidden',
  TooManyRequests: 'KubeTooManyRequests',
  ServerError: 'KubeServerError',
  Unavailable: 'KubeUnavailable',
} as const;
export type KubeErrorCode = (typeof KUBE_ERROR_CODES)[keyof typeof KUBE_ERROR_CODES];

export class KubeError extends ReboundError {
  /** HTTP status, when the API server answered. */
  readonly status: number | undefined;

  constructor(message: string, options: { code: KubeErrorCode; retryable: boolean; status?: number; cause?: unknown }) {
    super(message, options);
    this.name = 'KubeError';
    this.status = options.status;
  }
}

/** Network errors that mean "the API server was not reachable just now". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

interface StatusBody {
  reason?: string;
  message?: string;
}

/**
 * Turns whatever the client threw into a KubeError. `action` says what was attempted, e.g.
 * `get problemevents team-a/p1`; it starts the message. Already classified errors pass through.
 */
export function classifyKubeError(err: unknown, action: string): KubeError {
  if (err instanceof KubeError) return err;
  const status = httpStatus(err);
  if (status !== undefined) return fromStatus(status, statusBody(err), action, err);
  const network = networkCode(err) ?? fetchFailure(err);
  if (network !== undefined || isAbortOrTimeout(err)) {
    return new KubeError(`${action}: API server unreachable (${network ?? 'timeout'})`, {
      code: KUBE_ERROR_CODES.Unavailable,
      retryable: true,
      cause: err,
    });
  }
  // Unknown failures are retried: a person cannot fix what we cannot name, and backoff is capped.
  return new KubeError(`${action}: ${err instanceof Error ? err.message : String(err)}`, {
    code: KUBE_ERROR_CODES.ServerError,
    retryable: true,
    cause: err,
  });
}

function fromStatus(status: number, body: StatusBody, action: string, cause: unknown): KubeError {
  const detail = body.message ? `: ${body.message}` : '';
  const make = (code: KubeErrorCode, retryable: boolean, what: string): KubeError =>
    new KubeError(`${action}: ${what}${detail}`, { code, retryable, status, cause });
  switch (status) {
    case 400:
    case 422:
      return make(KUBE_ERROR_CODES.Invalid, false, `rejected as invalid (${status})`);
    // Retried with backoff, never final: a restarting API server answers 401 until its
    // authenticators are loaded and 403 until its authorizer has synced its RBAC caches, and a
    // controller that gave up then would leave every problem frozen until the next resync. A
    // real misconfiguration retries at the rate limiter's capped backoff and shows in the logs.
    case 401:
      return make(KUBE_ERROR_CODES.Unauthorized, true, 'unauthorized (401)');
    case 403:
      return make(KUBE_ERROR_CODES.Forbidden, true, 'forbidden (403)');
    case 404:
      return make(KUBE_ERROR_CODES.NotFound, false, 'not found (404)');
    case 409:
      return body.reason === 'AlreadyExists'
        ? make(KUBE_ERROR_CODES.AlreadyExists, false, 'already exists (409)')
        : make(KUBE_ERROR_CODES.Conflict, true, 'conflict (409)');
    case 410:
      return make(KUBE_ERROR_CODES.Expired, true, 'resource version expired (410)');
    case 429:
      return make(KUBE_ERROR_CODES.TooManyRequests, true, 'throttled (429)');
    default:
      if (status >= 500) return make(KUBE_ERROR_CODES.ServerError, true, `server error (${status})`);
      return make(KUBE_ERROR_CODES.Invalid, false, `unexpected status ${status}`);
  }
}

function httpStatus(err: unknown): number | undefined {
  // DOMException (abort, timeout) has a numeric legacy `code` that is not an HTTP status.
  if (typeof err !== 'object' || err === null || err instanceof DOMException) return undefined;
  // ApiException has `code` (a number); Watch errors have `statusCode`.
  const e = err as { code?: unknown; statusCode?: unknown };
  const status = typeof e.code === 'number' ? e.code : e.statusCode;
  return typeof status === 'number' && status >= 100 && status <= 599 ? status : undefined;
}

function statusBody(err: unknown): StatusBody {
  const body = (err as { body?: unknown }).body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return {};
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const { reason, message } = parsed as { reason?: unknown; message?: unknown };
  return {
    ...(typeof reason === 'string' ? { reason } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  }
  return undefined;
}

/** undici's fetch reports every network-level failure as TypeError('fetch failed'), the reason in its cause. */
function fetchFailure(err: unknown): string | undefined {
  if (!(err instanceof TypeError) || err.message !== 'fetch failed') return undefined;
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : 'fetch failed';
}

function isAbortOrTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeError && err.code === KUBE_ERROR_CODES.NotFound;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeError && err.code === KUBE_ERROR_CODES.Conflict;
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof KubeError && err.code === KUBE_ERROR_CODES.AlreadyExists;
}
