// Keptn's slo.yaml (keptn-semantics.md §3.1), parsed with every error located at file:line:column.
//
// What Keptn rejected (or could not evaluate) is an error here: a criterion that does not parse, a
// missing total_score.pass, a weight that is not an integer. What Keptn accepted and gave a defined
// (if surprising) meaning is kept with Keptn's meaning and reported as a warning, so `rebound
// validate` can point at it without changing verdicts users already rely on: an unknown
// aggregate_function (Keptn compared against 0), an unknown compare_with (Keptn used 3 results), an
// empty objectives list (the evaluation fails), unknown keys (ignored).
import { isScalar } from 'yaml';
import { loadYaml } from './yaml.ts';
import type { Diagnostic, LocatedYaml, PathSegment } from './yaml.ts';
import { parseCriterion, parseGoFloat } from './criteria.ts';

export const AGGREGATE_FUNCTIONS = ['avg', 'p50', 'p90', 'p95'] as const;
export const COMPARE_WITH = ['single_result', 'several_results'] as const;
export const INCLUDE_RESULT_WITH_SCORE = ['all', 'pass', 'pass_or_warn'] as const;

export interface SloComparison {
  /** `single_result`, `several_results`, or anything else (Keptn then used 3 results). */
  compareWith: string;
  /** `all`, `pass` or `pass_or_warn`; anything else does not filter. */
  includeResultWithScore: string;
  numberOfComparisonResults: number;
  /** `avg`, `p50`, `p90`, `p95`; anything else aggregates to 0, as in Keptn. */
  aggregateFunction: string;
}

export interface CriteriaSet {
  /** All must hold (AND); the sets of one objective are OR-ed. Raw strings as written in the file. */
  criteria: string[];
}

export interface SloObjective {
  sli: string;
  displayName: string;
  /** Empty: an informational objective (reported, never scored). */
  pass: CriteriaSet[];
  warning: CriteriaSet[];
  weight: number;
  keySli: boolean;
}

export interface Slo {
  specVersion: string | undefined;
  /** Keptn's custom filters: passed to the SLI provider as `$<key>` placeholders. */
  filter: Record<string, string>;
  comparison: SloComparison;
  objectives: SloObjective[];
  totalScore: { pass: number; warning: number | undefined };
  /** Things Keptn accepted that deserve a look; never errors. */
  warnings: Diagnostic[];
}

export type SloParseResult = { ok: true; slo: Slo } | { ok: false; diagnostics: Diagnostic[] };

/** Keptn's defaults when the whole comparison block is missing. */
export const DEFAULT_COMPARISON: Readonly<SloComparison> = {
  compareWith: 'single_result',
  includeResultWithScore: 'all',
  numberOfComparisonResults: 1,
  aggregateFunction: 'avg',
};

const TOP_KEYS = ['spec_version', 'filter', 'comparison', 'objectives', 'total_score'];
const COMPARISON_KEYS = [
  'compare_with',
  'include_result_with_score',
  'number_of_comparison_results',
  'aggregate_function',
];
const OBJECTIVE_KEYS = ['sli', 'displayName', 'pass', 'warning', 'weight', 'key_sli'];
const TOTAL_SCORE_KEYS = ['pass', 'warning'];

export function parseSloFile(file: string, text: string): SloParseResult {
  const loaded = loadYaml(file, text);
  if (!loaded.ok) return loaded;
  const r = new FieldReader(loaded.yaml);
  const root = loaded.yaml.toJS();
  if (!isRecord(root)) {
    return {
      ok: false,
      diagnostics: [r.diag([], 'not an SLO file: expected a mapping with objectives and total_score')],
    };
  }
  r.unknownKeys(root, [], TOP_KEYS);

  const specVersion = root['spec_version'] == null ? undefined : r.scalarString(root['spec_version'], ['spec_version']);
  const filter = readFilter(r, root['filter']);
  const comparison = readComparison(r, root['comparison']);
  const objectives = readObjectives(r, root['objectives']);
  const totalScore = readTotalScore(r, root['total_score']);

  if (r.errors.length > 0 || totalScore === undefined) return { ok: false, diagnostics: r.errors };
  return {
    ok: true,
    slo: { specVersion, filter, comparison, objectives, totalScore, warnings: r.warnings },
  };
}

function readFilter(r: FieldReader, value: unknown): Record<string, string> {
  const filter: Record<string, string> = {};
  if (value == null) return filter;
  if (!isRecord(value)) {
    r.error(['filter'], 'filter must be a mapping of names to values');
    return filter;
  }
  for (const [key, v] of Object.entries(value)) {
    const s = r.scalarString(v, ['filter', key]);
    if (s !== undefined) filter[key] = s;
  }
  return filter;
}

function readComparison(r: FieldReader, value: unknown): SloComparison {
  if (value == null) return { ...DEFAULT_COMPARISON };
  const path = ['comparison'];
  if (!isRecord(value)) {
    r.error(path, 'comparison must be a mapping');
    return { ...DEFAULT_COMPARISON };
  }
  r.unknownKeys(value, path, COMPARISON_KEYS);
  const compareWith = r.optionalString(value, path, 'compare_with') ?? '';
  const include = r.optionalString(value, path, 'include_result_with_score') ?? '';
  const aggregate = r.optionalString(value, path, 'aggregate_function') ?? '';
  let count = 0;
  const rawCount = value['number_of_comparison_results'];
  if (rawCount != null) {
    if (typeof rawCount !== 'number' || !Number.isInteger(rawCount) || rawCount < 0) {
      r.error([...path, 'number_of_comparison_results'], 'number_of_comparison_results must be a non-negative integer');
    } else {
      count = rawCount;
    }
  }
  if (compareWith !== '' && !isOneOf(COMPARE_WITH, compareWith)) {
    r.warn(
      [...path, 'compare_with'],
      `unknown compare_with "${compareWith}": Keptn compares with the last 3 results (expected ${COMPARE_WITH.join(' or ')})`,
    );
  }
  if (include !== '' && !isOneOf(INCLUDE_RESULT_WITH_SCORE, include)) {
    r.warn(
      [...path, 'include_result_with_score'],
      `unknown include_result_with_score "${include}": every earlier result counts (expected ${INCLUDE_RESULT_WITH_SCORE.join(', ')})`,
    );
  }
  if (aggregate !== '' && !isOneOf(AGGREGATE_FUNCTIONS, aggregate)) {
    r.warn(
      [...path, 'aggregate_function'],
      `unknown aggregate_function "${aggregate}": Keptn compares relative criteria against 0 (expected ${AGGREGATE_FUNCTIONS.join(', ')})`,
    );
  }
  // Keptn's defaults for a present block: include all, 3 results, avg; compare_with stays as written.
  return {
    compareWith,
    includeResultWithScore: include === '' ? 'all' : include,
    numberOfComparisonResults: count === 0 ? 3 : count,
    aggregateFunction: aggregate === '' ? 'avg' : aggregate,
  };
}

function readObjectives(r: FieldReader, value: unknown): SloObjective[] {
  if (value == null) {
    r.warn([], 'no objectives: every evaluation of this SLO fails ("no SLO objective was provided")');
    return [];
  }
  if (!Array.isArray(value)) {
    r.error(['objectives'], 'objectives must be a list');
    return [];
  }
  const objectives: SloObjective[] = [];
  value.forEach((item: unknown, i) => {
    if (item == null) return; // Keptn drops null objectives
    const path: PathSegment[] = ['objectives', i];
    if (!isRecord(item)) {
      r.error(path, 'an objective must be a mapping with at least "sli"');
      return;
    }
    r.unknownKeys(item, path, OBJECTIVE_KEYS);
    const sli = r.optionalString(item, path, 'sli');
    if (sli === undefined || sli === '') r.error(path, 'objective has no "sli": name the indicator it scores');
    const displayName = r.optionalString(item, path, 'displayName') ?? '';
    const pass = readCriteriaSets(r, item['pass'], [...path, 'pass']);
    const warning = readCriteriaSets(r, item['warning'], [...path, 'warning']);
    let weight = 1;
    const rawWeight = item['weight'];
    if (rawWeight != null) {
      if (typeof rawWeight !== 'number' || !Number.isInteger(rawWeight) || rawWeight < 0) {
        r.error([...path, 'weight'], 'weight must be a non-negative integer (0 or absent means 1)');
      } else if (rawWeight > 0) {
        weight = rawWeight;
      }
    }
    let keySli = false;
    const rawKey = item['key_sli'];
    if (rawKey != null) {
      if (typeof rawKey !== 'boolean') r.error([...path, 'key_sli'], 'key_sli must be true or false');
      else keySli = rawKey;
    }
    if (pass.length === 0 && warning.length > 0) {
      r.warn(
        [...path, 'warning'],
        'warning criteria without pass criteria are ignored: the objective is informational',
      );
    }
    objectives.push({ sli: sli ?? '', displayName, pass, warning, weight, keySli });
  });
  if (objectives.length === 0 && r.errors.length === 0) {
    r.warn(['objectives'], 'no objectives: every evaluation of this SLO fails ("no SLO objective was provided")');
  }
  return objectives;
}

function readCriteriaSets(r: FieldReader, value: unknown, path: PathSegment[]): CriteriaSet[] {
  if (value == null) return [];
  if (!Array.isArray(value)) {
    r.error(path, `${String(path[path.length - 1])} must be a list of {criteria: [...]} entries`);
    return [];
  }
  const sets: CriteriaSet[] = [];
  value.forEach((entry: unknown, j) => {
    const setPath = [...path, j];
    if (!isRecord(entry)) {
      r.error(setPath, 'expected an entry like {criteria: ["<600"]}');
      return;
    }
    r.unknownKeys(entry, setPath, ['criteria']);
    const rawCriteria = entry['criteria'];
    const criteria: string[] = [];
    if (rawCriteria == null || (Array.isArray(rawCriteria) && rawCriteria.length === 0)) {
      r.warn(setPath, 'an empty criteria list is always satisfied');
    } else if (!Array.isArray(rawCriteria)) {
      r.error([...setPath, 'criteria'], 'criteria must be a list of strings like "<600" or "<=+10%"');
    } else {
      rawCriteria.forEach((c: unknown, k) => {
        const cPath = [...setPath, 'criteria', k];
        if (typeof c !== 'string') {
          r.error(cPath, 'a criterion must be a string like "<600" or "<=+10%"');
          return;
        }
        const parsed = parseCriterion(c);
        if (!parsed.ok) r.error(cPath, parsed.message);
        else criteria.push(c);
      });
    }
    sets.push({ criteria });
  });
  return sets;
}

function readTotalScore(r: FieldReader, value: unknown): Slo['totalScore'] | undefined {
  const path = ['total_score'];
  if (value == null) {
    r.error([], 'total_score is missing: add total_score.pass (e.g. "90%")');
    return undefined;
  }
  if (!isRecord(value)) {
    r.error(path, 'total_score must be a mapping with pass and optional warning');
    return undefined;
  }
  r.unknownKeys(value, path, TOTAL_SCORE_KEYS);
  if (value['pass'] == null || value['pass'] === '') {
    r.error(path, 'total_score.pass is missing: no target score defined');
    return undefined;
  }
  const pass = readPercentage(r, value['pass'], [...path, 'pass']);
  const warning =
    value['warning'] == null || value['warning'] === ''
      ? undefined
      : readPercentage(r, value['warning'], [...path, 'warning']);
  return pass === undefined ? undefined : { pass, warning };
}

/** "90%", "90" or 90; one trailing % is stripped as Keptn did. */
function readPercentage(r: FieldReader, value: unknown, path: PathSegment[]): number | undefined {
  if (value == null) return undefined;
  const text = r.scalarString(value, path);
  if (text === undefined) return undefined;
  const parsed = parseGoFloat(text.endsWith('%') ? text.slice(0, -1) : text);
  if (parsed === undefined || Number.isNaN(parsed)) {
    r.error(path, `"${text}" is not a percentage like "90%"`);
    return undefined;
  }
  return parsed;
}

function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects located errors and warnings while reading plain values of a LocatedYaml. */
export class FieldReader {
  readonly errors: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];
  private readonly yaml: LocatedYaml;

  constructor(yaml: LocatedYaml) {
    this.yaml = yaml;
  }

  diag(path: PathSegment[], message: string, at: 'value' | 'key' = 'value'): Diagnostic {
    return this.yaml.diagnosticAt(path, message, at);
  }

  error(path: PathSegment[], message: string, at: 'value' | 'key' = 'value'): void {
    this.errors.push(this.diag(path, message, at));
  }

  warn(path: PathSegment[], message: string, at: 'value' | 'key' = 'value'): void {
    this.warnings.push(this.diag(path, message, at));
  }

  unknownKeys(value: Record<string, unknown>, path: PathSegment[], known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key))
        this.warn([...path, key], `unknown key "${key}" is ignored (expected one of: ${known.join(', ')})`, 'key');
    }
  }

  /**
   * A scalar as the text written in the file (`1.0` stays "1.0"), as Go's YAML decoder fills a string
   * field; maps, lists and null are errors.
   */
  scalarString(value: unknown, path: PathSegment[]): string | undefined {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') {
      const node = this.yaml.nodeAt(path);
      return isScalar(node) && typeof node.source === 'string' ? node.source : String(value);
    }
    this.error(path, `${String(path[path.length - 1])} must be a single value, not ${describe(value)}`);
    return undefined;
  }

  optionalString(parent: Record<string, unknown>, path: PathSegment[], key: string): string | undefined {
    const value = parent[key];
    return value == null ? undefined : this.scalarString(value, [...path, key]);
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : typeof value;
}
