// The values behind a problem page's SLI charts, read from Prometheus by range query and kept
// briefly: a page re-rendered for every status change (live updates) and many people on the same
// page must not become a storm of queries, and a Prometheus that is down must not slow every page by
// its timeout. Results, failures too, are shared by everyone for `ttlMs`; a query in flight is
// awaited, not sent again.
import type { Attempt, ProblemEvent } from '../api/index.ts';
import type { RangeOutcome } from '../evaluation/providers/prometheus-range.ts';
import type { UiSliSeries } from './ports.ts';

/** Charts per page at most (newest attempts first); the rest show their values without one. */
export const MAX_CHARTS = 24;
/** Queries one page sends at once. */
const CONCURRENCY = 4;

export interface ChartWindow {
  startMs: number;
  endMs: number;
}

/** The window an attempt's SLIs were read over, when its status says. */
export function evaluationWindowOf(a: Attempt): ChartWindow | undefined {
  const start = Date.parse(a.evaluationStart ?? a.liveTime ?? a.appliedTime ?? '');
  const end = Date.parse(a.evaluationTime ?? '');
  return Number.isNaN(start) || Number.isNaN(end) || !(end > start) ? undefined : { startMs: start, endMs: end };
}

export const chartKey = (attempt: number, metric: string): string => `${attempt}/${metric}`;

export type ChartData = { window: ChartWindow; outcome: RangeOutcome } | { skipped: string };

export class SliSeriesCache {
  readonly #source: UiSliSeries;
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #entries = new Map<string, { at: number; outcome: Promise<RangeOutcome> }>();

  constructor(source: UiSliSeries, options: { now: () => number; ttlMs?: number; maxEntries?: number }) {
    this.#source = source;
    this.#now = options.now;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#max = options.maxEntries ?? 2000;
  }

  /** Queries sent to Prometheus so far (what the cache could not answer). */
  sent = 0;

  get(problem: ProblemEvent, query: string, window: ChartWindow): Promise<RangeOutcome> {
    const key = JSON.stringify([
      problem.metadata.namespace,
      problem.spec.project,
      problem.spec.stage,
      problem.spec.service,
      query,
      window.startMs,
      window.endMs,
    ]);
    const now = this.#now();
    const hit = this.#entries.get(key);
    if (hit && now - hit.at < this.#ttlMs) return hit.outcome;
    if (this.#entries.size >= this.#max) {
      for (const [k, e] of this.#entries) if (now - e.at >= this.#ttlMs) this.#entries.delete(k);
      if (this.#entries.size >= this.#max) this.#entries.clear();
    }
    this.sent++;
    const outcome = this.#source
      .range(problem, query, new Date(window.startMs), new Date(window.endMs))
      .catch((err: unknown): RangeOutcome => ({
        ok: false,
        message: err instanceof Error ? err.message : String(err),
      }));
    this.#entries.set(key, { at: now, outcome });
    return outcome;
  }

  /** Every chart of a problem's page, keyed by chartKey; SLIs beyond MAX_CHARTS are skipped. */
  async charts(problem: ProblemEvent): Promise<Map<string, ChartData>> {
    const out = new Map<string, ChartData>();
    const wanted: { key: string; query: string; window: ChartWindow }[] = [];
    const attempts = [...(problem.status?.attempts ?? [])].sort((a, b) => b.index - a.index);
    for (const a of attempts) {
      const window = evaluationWindowOf(a);
      for (const r of a.indicatorResults ?? []) {
        const key = chartKey(a.index, r.metric);
        if (!r.query || window === undefined) continue;
        if (r.queryTruncated) out.set(key, { skipped: 'The query was too long to keep whole: no chart.' });
        else if (wanted.length >= MAX_CHARTS) out.set(key, { skipped: 'More SLIs than this page charts.' });
        else wanted.push({ key, query: r.query, window });
      }
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < wanted.length) {
        const w = wanted[next++];
        if (w) out.set(w.key, { window: w.window, outcome: await this.get(problem, w.query, w.window) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, wanted.length) }, worker));
    return out;
  }
}
