// Aggregation of earlier SLI values for relative criteria (keptn-semantics.md §3.4).

/**
 * avg | p50 | p90 | p95 of `values` (which must not be empty). Any other function name yields 0, as
 * in Keptn: a relative criterion then compares against 0 (plus or minus its delta).
 */
export function aggregateValues(values: readonly number[], fn: string): number {
  switch (fn) {
    case 'avg':
      return values.reduce((sum, v) => sum + v, 0) / values.length;
    case 'p50':
      return percentile(values, 0.5);
    case 'p90':
      return percentile(values, 0.9);
    case 'p95':
      return percentile(values, 0.95);
    default:
      return 0;
  }
}

/**
 * Keptn's percentile: rank pos = p·(n+1) over the sorted values; below the first rank → minimum, at
 * or beyond the last → maximum, otherwise linear interpolation between the neighbouring ranks.
 */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const pos = p * (n + 1);
  if (pos < 1) return sorted[0] ?? 0;
  if (pos >= n) return sorted[n - 1] ?? 0;
  const rank = Math.floor(pos);
  const lower = sorted[rank - 1] ?? 0;
  const upper = sorted[rank] ?? 0;
  return lower + (pos - rank) * (upper - lower);
}
