// Prometheus range queries for the web UI's SLI charts: an SLI's resolved query evaluated at steps
// across the evaluation window (`/api/v1/query_range`), so a person sees how the value moved, not
// only where it ended.
//
// A chart is an aid, never a verdict: every trouble (Prometheus down, a timeout, a rejected query, an
// answer that is not Prometheus's) comes back as a short message the page shows in the chart's place,
// never as an exception. Messages go through the same scrubber as the SLI provider's and quote only
// answers in Prometheus's API format, so a header's credential or a foreign page never reaches HTML.
import { describeFetchError } from '../../errors.ts';
import { scrubberFor } from '../../net/scrub.ts';
import type { Scrub } from '../../net/scrub.ts';
import { parseApiResponse, prometheusTarget } from './prometheus.ts';

export interface RangeSeries {
  /** The series' labels (`__name__` left out). */
  labels: Record<string, string>;
  /** [unix milliseconds, value], in time order; NaN and infinite samples left out. */
  points: [number, number][];
}

export type RangeOutcome = { ok: true; series: RangeSeries[]; stepSeconds: number } | { ok: false; message: string };

export interface RangeRequest {
  query: string;
  start: Date;
  end: Date;
}

export interface PrometheusRangeClientOptions {
  url: string;
  headers?: Readonly<Record<string, string>>;
  /** Per query (default 3 s: a page waits for it). */
  timeoutMs?: number;
  /** Points per series to aim for (default 120). */
  resolution?: number;
  /** At most this many series are kept (default 5). */
  maxSeries?: number;
  fetch?: typeof fetch;
}

export const DEFAULT_RANGE_TIMEOUT_MS = 3_000;
/** Answers larger than this are not read to the end: a chart needs a few hundred points. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const MAX_ERROR = 200;

export class PrometheusRangeClient {
  private readonly endpoint: URL;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;
  private readonly resolution: number;
  private readonly maxSeries: number;
  private readonly fetchFn: typeof fetch;
  private readonly scrub: Scrub;

  constructor(options: PrometheusRangeClientOptions) {
    const base = new URL(options.url);
    this.endpoint = new URL(`${base.pathname.replace(/\/+$/, '')}/api/v1/query_range`, base);
    this.headers = options.headers ?? {};
    this.timeoutMs = options.timeoutMs ?? DEFAULT_RANGE_TIMEOUT_MS;
    this.resolution = Math.max(2, options.resolution ?? 120);
    this.maxSeries = Math.max(1, options.maxSeries ?? 5);
    this.fetchFn = options.fetch ?? fetch;
    this.scrub = scrubberFor({ headers: this.headers, url: options.url });
  }

  /** The step for a window: whole seconds, about `resolution` points, at least one second. */
  stepSeconds(start: Date, end: Date): number {
    return Math.max(1, Math.ceil((end.getTime() - start.getTime()) / 1000 / this.resolution));
  }

  async range(request: RangeRequest, signal?: AbortSignal): Promise<RangeOutcome> {
    if (!(request.end.getTime() > request.start.getTime())) return { ok: false, message: 'the window is empty' };
    const step = this.stepSeconds(request.start, request.end);
    const body = new URLSearchParams({
      query: request.query,
      start: (request.start.getTime() / 1000).toFixed(3),
      end: (request.end.getTime() / 1000).toFixed(3),
      step: String(step),
    });
    const where = `Prometheus at ${this.endpoint.origin}`;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let text: string;
    let status: number;
    try {
      const response = await this.fetchFn(this.endpoint, {
        method: 'POST',
        headers: { ...this.headers, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      status = response.status;
      const length = Number(response.headers.get('content-length') ?? '0');
      if (length > MAX_ANSWER_BYTES) {
        await response.body?.cancel();
        return { ok: false, message: `${where} answered with ${length} bytes, more than a chart reads` };
      }
      text = await response.text();
    } catch (err) {
      if (timeout.aborted)
        return { ok: false, message: `${where} is unreachable: no answer within ${this.timeoutMs} ms` };
      return { ok: false, message: this.scrub(`${where} is unreachable: ${describeFetchError(err)}`) };
    }
    const answer = parseApiResponse(text);
    // Only an answer in Prometheus's API format is quoted.
    const parsed = answer?.status === 'success' || answer?.status === 'error' ? answer : undefined;
    if (status !== 200 || parsed?.status !== 'success') {
      const said =
        parsed?.error !== undefined
          ? `: ${this.scrub(snippet(`${parsed.errorType ?? 'error'}: ${parsed.error}`))}`
          : parsed === undefined && text !== ''
            ? ' with an answer that is not from Prometheus (not shown)'
            : '';
      return { ok: false, message: `${where} answered HTTP ${status}${said}` };
    }
    return { ok: true, series: this.seriesOf(parsed.data), stepSeconds: step };
  }

  private seriesOf(data: unknown): RangeSeries[] {
    const d = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
    const result = d['result'];
    if (d['resultType'] !== 'matrix' || !Array.isArray(result)) return [];
    const out: RangeSeries[] = [];
    for (const item of result.slice(0, this.maxSeries) as unknown[]) {
      const s = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
      const metric = (typeof s['metric'] === 'object' && s['metric'] !== null ? s['metric'] : {}) as Record<
        string,
        unknown
      >;
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(metric)) if (k !== '__name__' && typeof v === 'string') labels[k] = v;
      const points: [number, number][] = [];
      for (const pair of Array.isArray(s['values']) ? (s['values'] as unknown[]) : []) {
        if (!Array.isArray(pair)) continue;
        const [t, v] = pair as unknown[];
        const value = typeof v === 'string' ? Number(v) : Number.NaN;
        if (typeof t === 'number' && Number.isFinite(t) && Number.isFinite(value)) points.push([t * 1000, value]);
      }
      out.push({ labels, points });
    }
    return out;
  }
}

export interface RangeTargets {
  /** The controller's --prometheus-url. */
  defaultUrl: string | undefined;
  /** --prometheus-allowed-hosts. */
  allowedHosts: readonly string[];
  headers?: Readonly<Record<string, string>>;
  timeoutMs?: number;
}

/**
 * The client for a Remediation's evaluation.prometheusURL (or the default), by the rule the SLI
 * provider follows: a URL the operator did not allow is never called, from the UI either.
 */
export function prometheusRangeClients(
  targets: RangeTargets,
): (url: string | undefined) => PrometheusRangeClient | { refused: string } {
  // The SLI provider's rule, with the UI's own words for a refusal (no credentials, no URL quoted).
  const choose = prometheusTarget(targets);
  const clients = new Map<string, PrometheusRangeClient>();
  return (url) => {
    const chosen = choose(url);
    if ('refused' in chosen)
      return {
        refused:
          chosen.refused.code === 'NoPrometheus'
            ? 'no Prometheus URL is configured (--prometheus-url)'
            : 'evaluation.prometheusURL is not allowed: host not in --prometheus-allowed-hosts',
      };
    const target = chosen.url;
    let client = clients.get(target);
    if (!client) {
      client = new PrometheusRangeClient({
        url: target,
        ...(targets.headers ? { headers: targets.headers } : {}),
        ...(targets.timeoutMs === undefined ? {} : { timeoutMs: targets.timeoutMs }),
      });
      if (clients.size > 100) clients.clear();
      clients.set(target, client);
    }
    return client;
  };
}

function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_ERROR ? `${line.slice(0, MAX_ERROR)}…` : line;
}
