// Keptn's remediation.yaml (keptn-semantics.md §1), both formats, with every error located:
//
//   legacy (Keptn 0.5/0.6):  remediations: [{name, actions: [{action, value}]}]
//   spec.keptn.sh/0.1.4:     apiVersion, kind: Remediation, spec.remediations[]: {problemType, actionsOnOpen[]}
//
// Values are read as written (`value: +1` stays "+1", `value: 2` is "2"): YAML 1.2 would turn `+1`
// into the number 1 and lose the sign that makes the step relative. Keptn 1.x refused unquoted
// numbers for scaling; accepting them as text is what the author meant, so Rebound does.
// Rebound runs `scale`/`scaling` (replicas: N, +N, -N) and `featuretoggle` (Flag:on|off); any other
// action is an error here, because a policy whose step cannot run would stall a remediation.
import { ACTIONS, FEATURE_TOGGLE_VALUE_PATTERN, SCALE_ACTIONS, SCALE_VALUE_PATTERN, WEBHOOK_ACTION } from '../api/index.ts';
import type { RemediationAction } from '../api/index.ts';
import { FieldReader, isRecord } from './slo.ts';
import { loadYaml } from './yaml.ts';
import type { Diagnostic, PathSegment } from './yaml.ts';

export const REMEDIATION_API_VERSION = 'spec.keptn.sh/0.1.4';

export interface RemediationPolicyEntry {
  problemType: string;
  /** `exact` (0.1.4: equal to rootCause or problemTitle) or `prefix` (legacy: title starts with it). */
  match: 'exact' | 'prefix';
  actions: RemediationAction[];
}

export interface RemediationPolicy {
  format: 'legacy' | '0.1.4';
  entries: RemediationPolicyEntry[];
}

export type RemediationParseResult =
  | { ok: true; policy: RemediationPolicy; warnings: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[] };

const KNOWN_ACTIONS: readonly string[] = Object.values(ACTIONS);
const scaleValue = new RegExp(SCALE_VALUE_PATTERN);
const toggleValue = new RegExp(FEATURE_TOGGLE_VALUE_PATTERN);

export function parseRemediationFile(file: string, text: string): RemediationParseResult {
  const loaded = loadYaml(file, text);
  if (!loaded.ok) return loaded;
  const r = new FieldReader(loaded.yaml);
  const root = loaded.yaml.toJS();
  if (!isRecord(root)) {
    return { ok: false, diagnostics: [r.diag([], `not a remediation file: expected apiVersion ${REMEDIATION_API_VERSION} or a top-level "remediations" list`)] };
  }
  let policy: RemediationPolicy | undefined;
  if ('apiVersion' in root || 'kind' in root || 'spec' in root) {
    policy = { format: '0.1.4', entries: readSpecFormat(r, root) };
  } else if ('remediations' in root) {
    r.unknownKeys(root, [], ['remediations']);
    policy = { format: 'legacy', entries: readEntries(r, root['remediations'], ['remediations'], legacyFormat) };
  } else {
    r.error([], `not a remediation file: expected apiVersion ${REMEDIATION_API_VERSION} or a top-level "remediations" list`);
  }
  if (r.errors.length > 0 || policy === undefined) return { ok: false, diagnostics: r.errors };
  return { ok: true, policy, warnings: r.warnings };
}

function readSpecFormat(r: FieldReader, root: Record<string, unknown>): RemediationPolicyEntry[] {
  r.unknownKeys(root, [], ['apiVersion', 'kind', 'metadata', 'spec']);
  const apiVersion = root['apiVersion'] == null ? undefined : r.scalarString(root['apiVersion'], ['apiVersion']);
  if (apiVersion === undefined) {
    if (root['apiVersion'] == null) r.error([], `missing "apiVersion": expected ${REMEDIATION_API_VERSION}`);
  } else if (apiVersion !== REMEDIATION_API_VERSION) {
    r.error(['apiVersion'], `unknown apiVersion "${apiVersion}": expected ${REMEDIATION_API_VERSION}`);
  }
  const kind = root['kind'] == null ? undefined : r.scalarString(root['kind'], ['kind']);
  if (kind === undefined) {
    if (root['kind'] == null) r.error([], 'missing "kind": expected Remediation');
  } else if (kind !== 'Remediation') {
    r.error(['kind'], `unknown kind "${kind}": expected Remediation`);
  }
  const spec = root['spec'];
  if (spec == null) {
    r.error([], 'missing "spec": expected spec.remediations');
    return [];
  }
  if (!isRecord(spec)) {
    r.error(['spec'], 'spec must be a mapping with "remediations"');
    return [];
  }
  r.unknownKeys(spec, ['spec'], ['remediations']);
  return readEntries(r, spec['remediations'], ['spec', 'remediations'], specFormat);
}

interface EntryFormat {
  /** The key naming the problem (`problemType`, or `name` in the legacy format). */
  problemKey: string;
  actionsKey: string;
  entryKeys: readonly string[];
  actionKeys: readonly string[];
  match: RemediationPolicyEntry['match'];
}

const specFormat: EntryFormat = {
  problemKey: 'problemType',
  actionsKey: 'actionsOnOpen',
  entryKeys: ['problemType', 'actionsOnOpen'],
  actionKeys: ['name', 'action', 'description', 'value'],
  match: 'exact',
};

const legacyFormat: EntryFormat = {
  problemKey: 'name',
  actionsKey: 'actions',
  entryKeys: ['name', 'actions'],
  actionKeys: ['action', 'value'],
  match: 'prefix',
};

function readEntries(r: FieldReader, value: unknown, path: PathSegment[], format: EntryFormat): RemediationPolicyEntry[] {
  const key = String(path[path.length - 1]);
  if (value == null) {
    r.error(path, `missing "${key}": list the problem types this file handles`, 'key');
    return [];
  }
  if (!Array.isArray(value)) {
    r.error(path, `${key} must be a list of entries`);
    return [];
  }
  if (value.length === 0) {
    r.error(path, `${key} is empty: add at least one entry`);
    return [];
  }
  const entries: RemediationPolicyEntry[] = [];
  const firstLineOf = new Map<string, number>();
  value.forEach((item: unknown, i) => {
    const entryPath = [...path, i];
    if (!isRecord(item)) {
      r.error(entryPath, `an entry must be a mapping with "${format.problemKey}" and "${format.actionsKey}"`);
      return;
    }
    r.unknownKeys(item, entryPath, format.entryKeys);
    const problemType = readProblemType(r, item, entryPath, format);
    const actions = readActions(r, item[format.actionsKey], [...entryPath, format.actionsKey], format);
    if (problemType === undefined) return;
    const earlier = firstLineOf.get(problemType);
    if (earlier !== undefined) {
      // Keptn takes the first match in file order: this entry could never be used.
      r.error([...entryPath, format.problemKey], `duplicated ${format.problemKey} "${problemType}": the entry at line ${earlier} already handles it`);
      return;
    }
    firstLineOf.set(problemType, r.diag([...entryPath, format.problemKey], '').line);
    entries.push({ problemType, match: format.match, actions });
  });
  return entries;
}

function readProblemType(r: FieldReader, item: Record<string, unknown>, path: PathSegment[], format: EntryFormat): string | undefined {
  const raw = item[format.problemKey];
  if (raw == null) {
    r.error(path, `missing "${format.problemKey}": name the problem this entry handles (or "default")`);
    return undefined;
  }
  const problemType = r.scalarString(raw, [...path, format.problemKey]);
  if (problemType === '') r.error([...path, format.problemKey], `${format.problemKey} is empty`);
  return problemType === '' ? undefined : problemType;
}

function readActions(r: FieldReader, value: unknown, path: PathSegment[], format: EntryFormat): RemediationAction[] {
  const key = format.actionsKey;
  if (value == null) {
    r.error(path, `missing "${key}": list the actions to try, in order`, 'key');
    return [];
  }
  if (!Array.isArray(value)) {
    r.error(path, `${key} must be a list of actions`);
    return [];
  }
  if (value.length === 0) {
    r.error(path, `${key} is empty: add at least one action`);
    return [];
  }
  const actions: RemediationAction[] = [];
  value.forEach((item: unknown, i) => {
    const action = readAction(r, item, [...path, i], format);
    if (action) actions.push(action);
  });
  return actions;
}

function readAction(r: FieldReader, item: unknown, path: PathSegment[], format: EntryFormat): RemediationAction | undefined {
  if (!isRecord(item)) {
    r.error(path, 'an action must be a mapping with "action" and "value"');
    return undefined;
  }
  r.unknownKeys(item, path, format.actionKeys);
  const action = item['action'] == null ? undefined : r.scalarString(item['action'], [...path, 'action']);
  if (item['action'] == null) r.error(path, 'missing "action": one of ' + KNOWN_ACTIONS.join(', '));
  const value = readValue(r, item['value'], [...path, 'value'], action);
  if (item['value'] == null) r.error(path, 'missing "value"');
  const name = item['name'] == null ? action : r.scalarString(item['name'], [...path, 'name']);
  const description = item['description'] == null ? undefined : r.scalarString(item['description'], [...path, 'description']);
  if (action === WEBHOOK_ACTION) {
    // Which hosts may be called is the cluster's decision, not a pushed file's (no SSRF through Git).
    r.error([...path, 'action'], 'webhook actions are allowed only in a Remediation resource, whose spec.webhook.allowedHosts says which hosts may be called');
    return undefined;
  }
  if (action === undefined || value === undefined || name === undefined) return undefined;
  if (!KNOWN_ACTIONS.includes(action)) {
    // Keptn's way: an action type for an external executor (job-executor-service, webhook-service).
    r.warn([...path, 'action'], `action "${action}" is not built in (${KNOWN_ACTIONS.join(', ')}): it runs only when the controller sends such actions to an external executor (--action-sink); otherwise the problem stalls with UnknownAction`);
    return description === undefined ? { name, action, value } : { name, action, description, value };
  }
  if (!checkActionValue(r, action, value, path)) return undefined;
  return description === undefined ? { name, action, value } : { name, action, description, value };
}

function readValue(r: FieldReader, raw: unknown, path: PathSegment[], action: string | undefined): string | undefined {
  if (raw == null) return undefined;
  if (action === ACTIONS.featuretoggle && isRecord(raw)) {
    // Keptn 1.x's unleash provider took {Flag: "off"}; Rebound's featuretoggle takes one string.
    const example = Object.keys(raw).length === 1 ? `${Object.keys(raw)[0] ?? 'Flag'}:${String(Object.values(raw)[0])}` : 'EnablePromotion:off';
    r.error(path, `featuretoggle value must be one string like "${example}", not a mapping`);
    return undefined;
  }
  return r.scalarString(raw, path);
}

/** The value forms a known action can turn into a values.yaml edit; false (after reporting) otherwise. */
function checkActionValue(r: FieldReader, action: string, value: string, path: PathSegment[]): boolean {
  if (SCALE_ACTIONS.includes(action)) {
    if (scaleValue.test(value)) return true;
    r.error([...path, 'value'], `${action} value "${value}" must be N, +N or -N (replicas, e.g. "2" or "+1")`);
    return false;
  }
  if (toggleValue.test(value)) return true;
  r.error([...path, 'value'], `featuretoggle value "${value}" must be Flag:on or Flag:off (e.g. "EnablePromotion:off")`);
  return false;
}
