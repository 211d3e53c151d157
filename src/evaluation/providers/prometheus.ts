// The Prometheus SLI provider: sli.yaml queries, placeholders resolved for the evaluation window,
// each evaluated as an instant query at the window's end through Prometheus's HTTP API.
//
// An instant query sees the newest sample up to five minutes old (Prometheus's lookback), so a
// gauge read at the end of a short window can still be the one scraped before the action took
// effect. Before the SLIs are read, every scrape target must have been scraped since the window
// began (`min(timestamp(up))`); until then the evaluation waits (retryable `WaitingForMetrics`),
// bounded by the longest scrape interval. Without an `up` series (remote storage, backfilled
// data) freshness cannot be told and the SLIs are read as before.
//
// Two kinds of trouble are kept apart on purpose. A query that gives no usable number (no sample,
// several samples, NaN, a query Prometheus rejects) is a *failed indicator*: the SLO decides what
// that means. Prometheus that cannot be asked (refused connection, timeout, 5xx, 429) is a
// retryable ReboundError: nothing was measured, so nothing may be judged.
import { REASONS } from '../../api/constants.ts';
import { checkAllowedUrl } from '../../net/allowed-hosts.ts';
import { describeFetchError, ReboundError } from '../../errors.ts';
import { scrubberFor } from '../../net/scrub.ts';
import type { Scrub } from '../../net/scrub.ts';
import { resolveQuery } from '../placeholders.ts';
import type { SliProvider, SliRequest } from '../provider.ts';
import type { IndicatorValue } from '../types.ts';

export interface PrometheusSliProviderOptions {
  /** Base URL, e.g. http://127.0.0.1:9090 (a path prefix such as /prometheus is kept). */
  url: string;
  /** Per query. */
  timeoutMs?: number;
  /** Extra request headers, e.g. Authorization. Never logged. */
  headers?: Readonly<Record<string, string>>;
  /** Queries in flight at once. */
  concurrency?: number;
  fetch?: typeof fetch;
}

export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;
/** The oldest of every scrape target's last scrape, at the window's end. */
export const FRESHNESS_QUERY = 'min(timestamp(up))';
const MAX_ERROR_BODY = 300;

export class PrometheusSliProvider implements SliProvider {
  private readonly endpoint: URL;
  private readonly timeoutMs: number;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly concurrency: number;
  private readonly fetchFn: typeof fetch;
  private readonly scrub: Scrub;

  constructor(options: PrometheusSliProviderOptions) {
    const base = new URL(options.url);
    this.endpoint = new URL(`${base.pathname.replace(/\/+$/, '')}/api/v1/query`, base);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    this.headers = options.headers ?? {};
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.fetchFn = options.fetch ?? fetch;
    this.scrub = scrubberFor({ headers: this.headers, url: options.url });
  }

  async getIndicators(request: SliRequest): Promise<IndicatorValue[]> {
    if (!(request.end.getTime() > request.start.getTime())) {
      throw new ReboundError(
        `evaluation window is empty: start ${request.start.toISOString()} is not before end ${request.end.toISOString()}`,
        {
          code: 'InvalidEvaluationWindow',
          reason: REASONS.EvaluationErrored,
          retryable: false,
        },
      );
    }
    await this.requireFreshScrapes(request);
    // One failure to reach Prometheus stops the other queries too: the whole retrieval is retried.
    const abort = new AbortController();
    const signal = request.signal ? AbortSignal.any([request.signal, abort.signal]) : abort.signal;
    const results: IndicatorValue[] = new Array<IndicatorValue>(request.indicators.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < request.indicators.length) {
        const index = next++;
        const metric = request.indicators[index] as string;
        results[index] = await this.indicator(metric, request, signal);
      }
    };
    const workers = Array.from({ length: Math.min(this.concurrency, request.indicators.length) }, worker);
    try {
      await Promise.all(workers);
    } catch (err) {
      abort.abort();
      await Promise.allSettled(workers);
      throw err;
    }
    return results;
  }

  /** Throws a retryable WaitingForMetrics while a target's last scrape is older than the window. */
  private async requireFreshScrapes(request: SliRequest): Promise<void> {
    const signal = request.signal ?? new AbortController().signal;
    const outcome = await this.query(FRESHNESS_QUERY, request.end, signal);
    if ('failure' in outcome) return; // no `up` to tell by: judge what there is, as Keptn did
    const oldestScrape = outcome.value * 1000;
    if (oldestScrape >= request.start.getTime()) return;
    throw new ReboundError(
      `waiting for metrics from after ${request.start.toISOString()}: a scrape target was last scraped at ${new Date(oldestScrape).toISOString()} (${FRESHNESS_QUERY} at ${request.end.toISOString()})`,
      { code: 'WaitingForMetrics', reason: REASONS.WaitingForMetrics, retryable: true },
    );
  }

  private async indicator(metric: string, request: SliRequest, signal: AbortSignal): Promise<IndicatorValue> {
    const template = request.queries[metric];
    if (template === undefined) {
      return { metric, value: 0, success: false, message: `no query for SLI "${metric}" in sli.yaml` };
    }
    const query = resolveQuery(template, request);
    const startMs = performance.timeOrigin + performance.now();
    const report = (result: { value: number } | { error: string }): void =>
      request.onQuery?.({ metric, query, startMs, endMs: performance.timeOrigin + performance.now(), ...result });
    let outcome: { value: number } | { failure: string };
    try {
      outcome = await this.query(query, request.end, signal);
    } catch (err) {
      report({ error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    if ('failure' in outcome) {
      report({ error: outcome.failure });
      return { metric, value: 0, success: false, message: `${outcome.failure}: ${query}`, query };
    }
    report({ value: outcome.value });
    return { metric, value: outcome.value, success: true, query };
  }

  /** One instant query; a number, a failure of this query, or a thrown ReboundError for Prometheus. */
  private async query(query: string, at: Date, signal: AbortSignal): Promise<{ value: number } | { failure: string }> {
    const body = new URLSearchParams({ query, time: (at.getTime() / 1000).toFixed(3) });
    let response: Response;
    try {
      response = await this.fetchFn(this.endpoint, {
        method: 'POST',
        headers: { ...this.headers, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]),
      });
    } catch (err) {
      // Cancelled by the caller (or by a sibling query that found Prometheus down): not ours to classify.
      if (signal.aborted) throw signal.reason ?? err;
      throw this.unavailable(
        isTimeout(err) ? `no answer within ${this.timeoutMs} ms` : `cannot connect: ${describeFetchError(err)}`,
        err,
      );
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      if (signal.aborted) throw signal.reason ?? err;
      throw this.unavailable(
        isTimeout(err) ? `no answer within ${this.timeoutMs} ms` : `connection lost: ${describeFetchError(err)}`,
        err,
      );
    }
    const parsed = parseApiResponse(text);
    // Only an answer in Prometheus's API format is quoted (bounded, scrubbed): anything else may be
    // a page of whatever the URL really points at, and must not end up in status or Events.
    const said = this.said(parsed, text);
    if (response.status >= 500 || response.status === 429) {
      throw this.unavailable(`HTTP ${response.status}${said}`);
    }
    if (response.status === 400 || response.status === 422) {
      // Prometheus's own query timeout or cancellation may pass; a bad query will not.
      if (parsed?.errorType === 'timeout' || parsed?.errorType === 'canceled')
        throw this.unavailable(`query ${parsed.errorType}${said}`);
      if (parsed?.error !== undefined)
        return {
          failure: `Prometheus rejected the query (${parsed.errorType ?? `HTTP ${response.status}`}: ${this.scrub(snippet(parsed.error))})`,
        };
      return { failure: `Prometheus rejected the query (HTTP ${response.status}${said})` };
    }
    if (response.status !== 200 || parsed === undefined || parsed.status !== 'success') {
      // Wrong URL, authentication, or not Prometheus at all: a person has to fix the configuration.
      throw new ReboundError(`Prometheus at ${this.endpoint.origin} answered HTTP ${response.status}${said}`, {
        code: 'PrometheusBadResponse',
        reason: REASONS.EvaluationErrored,
        retryable: false,
      });
    }
    return sampleOf(parsed.data);
  }

  /** `: <Prometheus's error>` for an answer in its API format; for anything else, only its size. */
  private said(parsed: ApiResponse | undefined, text: string): string {
    if (parsed?.error !== undefined) return `: ${parsed.errorType ?? 'error'}: ${this.scrub(snippet(parsed.error))}`;
    if (parsed?.status === 'success') return '';
    return text === ''
      ? ' with an empty body'
      : ` with a body that is not a Prometheus API answer (${Buffer.byteLength(text)} bytes, not shown)`;
  }

  private unavailable(detail: string, cause?: unknown): ReboundError {
    return new ReboundError(`Prometheus at ${this.endpoint.origin} is unavailable: ${detail}`, {
      code: 'PrometheusUnavailable',
      reason: REASONS.PrometheusUnavailable,
      retryable: true,
      cause,
    });
  }
}

export interface PrometheusTargets {
  /** The controller's --prometheus-url: always allowed. */
  defaultUrl: string | undefined;
  /** The operator's --prometheus-allowed-hosts, as webhook allowedHosts entries. */
  allowedHosts: readonly string[];
  timeoutMs?: number;
}

/**
 * The provider for a Remediation's evaluation.prometheusURL (or the default): the URL must use the
 * default's origin or a host the operator allowed, by the same rule as webhook URLs, so a
 * Remediation cannot point the controller at an internal service or a cloud metadata endpoint.
 */
export function prometheusProviders(targets: PrometheusTargets): (url: string | undefined) => PrometheusSliProvider {
  const timeouts = targets.timeoutMs === undefined ? {} : { timeoutMs: targets.timeoutMs };
  const choose = prometheusTarget(targets);
  return (url) => {
    const chosen = choose(url);
    if ('refused' in chosen) throw chosen.refused;
    return new PrometheusSliProvider({ url: chosen.url, ...timeouts });
  };
}

/**
 * Which Prometheus a Remediation's evaluation.prometheusURL (or the default) leads to, for the SLI
 * provider and the UI's charts alike, or why it is refused (a non-retryable ReboundError).
 */
export function prometheusTarget(
  targets: Pick<PrometheusTargets, 'defaultUrl' | 'allowedHosts'>,
): (url: string | undefined) => { url: string } | { refused: ReboundError } {
  const defaultOrigin = targets.defaultUrl === undefined ? undefined : new URL(targets.defaultUrl);
  const allowed =
    defaultOrigin === undefined ? [...targets.allowedHosts] : [...targets.allowedHosts, defaultOrigin.host];
  return (url) => {
    const target = url ?? targets.defaultUrl;
    if (target === undefined) {
      return {
        refused: new ReboundError(
          'no Prometheus URL: set --prometheus-url or spec.evaluation.prometheusURL in the Remediation',
          { code: 'NoPrometheus', reason: REASONS.EvaluationErrored, retryable: false },
        ),
      };
    }
    if (url !== undefined) {
      const check = checkAllowedUrl(url, allowed);
      if (!check.ok) {
        return {
          refused: new ReboundError(
            `evaluation.prometheusURL: ${check.reason.replace('the webhook URL', 'the URL').replace("the Remediation's spec.webhook.allowedHosts", "the controller's --prometheus-allowed-hosts")}`,
            { code: 'PrometheusHostNotAllowed', reason: REASONS.EvaluationErrored, retryable: false },
          ),
        };
      }
    }
    return { url: target };
  };
}

/** Prometheus's HTTP API envelope, as far as it parses (the UI's range client reads it too). */
export interface ApiResponse {
  status?: unknown;
  errorType?: string;
  error?: string;
  data?: unknown;
}

export function parseApiResponse(text: string): ApiResponse | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const v = value as Record<string, unknown>;
    return {
      status: v['status'],
      ...(typeof v['errorType'] === 'string' ? { errorType: v['errorType'] } : {}),
      ...(typeof v['error'] === 'string' ? { error: v['error'] } : {}),
      data: v['data'],
    };
  } catch {
    return undefined;
  }
}

/** Exactly one sample with a finite value, as Keptn's provider required. */
function sampleOf(data: unknown): { value: number } | { failure: string } {
  const d = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const type = d['resultType'];
  const result = d['result'];
  let raw: unknown;
  if (type === 'vector' && Array.isArray(result)) {
    if (result.length === 0) return { failure: 'query did not return any values' };
    if (result.length > 1) return { failure: `query did return multiple values (${result.length} series)` };
    const sample: unknown = result[0];
    raw = typeof sample === 'object' && sample !== null ? (sample as Record<string, unknown>)['value'] : undefined;
  } else if (type === 'scalar') {
    raw = result;
  } else {
    return {
      failure: `query returned a ${typeof type === 'string' ? type : 'malformed result'}, expected one instant-vector sample`,
    };
  }
  const text: unknown = Array.isArray(raw) ? (raw as unknown[])[1] : undefined;
  const value = typeof text === 'string' ? Number(text) : Number.NaN;
  if (!Number.isFinite(value)) return { failure: `query did not return valid values (${String(text)})` };
  return { value };
}

function isTimeout(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'TimeoutError' || (err.name === 'AbortError' && /timeout/i.test(String(err.message))))
  );
}

function snippet(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_ERROR_BODY ? `${oneLine.slice(0, MAX_ERROR_BODY)}…` : oneLine || '(empty body)';
}
