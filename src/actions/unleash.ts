// Turns an Unleash feature flag on or off in one environment, through Unleash's admin API:
//   GET  {base}/api/admin/projects/{project}/features/{feature}/environments/{environment}  -> { enabled }
//   POST {base}/api/admin/projects/{project}/features/{feature}/environments/{environment}/on|off
// Read first, write only when the state differs: a retried remediation step changes nothing twice,
// and Unleash's event log shows one change. The token goes in `Authorization` as is (Unleash's own
// format; it also accepts `Bearer <token>`), and never into a message.
import { REASONS } from '../api/index.ts';
import type { Reason } from '../api/index.ts';
import { describeFetchError, ReboundError } from '../errors.ts';
import { scrubberFor } from '../net/scrub.ts';

export interface UnleashSettings {
  /** Unleash's address, with or without a trailing `/api`: `https://unleash.example.com[/api]`. */
  url: string;
  /** An admin API, service account or personal access token (see docs/unleash.md). */
  token: string;
  /** Default `default`. */
  project?: string;
  environment: string;
  /** For the whole read-then-write (default 10000). */
  timeoutMs?: number;
}

export interface FeatureToggleChange {
  feature: string;
  enabled: boolean;
  /** The state before, as read; undefined when Unleash's answer did not say. */
  previous: boolean | undefined;
  /** False when the flag was already in the wanted state (nothing written). */
  changed: boolean;
  detail: string;
}

const DEFAULT_PROJECT = 'default';
const DEFAULT_TIMEOUT_MS = 10_000;
/** Unleash's error messages are short; a proxy's HTML error page is not. */
const MAX_MESSAGE_CHARS = 300;

/** `http://host:4242`, `http://host:4242/`, `http://host:4242/api/` -> `http://host:4242`. */
export function unleashBaseUrl(url: string): string {
  return url
    .trim()
    .replace(/\/+$/, '')
    .replace(/\/api$/, '');
}

/** A wrong address is a configuration error, not an outage: it fails at once and is not retried. */
function checkBaseUrl(base: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(base);
  } catch {
    // Reported below.
  }
  const problem =
    parsed === undefined || !/^https?:$/.test(parsed.protocol)
      ? 'is not an http(s) URL'
      : parsed.username !== '' || parsed.password !== ''
        ? 'must not carry credentials (the token goes in the token setting)'
        : undefined;
  if (problem === undefined) return;
  // Never echo a URL that may hold credentials.
  const shown = parsed && parsed.username === '' && parsed.password === '' ? ` "${base}"` : '';
  throw new ReboundError(`the Unleash URL${shown} ${problem}`, {
    code: REASONS.ActionFailed,
    reason: REASONS.ActionFailed,
    retryable: false,
  });
}

interface Target {
  feature: string;
  project: string;
  environment: string;
}

function describe(t: Target): string {
  return `feature "${t.feature}" in project "${t.project}", environment "${t.environment}"`;
}

/** Unleash's `{ message }`, or the start of whatever else the body was. */
function serverMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message.slice(0, MAX_MESSAGE_CHARS);
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return body.trim().replace(/\s+/g, ' ').slice(0, MAX_MESSAGE_CHARS);
}

function httpError(status: number, body: string, target: Target, action: string): ReboundError {
  const said = serverMessage(body);
  const answer = `Unleash answered ${String(status)}${said ? ` (${said})` : ''}`;
  const error = (reason: Reason, retryable: boolean, message: string): ReboundError =>
    new ReboundError(message, { code: reason, reason, retryable });
  if (status === 401 || status === 403) {
    return error(
      REASONS.UnleashUnauthorized,
      false,
      `${answer} to ${action} ${describe(target)}: the token is not accepted or lacks the permission (see docs/unleash.md)`,
    );
  }
  if (status === 404) return error(REASONS.UnleashFeatureNotFound, false, `${describe(target)} not found: ${answer}`);
  if (status === 429 || status >= 500)
    return error(REASONS.UnleashUnavailable, true, `${answer} to ${action} ${describe(target)}`);
  return error(REASONS.ActionFailed, false, `${answer} to ${action} ${describe(target)}`);
}

/** The caller's abort is passed on as it is; our timeout and network failures become UnleashUnavailable. */
function requestError(
  err: unknown,
  caller: AbortSignal | undefined,
  base: string,
  timeoutMs: number,
  action: string,
): unknown {
  if (caller?.aborted) return caller.reason;
  const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
  const why = describeFetchError(err);
  const message = timedOut
    ? `Unleash at ${base} did not answer within ${String(timeoutMs)} ms (${action})`
    : `cannot reach Unleash at ${base} (${action}): ${why}`;
  return new ReboundError(message, {
    code: REASONS.UnleashUnavailable,
    reason: REASONS.UnleashUnavailable,
    retryable: true,
    cause: err,
  });
}

/**
 * Sets `feature` to `enabled` in `settings.environment`. Resolves with what changed; rejects with a
 * ReboundError whose reason is UnleashUnavailable (retryable), UnleashUnauthorized or
 * UnleashFeatureNotFound.
 */
export async function setUnleashFeature(
  settings: UnleashSettings,
  feature: string,
  enabled: boolean,
  signal?: AbortSignal,
): Promise<FeatureToggleChange> {
  const base = unleashBaseUrl(settings.url);
  checkBaseUrl(base);
  const target: Target = { feature, project: settings.project ?? DEFAULT_PROJECT, environment: settings.environment };
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const path = `${base}/api/admin/projects/${encodeURIComponent(target.project)}/features/${encodeURIComponent(feature)}/environments/${encodeURIComponent(target.environment)}`;

  /** `action`: what the request does, for messages: 'reading', 'turning on'. */
  const call = async (method: 'GET' | 'POST', url: string, action: string): Promise<string> => {
    let res: Response;
    let body: string;
    try {
      res = await fetch(url, {
        method,
        headers: { Authorization: settings.token, Accept: 'application/json' },
        signal: combined,
      });
      body = await res.text();
    } catch (err) {
      throw requestError(err, signal, base, timeoutMs, `${action} ${describe(target)}`);
    }
    // An error body (Unleash's or a proxy's) may repeat the request's Authorization header.
    if (!res.ok)
      throw httpError(
        res.status,
        scrubberFor({ secrets: [settings.token], headers: { Authorization: settings.token } })(body),
        target,
        action,
      );
    return body;
  };

  const state = await call('GET', path, 'reading');
  const previous = readEnabled(state);
  const word = enabled ? 'enabled' : 'disabled';
  if (previous === enabled) {
    return { feature, enabled, previous, changed: false, detail: `${describe(target)} is already ${word}` };
  }
  await call('POST', `${path}/${enabled ? 'on' : 'off'}`, `turning ${enabled ? 'on' : 'off'}`);
  const was = previous === undefined ? '' : ` (was ${previous ? 'enabled' : 'disabled'})`;
  return { feature, enabled, previous, changed: true, detail: `${word} ${describe(target)}${was}` };
}

function readEnabled(body: string): boolean | undefined {
  try {
    const parsed = JSON.parse(body) as { enabled?: unknown };
    return typeof parsed.enabled === 'boolean' ? parsed.enabled : undefined;
  } catch {
    return undefined;
  }
}
