// Which earlier evaluations a new one is compared with (keptn-semantics.md §3.1, §3.2).
import type { SloComparison } from '../formats/slo.ts';
import type { PreviousEvaluation } from './types.ts';

/** single_result → 1, several_results → number_of_comparison_results, anything else → 3 (Keptn). */
export function comparisonCount(comparison: SloComparison): number {
  if (comparison.compareWith === 'single_result') return 1;
  if (comparison.compareWith === 'several_results') return comparison.numberOfComparisonResults;
  return 3;
}

/**
 * The earlier evaluations that count, newest first. `include_result_with_score` filters on the
 * overall result (`pass`, or `pass_or_warn`); evaluations whose result is unknown always count.
 * Filtering happens before the limit, as Keptn put the filter into its datastore query; an
 * evaluation without indicator values still takes its place in the limit.
 */
export function selectHistory(
  previous: readonly PreviousEvaluation[],
  comparison: SloComparison,
): PreviousEvaluation[] {
  const include = comparison.includeResultWithScore;
  const counts = (e: PreviousEvaluation): boolean => {
    if (e.result === undefined) return true;
    if (include === 'pass') return e.result === 'pass';
    if (include === 'pass_or_warn') return e.result === 'pass' || e.result === 'warning';
    return true;
  };
  return previous.filter(counts).slice(0, comparisonCount(comparison));
}

/** The successful earlier values of one SLI, newest first (failed values never count, keptn#1263). */
export function previousValues(history: readonly PreviousEvaluation[], metric: string): number[] {
  const values: number[] = [];
  for (const evaluation of history) {
    for (const indicator of evaluation.indicatorResults) {
      if (indicator.metric === metric && indicator.success) values.push(indicator.value);
    }
  }
  return values;
}
