// What goes into and comes out of one SLO evaluation. Results keep everything needed to explain a
// verdict afterwards: the value, the query that produced it, the earlier values it was compared
// with, and every target with the number it was checked against.

export const VERDICTS = ['pass', 'warning', 'fail'] as const;
export type Verdict = (typeof VERDICTS)[number];
/** `info`: an objective without pass criteria; reported, never scored. */
export type ObjectiveStatus = Verdict | 'info';

/** One SLI value as an SLI provider returns it (Keptn's get-sli indicatorValues entry). */
export interface IndicatorValue {
  metric: string;
  /** Meaningful only when success is true (Keptn sends 0 for a failed SLI). */
  value: number;
  success: boolean;
  /** Why the value could not be retrieved, when success is false. */
  message?: string;
  /** The provider query after placeholder resolution, for explainability. */
  query?: string;
}

/** One SLI value of an earlier evaluation. */
export interface PreviousIndicator {
  metric: string;
  value: number;
  success: boolean;
}

/** An earlier evaluation of the same service, offered for comparison (newest first in lists). */
export interface PreviousEvaluation {
  /**
   * The earlier overall verdict; `include_result_with_score` filters on it. Undefined when only the
   * values are known: such an evaluation always counts.
   */
  result?: string;
  indicatorResults: PreviousIndicator[];
}

export interface Target {
  /** The criterion as written in slo.yaml. */
  criteria: string;
  /** The number the value was compared with (0 when a relative criterion had no history). */
  targetValue: number;
  violated: boolean;
}

export interface IndicatorResult {
  metric: string;
  displayName: string;
  /** null when the provider gave no usable value (missing or failed). */
  value: number | null;
  success: boolean;
  message?: string;
  query?: string;
  status: ObjectiveStatus;
  /** Points earned: weight for pass, weight/2 for warning, 0 otherwise. */
  score: number;
  weight: number;
  keySli: boolean;
  /** The aggregate of the earlier successful values (Keptn's comparedValue; 0 without history). */
  comparedValue: number;
  /** The earlier successful values the aggregate was computed from, newest first. */
  comparedValues: number[];
  passTargets: Target[];
  warningTargets: Target[];
}

export interface EvaluationResult {
  result: Verdict;
  /** Percent of the achievable points, not rounded. */
  score: number;
  achievedPoints: number;
  maximumPoints: number;
  keySliFailed: boolean;
  /** Why the result is what it is, in one sentence (empty for a plain pass). */
  message: string;
  indicatorResults: IndicatorResult[];
  /** How many earlier evaluations were used for comparison. */
  comparedEvaluations: number;
}
