// The seam between the evaluation and where SLI values come from. The controller holds an
// SliProvider; Prometheus is the first implementation, others (Dynatrace, a file) can follow.
import type { IndicatorValue } from './types.ts';

export interface SliRequest {
  project: string;
  stage: string;
  service: string;
  /** Keptn's $DEPLOYMENT; when absent the `deployment` label, else "primary". */
  deployment?: string;
  /** Event labels, available to queries as $LABEL.<key>. */
  labels?: Readonly<Record<string, string>>;
  /** The slo.yaml `filter` entries, available to queries as $<key> and $<KEY>. */
  customFilters?: Readonly<Record<string, string>>;
  /** The SLIs to retrieve (the SLO's objectives). */
  indicators: readonly string[];
  /** SLI name → query, from sli.yaml. */
  queries: Readonly<Record<string, string>>;
  /** The evaluation window: values are taken at `end`, over end − start. */
  start: Date;
  end: Date;
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
