// The seam between the evaluation and where SLI values come from. The controller holds an
// SliProvider; Prometheus is the first implementation, others (Dynatrace, a file) can follow.
import type { PlaceholderContext } from './placeholders.ts';
import type { IndicatorValue } from './types.ts';

/** What the queries' placeholders are filled from (placeholders.ts), plus what to retrieve. */
export interface SliRequest extends PlaceholderContext {
  /** The SLIs to retrieve (the SLO's objectives). */
  indicators: readonly string[];
  /** SLI name → query, from sli.yaml. */
  queries: Readonly<Record<string, string>>;
  signal?: AbortSignal;
  /** Told of each query as it finishes (for a trace): its text, when it ran, and its value or why it had none. */
  onQuery?: (query: QueryRecord) => void;
}

export interface QueryRecord {
  metric: string;
  query: string;
  /** Milliseconds since the epoch. */
  startMs: number;
  endMs: number;
  value?: number;
  /** The query had no value (a failure of this query, or the source out of reach). */
  error?: string;
}

export interface SliProvider {
  /**
   * One value per requested indicator, in request order. A value that cannot be retrieved is a
   * failed IndicatorValue (success false, message saying why and naming the query). A provider that
   * cannot be reached at all throws a ReboundError with retryable true: that is not an SLO failure.
   */
  getIndicators(request: SliRequest): Promise<IndicatorValue[]>;
}
