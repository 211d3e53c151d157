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
}

export interface SliProvider {
  /**
   * One value per requested indicator, in request order. A value that cannot be retrieved is a
   * failed IndicatorValue (success false, message saying why and naming the query). A provider that
   * cannot be reached at all throws a ReboundError with retryable true: that is not an SLO failure.
   */
  getIndicators(request: SliRequest): Promise<IndicatorValue[]>;
}
