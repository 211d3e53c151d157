// Reading SLI values and earlier evaluations from files (JSON or YAML), for `rebound evaluate` and
// for anyone else holding them as documents. Every shape error is located at file:line:column.
import { loadYaml } from '../formats/yaml.ts';
import type { Diagnostic, LocatedYaml, PathSegment } from '../formats/yaml.ts';
import { isRecord } from '../formats/slo.ts';
import type { IndicatorValue, PreviousEvaluation, PreviousIndicator } from './types.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; diagnostics: Diagnostic[] };

/**
 * SLI values: a list of `{metric, value, success, message?, query?}`, or Keptn's `{indicatorValues: [...]}`
 * (also nested under `get-sli`, as in a get-sli.finished event's data). `success` defaults to true;
 * a failed value needs no `value`.
 */
export function parseIndicatorsDocument(file: string, text: string): Parsed<IndicatorValue[]> {
  const loaded = loadYaml(file, text);
  if (!loaded.ok) return loaded;
  const y = loaded.yaml;
  const root = y.toJS();
  const errors: Diagnostic[] = [];
  let list: unknown = root;
  let path: PathSegment[] = [];
  if (isRecord(root)) {
    const getSli = root['get-sli'];
    if (isRecord(getSli) && 'indicatorValues' in getSli) {
      list = getSli['indicatorValues'];
      path = ['get-sli', 'indicatorValues'];
    } else {
      list = root['indicatorValues'];
      path = ['indicatorValues'];
    }
  }
  if (!Array.isArray(list)) {
    return {
      ok: false,
      diagnostics: [y.diagnosticAt(path, 'expected a list of {metric, value, success} or {indicatorValues: [...]}')],
    };
  }
  const values: IndicatorValue[] = [];
  list.forEach((item: unknown, i) => {
    const itemPath = [...path, i];
    const read = readValue(y, item, itemPath, { requireValueWhenSuccessful: true });
    if ('error' in read) {
      errors.push(read.error);
      return;
    }
    const value: IndicatorValue = { metric: read.metric, value: read.value, success: read.success };
    if (isRecord(item) && typeof item['message'] === 'string' && item['message'] !== '')
      value.message = item['message'];
    if (isRecord(item) && typeof item['query'] === 'string' && item['query'] !== '') value.query = item['query'];
    values.push(value);
  });
  return errors.length > 0 ? { ok: false, diagnostics: errors } : { ok: true, value: values };
}

/**
 * One earlier evaluation: a list of `{metric, value, success?}` (always counts), or
 * `{result, indicatorResults: [...]}` whose result `include_result_with_score` filters on.
 * indicatorResults entries may be flat (`{metric, value}`, as `rebound evaluate --json` prints them,
 * `value: null` meaning no value) or Keptn's (`{value: {metric, value, success}}`). Keptn's
 * evaluation.finished data (`{result, evaluation: {...}}`) is accepted too.
 */
export function parsePreviousDocument(file: string, text: string): Parsed<PreviousEvaluation> {
  const loaded = loadYaml(file, text);
  if (!loaded.ok) return loaded;
  const y = loaded.yaml;
  let root = y.toJS();
  let base: PathSegment[] = [];
  if (isRecord(root) && isRecord(root['data']) && isRecord(root['data']['evaluation'])) {
    root = root['data'];
    base = ['data'];
  }
  let result: string | undefined;
  let list: unknown = root;
  let path: PathSegment[] = base;
  if (isRecord(root)) {
    const evaluation = root['evaluation'];
    const holder = isRecord(evaluation) ? evaluation : root;
    const holderPath = isRecord(evaluation) ? [...base, 'evaluation'] : base;
    const rawResult = root['result'] ?? holder['result'];
    if (rawResult !== undefined && rawResult !== null) {
      if (typeof rawResult !== 'string') {
        return {
          ok: false,
          diagnostics: [y.diagnosticAt([...base, 'result'], 'result must be pass, warning or fail')],
        };
      }
      result = rawResult;
    }
    list = holder['indicatorResults'] ?? [];
    path = [...holderPath, 'indicatorResults'];
  }
  if (!Array.isArray(list)) {
    return {
      ok: false,
      diagnostics: [
        y.diagnosticAt(path, 'expected a list of {metric, value, success?} or {result, indicatorResults: [...]}'),
      ],
    };
  }
  const errors: Diagnostic[] = [];
  const indicatorResults: PreviousIndicator[] = [];
  list.forEach((item: unknown, i) => {
    let itemPath: PathSegment[] = [...path, i];
    let entry = item;
    // Keptn's SLIEvaluationResult keeps the SLI value in a nested `value` object.
    if (isRecord(item) && isRecord(item['value'])) {
      entry = item['value'];
      itemPath = [...itemPath, 'value'];
    }
    const read = readValue(y, entry, itemPath, { requireValueWhenSuccessful: false });
    if ('error' in read) errors.push(read.error);
    else indicatorResults.push(read);
  });
  if (errors.length > 0) return { ok: false, diagnostics: errors };
  return { ok: true, value: result === undefined ? { indicatorResults } : { result, indicatorResults } };
}

function readValue(
  y: LocatedYaml,
  item: unknown,
  path: PathSegment[],
  options: { requireValueWhenSuccessful: boolean },
): PreviousIndicator | { error: Diagnostic } {
  if (!isRecord(item)) return { error: y.diagnosticAt(path, 'expected {metric, value, success}') };
  const metric = item['metric'];
  if (typeof metric !== 'string' || metric === '')
    return { error: y.diagnosticAt([...path, 'metric'], 'metric must be a non-empty string') };
  const rawSuccess = item['success'];
  if (rawSuccess !== undefined && rawSuccess !== null && typeof rawSuccess !== 'boolean') {
    return { error: y.diagnosticAt([...path, 'success'], 'success must be true or false') };
  }
  const raw = item['value'];
  if (raw !== undefined && raw !== null && (typeof raw !== 'number' || !Number.isFinite(raw))) {
    return { error: y.diagnosticAt([...path, 'value'], `the value of "${metric}" must be a finite number`) };
  }
  const hasValue = typeof raw === 'number';
  // Without an explicit `success`, a present value is a success and a null/missing one is not.
  const success = typeof rawSuccess === 'boolean' ? rawSuccess : hasValue || options.requireValueWhenSuccessful;
  if (success && !hasValue) {
    return { error: y.diagnosticAt([...path, 'value'], `"${metric}" is marked successful but has no numeric value`) };
  }
  return { metric, value: hasValue ? raw : 0, success };
}
