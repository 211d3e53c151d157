// How an evaluation is shown: the JSON document `rebound evaluate --json` prints (also what earlier
// evaluations are read back from) and a table for people.
import type { Slo } from '../formats/slo.ts';
import type { EvaluationResult, IndicatorResult, Target } from './types.ts';

export interface JsonIndicatorResult {
  metric: string;
  value: number | null;
  status: IndicatorResult['status'];
  score: number;
  keySli: boolean;
  comparedValue: number;
  passTargets: Target[];
  warningTargets: Target[];
  message?: string;
  /** The resolved provider query, when the value came with one. */
  query?: string;
}

export interface JsonReport {
  result: EvaluationResult['result'];
  score: number;
  indicatorResults: JsonIndicatorResult[];
}

export function toJsonReport(result: EvaluationResult): JsonReport {
  return {
    result: result.result,
    score: result.score,
    indicatorResults: result.indicatorResults.map((r) => ({
      metric: r.metric,
      value: r.value,
      status: r.status,
      score: r.score,
      keySli: r.keySli,
      comparedValue: r.comparedValue,
      passTargets: r.passTargets,
      warningTargets: r.warningTargets,
      ...(r.message === undefined ? {} : { message: r.message }),
      ...(r.query === undefined ? {} : { query: r.query }),
    })),
  };
}

/** A plain-text table: one row per objective, then the total and why. */
export function formatEvaluationTable(slo: Slo, result: EvaluationResult): string {
  const header = ['OBJECTIVE', 'VALUE', 'COMPARED', 'PASS', 'WARNING', 'STATUS', 'POINTS'];
  const rows = result.indicatorResults.map((r, i) => {
    const objective = slo.objectives[i];
    const name = r.displayName && r.displayName !== r.metric ? `${r.displayName} (${r.metric})` : r.metric;
    const compared =
      r.comparedValues.length === 0 ? '-' : `${formatNumber(r.comparedValue)} of ${r.comparedValues.length}`;
    return [
      `${name}${r.keySli ? ' [key]' : ''}`,
      r.value === null ? 'no value' : formatNumber(r.value),
      compared,
      formatTargets(r.passTargets, objective?.pass.map((s) => s.criteria.length) ?? []),
      r.status === 'info'
        ? '-'
        : formatTargets(r.warningTargets, objective?.warning.map((s) => s.criteria.length) ?? []),
      r.status,
      r.status === 'info' ? '-' : `${formatNumber(r.score)}/${r.weight}`,
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => (row[c] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  for (const r of result.indicatorResults) {
    if (r.message !== undefined) out.push(`  ${r.metric}: ${r.message}`);
    if (r.query !== undefined) out.push(`  ${r.metric} query: ${r.query}`);
  }
  const { pass, warning } = slo.totalScore;
  const thresholds = `pass >= ${formatNumber(pass)}%${warning === undefined ? '' : `, warning >= ${formatNumber(warning)}%`}`;
  out.push('');
  out.push(
    `Result: ${result.result.toUpperCase()}  score ${formatNumber(result.score)}% (${formatNumber(result.achievedPoints)} of ${result.maximumPoints} points; ${thresholds})`,
  );
  if (result.comparedEvaluations > 0) out.push(`Compared with ${result.comparedEvaluations} earlier evaluation(s).`);
  if (result.message !== '') out.push(result.message);
  return out.join('\n') + '\n';
}

/** Criteria of one set joined by "and", sets by "or"; each shows its target and ✗ when violated. */
function formatTargets(targets: readonly Target[], setSizes: readonly number[]): string {
  if (targets.length === 0) return '-';
  const parts: string[] = [];
  let index = 0;
  const sizes = setSizes.reduce((a, b) => a + b, 0) === targets.length ? setSizes : [targets.length];
  for (const size of sizes) {
    const set = targets.slice(index, index + size);
    index += size;
    parts.push(
      set
        .map(
          (t) =>
            `${t.criteria}${t.criteria.replaceAll(' ', '').match(/[+%-]/) ? ` (${formatNumber(t.targetValue)})` : ''}${t.violated ? ' ✗' : ' ✓'}`,
        )
        .join(' and ') || '(always)',
    );
  }
  return parts.join(' or ');
}

/** Up to 4 decimals for people; JSON keeps full precision. */
export function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(4)));
}
