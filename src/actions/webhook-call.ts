// The outbound HTTP call of a webhook action: the allow-list check, JSON in, bounded retries with
// backoff on what may pass (5xx, 429, network errors, timeouts), no redirects, a capped read of the
// answer. Also the credentials a webhook's Secret turns into, and the body a runbook receives.
//
// Nothing here puts a header value into a message: headers carry tokens. Messages name the endpoint
// by origin only, because webhook URLs often carry a secret in their path or query.
import { REASONS } from '../api/constants.ts';
import { describeFetchError, ReboundError } from '../errors.ts';
import { scrubberFor } from '../net/scrub.ts';
import { sleep as clockSleep, systemClock } from '../runtime/clock.ts';
import { checkAllowedUrl } from '../net/allowed-hosts.ts';

export interface WebhookRequest {
  url: string;
  method?: 'POST' | 'PUT';
  /** Sent as given (after validation); Content-Type may be overridden, Idempotency-Key may not. */
  headers?: Record<string, string>;
  /** Any JSON value. */
  body: unknown;
  /** The same for every try (and after a restart), so the receiver can drop repeats. */
  idempotencyKey: string;
}

export interface WebhookCallOptions {
  allowedHosts: readonly string[];
  /** Per try, including reading the answer. */
  timeoutMs: number;
  /** Extra tries after the first, on 5xx, 429 and network errors or timeouts. */
  retries: number;
  /** Wait before the second try, doubled for each later one, capped at 10 s. Retry-After (seconds) wins, under the same cap. */
  backoffMs?: number;
  /** Cancels the call: the signal's reason is thrown at once, no further tries. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type WebhookCallResult =
  | { ok: true; status: number; tries: number; /** First 1 KiB, as text. */ responseBody: string }
  | {
      ok: false;
      status?: number;
      tries: number;
      reason: 'WebhookHostNotAllowed' | 'WebhookUnavailable' | 'WebhookRejected';
      retryable: boolean;
      message: string;
      responseBody?: string;
    };

export const DEFAULT_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 10_000;
const KEPT_BODY_BYTES = 1024;
/** Small answers are read to the end so the connection can be reused; past this the rest is dropped. */
const MAX_READ_BYTES = 64 * 1024;

type TryOutcome =
  | { kind: 'ok'; status: number; body: string }
  | { kind: 'rejected'; status: number; body: string; detail: string }
  | { kind: 'retry'; status?: number; body?: string; detail: string; retryAfterMs?: number };

/**
 * Calls the webhook. Never throws for what the endpoint does; throws the signal's reason when
 * cancelled, and a ReboundError (InvalidSpec) for a header that cannot be sent.
 */
export async function callWebhook(request: WebhookRequest, options: WebhookCallOptions): Promise<WebhookCallResult> {
  const allowed = checkAllowedUrl(request.url, options.allowedHosts);
  if (!allowed.ok)
    return { ok: false, tries: 0, reason: 'WebhookHostNotAllowed', retryable: false, message: allowed.reason };
  const method = request.method ?? 'POST';
  const target = `${method} ${allowed.url.origin}`;
  const headers = requestHeaders(request);
  const scrub = scrubberFor({ headers: request.headers ?? {}, url: request.url });
  const init: RequestInit = { method, headers, body: JSON.stringify(request.body), redirect: 'manual' };
  const fetchFn = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number, signal?: AbortSignal) => clockSleep(systemClock, ms, signal));
  const maxTries = Math.max(0, Math.floor(options.retries)) + 1;
  const base = options.backoffMs ?? DEFAULT_BACKOFF_MS;

  for (let tries = 1; ; tries++) {
    options.signal?.throwIfAborted();
    const outcome = await tryOnce(allowed.url, init, options.timeoutMs, options.signal, fetchFn);
    const responseBody = 'body' in outcome && outcome.body !== undefined ? scrub(outcome.body) : undefined;
    if (outcome.kind === 'ok') return { ok: true, status: outcome.status, tries, responseBody: responseBody ?? '' };
    const detail = `${outcome.detail}${responseBody ? `: ${responseBody}` : ''}`;
    const status = outcome.status === undefined ? {} : { status: outcome.status };
    const body = responseBody === undefined ? {} : { responseBody };
    if (outcome.kind === 'rejected') {
      return {
        ok: false,
        ...status,
        tries,
        reason: 'WebhookRejected',
        retryable: false,
        message: `${target} ${detail}`,
        ...body,
      };
    }
    if (tries >= maxTries) {
      const message = `${target} is unavailable after ${tries} ${tries === 1 ? 'try' : 'tries'}: ${detail}`;
      return { ok: false, ...status, tries, reason: 'WebhookUnavailable', retryable: true, message, ...body };
    }
    await sleep(outcome.retryAfterMs ?? Math.min(base * 2 ** (tries - 1), MAX_BACKOFF_MS), options.signal);
  }
}

async function tryOnce(
  url: URL,
  init: RequestInit,
  timeoutMs: number,
  cancel: AbortSignal | undefined,
  fetchFn: typeof fetch,
): Promise<TryOutcome> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = cancel ? AbortSignal.any([cancel, timeout]) : timeout;
  let response: Response;
  try {
    response = await fetchFn(url, { ...init, signal });
  } catch (err) {
    if (cancel?.aborted) throw cancel.reason;
    return {
      kind: 'retry',
      detail: timeout.aborted ? `no answer within ${timeoutMs} ms` : `cannot connect: ${describeFetchError(err)}`,
    };
  }
  // The status decides: an answer cut short (by the timeout, say) is kept as far as it came.
  const body = await readCapped(response, cancel);
  const status = response.status;
  if (status >= 200 && status <= 299) return { kind: 'ok', status, body };
  if (status === 429 || status >= 500) {
    const retryAfterMs = retryAfter(response.headers.get('retry-after'));
    return {
      kind: 'retry',
      status,
      body,
      detail: `answered HTTP ${status}`,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  if (status >= 300 && status <= 399) {
    return {
      kind: 'rejected',
      status,
      body,
      detail: `answered HTTP ${status} (a redirect): redirects are not followed, configure the final URL`,
    };
  }
  return { kind: 'rejected', status, body, detail: `answered HTTP ${status}` };
}

/** The first KiB of the answer as text; reading stops after 64 KiB so a huge answer costs nothing. */
async function readCapped(response: Response, cancel: AbortSignal | undefined): Promise<string> {
  const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
  if (!reader) return '';
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  let readBytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      readBytes += value.byteLength;
      if (keptBytes < KEPT_BODY_BYTES) {
        const part = value.subarray(0, KEPT_BODY_BYTES - keptBytes);
        kept.push(part);
        keptBytes += part.byteLength;
      }
      if (readBytes >= MAX_READ_BYTES) {
        void reader.cancel().catch(() => undefined);
        break;
      }
    }
  } catch (err) {
    if (cancel?.aborted) throw cancel.reason ?? err;
  }
  // `stream: true` holds back a character cut in half at the 1 KiB boundary instead of mangling it.
  return new TextDecoder().decode(Buffer.concat(kept), { stream: true });
}

/** Retry-After in delta-seconds, capped like the backoff. HTTP-date values fall back to the backoff. */
function retryAfter(value: string | null): number | undefined {
  if (value === null || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Math.min(Number(value) * 1000, MAX_BACKOFF_MS);
}

function requestHeaders(request: WebhookRequest): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'rebound' };
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    const problem = headerProblem(name, value);
    if (problem !== undefined) {
      throw new ReboundError(`webhook header ${JSON.stringify(name)} ${problem}`, {
        code: 'InvalidWebhookHeader',
        reason: REASONS.InvalidSpec,
        retryable: false,
      });
    }
    headers[name.toLowerCase()] = value;
  }
  const problem = headerProblem('Idempotency-Key', request.idempotencyKey);
  if (problem !== undefined) {
    throw new ReboundError(`Idempotency-Key ${problem}`, {
      code: 'InvalidWebhookHeader',
      reason: REASONS.InvalidSpec,
      retryable: false,
    });
  }
  headers['idempotency-key'] = request.idempotencyKey;
  return headers;
}

/** RFC 7230 token characters. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Why a header cannot be sent, without quoting its value. */
function headerProblem(name: string, value: string): string | undefined {
  if (!HEADER_NAME.test(name)) return 'is not a valid header name (RFC 7230 token characters only)';
  if (/[\r\n]/.test(value)) return 'has a line break in its value (a trailing newline from `echo`?)';
  if (/[\0]/.test(value)) return 'has a NUL character in its value';
  return undefined;
}

/** Headers that frame the request or that Rebound sets itself; a Secret may not supply them. */
const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
  'content-type',
  'idempotency-key',
]);
const HEADER_KEY_PREFIX = 'header.';

/**
 * Request headers from a webhook Secret's decoded data: `token` → `Authorization: Bearer <token>`;
 * `username` + `password` → Basic; `header.<Name>` → header `<Name>`. Other keys are ignored. Throws a
 * ReboundError (SecretInvalid, not retryable) naming the key, never the value.
 */
export function webhookCredentialHeaders(secretData: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  const { token, username, password } = secretData;
  if (token !== undefined && (username !== undefined || password !== undefined)) {
    throw secretInvalid('token', 'and username/password are both set: keep one kind of credential');
  }
  if (token !== undefined) {
    checkSecretValue('token', token);
    headers['Authorization'] = `Bearer ${token}`;
  } else if (username !== undefined || password !== undefined) {
    if (username === undefined)
      throw secretInvalid('username', 'is missing: Basic credentials need username and password');
    if (password === undefined)
      throw secretInvalid('password', 'is missing: Basic credentials need username and password');
    checkSecretValue('username', username);
    if (username.includes(':')) throw secretInvalid('username', 'contains ":", which Basic credentials cannot carry');
    checkSecretValue('password', password);
    headers['Authorization'] = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  }
  for (const [key, value] of Object.entries(secretData)) {
    if (!key.startsWith(HEADER_KEY_PREFIX)) continue;
    const name = key.slice(HEADER_KEY_PREFIX.length);
    const problem = headerProblem(name, value);
    if (problem !== undefined) throw secretInvalid(key, problem);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw secretInvalid(key, 'names a header Rebound sets itself');
    if (Object.keys(headers).some((n) => n.toLowerCase() === name.toLowerCase())) {
      throw secretInvalid(key, 'names a header another key of the Secret already sets');
    }
    headers[name] = value;
  }
  return headers;
}

function checkSecretValue(key: string, value: string): void {
  if (value === '') throw secretInvalid(key, 'is empty');
  const problem = headerProblem('x', value);
  if (problem !== undefined) throw secretInvalid(key, problem);
}

function secretInvalid(key: string, problem: string): ReboundError {
  return new ReboundError(`webhook Secret key ${JSON.stringify(key)} ${problem}`, {
    code: 'SecretInvalid',
    reason: REASONS.SecretInvalid,
    retryable: false,
  });
}

/** The problem an action was started for, in plain values. */
export interface ActionProblem {
  namespace: string;
  name: string;
  uid: string;
  project: string;
  stage: string;
  service: string;
  title: string;
  rootCause?: string;
  problemID?: string;
  state: string;
  source?: string;
  impactedEntity?: string;
}

export interface WebhookBodyInput {
  actionId: string;
  /** Where the runbook reports back when the action waits for a callback. */
  callbackUrl?: string;
  problem: ActionProblem;
  attempt: { index: number; name?: string; action: string; value: string };
  /** Extra links for people (a dashboard, the alert); `problemEvent` is always Rebound's own. */
  links?: Readonly<Record<string, string>>;
}

export interface WebhookBody {
  type: 'rebound.action.triggered';
  actionId: string;
  callbackUrl?: string;
  problem: ActionProblem;
  attempt: { index: number; name?: string; action: string; value: string };
  links: Record<string, string>;
}

/** The JSON a runbook receives: which action, for which problem, and where to report back. */
export function renderWebhookBody(input: WebhookBodyInput): WebhookBody {
  const p = input.problem;
  const links: Record<string, string> = { problemEvent: `${p.namespace}/${p.name}` };
  for (const [key, value] of Object.entries(input.links ?? {})) if (key !== 'problemEvent') links[key] = value;
  return {
    type: 'rebound.action.triggered',
    actionId: input.actionId,
    ...(input.callbackUrl === undefined ? {} : { callbackUrl: input.callbackUrl }),
    problem: {
      namespace: p.namespace,
      name: p.name,
      uid: p.uid,
      project: p.project,
      stage: p.stage,
      service: p.service,
      title: p.title,
      ...(p.rootCause === undefined ? {} : { rootCause: p.rootCause }),
      ...(p.problemID === undefined ? {} : { problemID: p.problemID }),
      state: p.state,
      ...(p.source === undefined ? {} : { source: p.source }),
      ...(p.impactedEntity === undefined ? {} : { impactedEntity: p.impactedEntity }),
    },
    attempt: {
      index: input.attempt.index,
      ...(input.attempt.name === undefined ? {} : { name: input.attempt.name }),
      action: input.attempt.action,
      value: input.attempt.value,
    },
    links,
  };
}
