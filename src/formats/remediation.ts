// Keptn's remediation.yaml (keptn-semantics.md §1), both formats, with every error located:
//
//   legacy (Keptn 0.5/0.6):  remediations: [{name, actions: [{action, value}]}]
//   spec.keptn.sh/0.1.4:     apiVersion, kind: Remediation, spec.remediations[]: {problemType, actionsOnOpen[]}
//
// Values are read as written (`value: +1` stays "+1", `value: 2` is "2"): YAML 1.2 would turn `+1`
// into the number 1 and lose the sign that makes the step relative. Keptn 1.x refused unquoted
// numbers for scaling; accepting them as text is what the author meant, so Rebound does.
// Rebound runs `scale`/`scaling` (replicas: N, +N, -N) and `featuretoggle` (Flag:on|off), which need
// a value; Keptn's unleash-service `toggle-feature` with a map (`{EnableItemCache: "on"}`) is read as
// `featuretoggle`. Any other action goes to an external executor as Keptn handed it over: without a
// value, or with a map value passed through unchanged (`valueMap`).
import { ACTIONS, KEPTN_TOGGLE_ACTION, SCALE_ACTIONS, SCALE_VALUE_PATTERN, WEBHOOK_ACTION } from '../api/index.ts';
import { formatToggles, readToggles } from './action-values.ts';
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
  { ok: true; policy: RemediationPolicy; warnings: Diagnostic[] } | { ok: false; diagnostics: Diagnostic[] };

const KNOWN_ACTIONS: readonly string[] = Object.values(ACTIONS);
const scaleValue = new RegExp(SCALE_VALUE_PATTERN);

export function parseRemediationFile(file: string, text: string): RemediationParseResult {
  const loaded = loadYaml(file, text);
  if (!loaded.ok) return loaded;
  const r = new FieldReader(loaded.yaml);
  const root = loaded.yaml.toJS();
  if (!isRecord(root)) {
    return {
      ok: false,
      diagnostics: [
        r.diag(
          [],
          `not a remediation file: expected apiVersion ${REMEDIATION_API_VERSION} or a top-level "remediations" list`,
        ),
      ],
    };
  }
  let policy: RemediationPolicy | undefined;
  if ('apiVersion' in root || 'kind' in root || 'spec' in root) {
    policy = { format: '0.1.4', entries: readSpecFormat(r, root) };
  } else if ('remediations' in root) {
    r.unknownKeys(root, [], ['remediations']);
    policy = { format: 'legacy', entries: readEntries(r, root['remediations'], ['remediations'], legacyFormat) };
  } else {
    r.error(
      [],
      `not a remediation file: expected apiVersion ${REMEDIATION_API_VERSION} or a top-level "remediations" list`,
    );
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
  // `approval: required` is Rebound's (Keptn's own reader ignores keys it does not know).
  actionKeys: ['name', 'action', 'description', 'value', 'approval'],
  match: 'exact',
};

const legacyFormat: EntryFormat = {
  problemKey: 'name',
  actionsKey: 'actions',
  entryKeys: ['name', 'actions'],
  actionKeys: ['action', 'value'],
  match: 'prefix',
};

function readEntries(
  r: FieldReader,
  value: unknown,
  path: PathSegment[],
  format: EntryFormat,
): RemediationPolicyEntry[] {
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
      r.error(
        [...entryPath, format.problemKey],
        `duplicated ${format.problemKey} "${problemType}": the entry at line ${earlier} already handles it`,
      );
      return;
    }
    firstLineOf.set(problemType, r.diag([...entryPath, format.problemKey], '').line);
    entries.push({ problemType, match: format.match, actions });
  });
  return entries;
}

function readProblemType(
  r: FieldReader,
  item: Record<string, unknown>,
  path: PathSegment[],
  format: EntryFormat,
): string | undefined {
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

/** As long as an action's value may be: the status and the CRD keep it in 256 characters. */
export const MAX_VALUE_LENGTH = 256;

function readAction(
  r: FieldReader,
  item: unknown,
  path: PathSegment[],
  format: EntryFormat,
): RemediationAction | undefined {
  if (!isRecord(item)) {
    r.error(path, 'an action must be a mapping with "action" and "value"');
    return undefined;
  }
  r.unknownKeys(item, path, format.actionKeys);
  const written = item['action'] == null ? undefined : r.scalarString(item['action'], [...path, 'action']);
  if (item['action'] == null) r.error(path, 'missing "action": one of ' + KNOWN_ACTIONS.join(', '));
  const name = item['name'] == null ? written : r.scalarString(item['name'], [...path, 'name']);
  const description =
    item['description'] == null ? undefined : r.scalarString(item['description'], [...path, 'description']);
  const approval = item['approval'] == null ? undefined : r.scalarString(item['approval'], [...path, 'approval']);
  if (approval !== undefined && approval !== 'required')
    r.error([...path, 'approval'], `approval must be "required" (or left out), not "${approval}"`);
  if (written === WEBHOOK_ACTION) {
    // Which hosts may be called is the cluster's decision, not a pushed file's (no SSRF through Git).
    r.error(
      [...path, 'action'],
      'webhook actions are allowed only in a Remediation resource, whose spec.webhook.allowedHosts says which hosts may be called',
    );
    return undefined;
  }
  if (written === undefined || name === undefined) return undefined;
  const described = {
    name,
    ...(description === undefined ? {} : { description }),
    ...(approval === 'required' ? { approval: 'required' as const } : {}),
  };
  const raw = item['value'];
  const valuePath = [...path, 'value'];
  if (written === KEPTN_TOGGLE_ACTION) {
    const value = readToggleValue(r, raw, valuePath, written);
    if (value === undefined) return undefined;
    r.warn(
      [...path, 'action'],
      `${KEPTN_TOGGLE_ACTION} (Keptn's unleash-service action) is carried out as featuretoggle ${value}: Rebound sets the flags in the values file, and in Unleash when the Project names it as the provider`,
    );
    return { ...described, action: ACTIONS.featuretoggle, value };
  }
  if (written === ACTIONS.featuretoggle) {
    const value = readToggleValue(r, raw, valuePath, written);
    return value === undefined ? undefined : { ...described, action: written, value };
  }
  if (SCALE_ACTIONS.includes(written)) {
    const value = raw == null ? undefined : r.scalarString(raw, valuePath);
    if (value === undefined) {
      if (raw == null) r.error(path, `missing "value": ${written} needs one (N, +N or -N replicas, e.g. "2" or "+1")`);
      return undefined;
    }
    if (!scaleValue.test(value)) {
      r.error(valuePath, `${written} value "${value}" must be N, +N or -N (replicas, e.g. "2" or "+1")`);
      return undefined;
    }
    return { ...described, action: written, value };
  }
  // Keptn's way: an action type for an external executor (job-executor-service, webhook-service).
  r.warn(
    [...path, 'action'],
    `action "${written}" is not built in (${KNOWN_ACTIONS.join(', ')}): it runs only when the controller sends such actions to an external executor (--action-sink); otherwise the problem stalls with UnknownAction`,
  );
  if (isRecord(raw)) {
    const json = JSON.stringify(raw);
    if (json.length > MAX_VALUE_LENGTH) {
      r.error(
        valuePath,
        `the map value is ${json.length} characters as JSON, more than ${MAX_VALUE_LENGTH}: keep an executor's settings in its own configuration`,
      );
      return undefined;
    }
    return { ...described, action: written, value: json, valueMap: raw };
  }
  // No value, or an empty one: Keptn handed such actions (`restart`, `escalate`) on as they were.
  const value = raw == null ? '' : r.scalarString(raw, valuePath);
  if (value === undefined) return undefined;
  if (value.length > MAX_VALUE_LENGTH) {
    r.error(valuePath, `the value is ${value.length} characters, more than ${MAX_VALUE_LENGTH}`);
    return undefined;
  }
  return { ...described, action: written, value };
}

/**
 * A featuretoggle value: `Flag:on` (several separated by commas) or a map of flags to on/off/true/false,
 * returned in the canonical string form.
 */
function readToggleValue(r: FieldReader, raw: unknown, path: PathSegment[], action: string): string | undefined {
  if (raw == null) {
    r.error(
      path.slice(0, -1),
      `missing "value": ${action} needs one (Flag:on or Flag:off, e.g. "EnablePromotion:off", or a map {Flag: "on"})`,
    );
    return undefined;
  }
  const value = isRecord(raw) ? raw : r.scalarString(raw, path);
  if (value === undefined) return undefined;
  const toggles = readToggles(value);
  if (!toggles) {
    r.error(
      path,
      typeof value === 'string'
        ? `${action} value "${value}" must be Flag:on or Flag:off (e.g. "EnablePromotion:off")`
        : `${action} value ${JSON.stringify(value)} must map each flag to on, off, true or false (at most 16 flags)`,
    );
    return undefined;
  }
  return formatToggles(toggles);
}
