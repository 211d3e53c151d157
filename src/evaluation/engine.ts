// The SLO engine: scores SLI values against an slo.yaml exactly as Keptn's lighthouse did
// (keptn-semantics.md §3.4–3.7, §3.8 for the outcomes that are not a plain score). Pure: no I/O.
import type { CriteriaSet, Slo, SloObjective } from '../formats/slo.ts';
import { aggregateValues } from './aggregate.ts';
import { compare, parseCriterion, relativeTarget } from '../formats/criteria.ts';
import type { CriterionParse } from '../formats/criteria.ts';
import { previousValues, selectHistory } from './history.ts';
import type {
  EvaluationResult,
  IndicatorResult,
  IndicatorValue,
  PreviousEvaluation,
  Target,
  Verdict,
} from './types.ts';

export interface EvaluationInput {
  slo: Slo;
  /** Values from the SLI provider. Each is used by at most one objective (the first naming it). */
  indicators: readonly IndicatorValue[];
  /** Earlier evaluations of the same service, newest first. */
  previous?: readonly PreviousEvaluation[];
}

export const NO_VALUE_MESSAGE = 'no value received from SLI provider';

export function evaluateSlo(input: EvaluationInput): EvaluationResult {
  const { slo } = input;
  const history = selectHistory(input.previous ?? [], slo.comparison);
  if (slo.objectives.length === 0) {
    return outcome('fail', 0, 0, 0, false, 'no SLO objective was provided', [], history.length);
  }

  const pool = [...input.indicators];
  const results: IndicatorResult[] = [];
  let maximum = 0;
  let achieved = 0;
  let keyFailure: IndicatorResult | undefined;
  for (const objective of slo.objectives) {
    const value = takeIndicator(pool, objective.sli);
    const scored = evaluateObjective(
      objective,
      value,
      previousValues(history, objective.sli),
      slo.comparison.aggregateFunction,
    );
    if ('error' in scored) {
      // A pass criterion that does not parse aborts the whole evaluation (Keptn #9206).
      return outcome(
        'fail',
        0,
        0,
        0,
        false,
        `error with ${objective.displayName || objective.sli}: ${scored.error}`,
        [],
        history.length,
      );
    }
    results.push(scored);
    if (objective.pass.length > 0) {
      maximum += objective.weight;
      achieved += scored.score;
    }
    if (scored.keySli && scored.status === 'fail' && keyFailure === undefined) keyFailure = scored;
  }

  const score = maximum === 0 ? 100 : (100 * achieved) / maximum;
  const decided = decide(slo, score, keyFailure);
  let { result, message } = decided;
  // The no-data rule (Keptn #6096: a failed SLI retrieval fails the evaluation): when no objective
  // received a usable value there is nothing to judge the service by, whatever the score says.
  if (results.every((r) => !r.success)) {
    result = 'fail';
    message = `no SLI value could be retrieved (${describeFailures(results)})`;
  } else if (message === '' && pool.length > 0) {
    message = `received SLI values that no objective uses: ${[...new Set(pool.map((v) => v.metric))].join(', ')}`;
  }
  return outcome(result, score, achieved, maximum, keyFailure !== undefined, message, results, history.length);
}

function decide(
  slo: Slo,
  score: number,
  keyFailure: IndicatorResult | undefined,
): { result: Verdict; message: string } {
  const { pass, warning } = slo.totalScore;
  if (score >= pass && keyFailure === undefined) return { result: 'pass', message: '' };
  if (warning !== undefined && keyFailure === undefined) {
    return score >= warning
      ? {
          result: 'warning',
          message: `score ${score} is below the pass target of ${pass} but reaches the warning target of ${warning}`,
        }
      : { result: 'fail', message: `score ${score} is below the warning target of ${warning}` };
  }
  if (keyFailure !== undefined) {
    const why = keyFailure.success ? 'pass criteria not met' : (keyFailure.message ?? NO_VALUE_MESSAGE);
    return {
      result: 'fail',
      message: `key SLI objective '${keyFailure.displayName || keyFailure.metric}' failed: ${why}`,
    };
  }
  return { result: 'fail', message: `score ${score} is below the pass target of ${pass}` };
}

function evaluateObjective(
  objective: SloObjective,
  indicator: IndicatorValue | undefined,
  earlier: number[],
  aggregateFunction: string,
): IndicatorResult | { error: string } {
  const success = indicator?.success === true;
  const aggregate = earlier.length > 0 ? aggregateValues(earlier, aggregateFunction) : 0;
  const base: IndicatorResult = {
    metric: objective.sli,
    displayName: objective.displayName,
    value: success ? (indicator?.value ?? null) : null,
    success,
    status: 'info',
    score: 0,
    weight: objective.weight,
    keySli: objective.keySli,
    comparedValue: aggregate,
    comparedValues: earlier,
    passTargets: [],
    warningTargets: [],
  };
  if (indicator === undefined) base.message = NO_VALUE_MESSAGE;
  else if (indicator.message !== undefined && indicator.message !== '') base.message = indicator.message;
  if (indicator?.query !== undefined) base.query = indicator.query;

  // No pass criteria: informational, whatever the value and any warning criteria (Keptn #2231, #1125).
  if (objective.pass.length === 0) return base;

  if (!success) {
    // No usable value: the objective fails; targets are shown against the bare threshold or aggregate.
    return {
      ...base,
      status: 'fail',
      passTargets: unevaluatedTargets(objective.pass, aggregate),
      warningTargets: unevaluatedTargets(objective.warning, aggregate),
    };
  }
  const measured = indicator?.value ?? 0;
  const pass = evaluateSets(objective.pass, measured, earlier, aggregate);
  if (pass.error !== undefined) return { error: pass.error };
  // An unparsable warning criterion only means "not warning" (Keptn).
  const warning = evaluateSets(objective.warning, measured, earlier, aggregate);
  let status: IndicatorResult['status'] = 'fail';
  let score = 0;
  if (pass.satisfied) {
    status = 'pass';
    score = objective.weight;
  } else if (objective.warning.length > 0 && warning.satisfied && warning.error === undefined) {
    status = 'warning';
    score = objective.weight / 2;
  }
  return { ...base, status, score, passTargets: pass.targets, warningTargets: warning.targets };
}

interface SetsOutcome {
  /** OR across sets, AND within a set. */
  satisfied: boolean;
  targets: Target[];
  error?: string;
}

function evaluateSets(
  sets: readonly CriteriaSet[],
  measured: number,
  earlier: readonly number[],
  aggregate: number,
): SetsOutcome {
  const targets: Target[] = [];
  let satisfied = false;
  let error: string | undefined;
  // Every set is evaluated, even after one is satisfied, so every violation is reported.
  for (const set of sets) {
    let all = true;
    for (const raw of set.criteria) {
      const parsed = cachedParse(raw);
      if (!parsed.ok) {
        error ??= parsed.message;
        all = false;
        targets.push({ criteria: raw, targetValue: 0, violated: true });
        continue;
      }
      const c = parsed.criterion;
      let ok: boolean;
      let targetValue: number;
      if (c.kind === 'absolute') {
        targetValue = c.threshold;
        ok = compare(measured, c.operator, targetValue);
      } else if (earlier.length === 0) {
        // Skip rule: no successful earlier value, the relative criterion holds (Keptn #1125, #1263).
        targetValue = 0;
        ok = true;
      } else {
        targetValue = relativeTarget(c, aggregate);
        ok = compare(measured, c.operator, targetValue);
      }
      targets.push({ criteria: raw, targetValue, violated: !ok });
      if (!ok) all = false;
    }
    if (all) satisfied = true;
  }
  return error === undefined ? { satisfied, targets } : { satisfied: false, targets, error };
}

function unevaluatedTargets(sets: readonly CriteriaSet[], aggregate: number): Target[] {
  return sets.flatMap((set) =>
    set.criteria.map((raw) => {
      const parsed = cachedParse(raw);
      const targetValue = parsed.ok && parsed.criterion.kind === 'absolute' ? parsed.criterion.threshold : aggregate;
      return { criteria: raw, targetValue, violated: true };
    }),
  );
}

/** Removes and returns the first value for `metric`: a second objective on the same SLI gets none. */
function takeIndicator(pool: IndicatorValue[], metric: string): IndicatorValue | undefined {
  const index = pool.findIndex((v) => v.metric === metric);
  if (index < 0) return undefined;
  return pool.splice(index, 1)[0];
}

function describeFailures(results: readonly IndicatorResult[]): string {
  return results.map((r) => `${r.metric}: ${r.message ?? NO_VALUE_MESSAGE}`).join('; ');
}

function outcome(
  result: Verdict,
  score: number,
  achievedPoints: number,
  maximumPoints: number,
  keySliFailed: boolean,
  message: string,
  indicatorResults: IndicatorResult[],
  comparedEvaluations: number,
): EvaluationResult {
  return { result, score, achievedPoints, maximumPoints, keySliFailed, message, indicatorResults, comparedEvaluations };
}

// Criteria strings repeat across evaluations of the same SLO; parsing is cached, bounded.
const parseCache = new Map<string, CriterionParse>();
const PARSE_CACHE_LIMIT = 4096;

function cachedParse(raw: string): CriterionParse {
  let parsed = parseCache.get(raw);
  if (parsed === undefined) {
    if (parseCache.size >= PARSE_CACHE_LIMIT) parseCache.clear();
    parsed = parseCriterion(raw);
    parseCache.set(raw, parsed);
  }
  return parsed;
}
