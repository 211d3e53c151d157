// Remediation actions as pure functions: a values file's text in, the edited text and a summary out.
//
// `scale` sets the replica count: an unsigned value is the new count (`"2"`, as in the job-executor
// tutorial's `--set replicaCount=2`), a signed one a change (`"+1"`, `"-1"`). Keptn's older `scaling`
// always adds its value (`"1"` is one more replica), as Keptn's helm-service did. The result is
// clamped to the Remediation's limits. When a HorizontalPodAutoscaler owns the replica count (the
// values file has its minimum, `autoscaling.minReplicas` by default, and the sibling `enabled` is not
// false), writing the count is pointless: the HPA overrides it. `scale` then raises the HPA's minimum
// instead, clamped to its `maxReplicas`. `featuretoggle` sets feature flags to true or false
// (`EnablePromotion:off`, several separated by commas). See docs/remediation.md.
import { ACTIONS } from '../api/index.ts';
import type { ActionName } from '../api/index.ts';
import { ReboundError } from '../errors.ts';
import { MAX_TOGGLES, readToggles } from '../formats/action-values.ts';
import type { ToggleValue } from '../formats/action-values.ts';
import { refreshConfigChecksums } from './config-checksum.ts';
import {
  EDIT_ERROR,
  editError,
  formatKeyPath,
  insertKeys,
  loadEditable,
  lookup,
  renderLike,
  renderNewFlag,
  replaceScalar,
  where,
} from './yaml-edit.ts';
import type { EditableYaml } from './yaml-edit.ts';

export const DEFAULT_REPLICAS_PATH = ['replicaCount'] as const;
export const DEFAULT_FLAGS_PATH = ['featureFlags'] as const;
/** Helm's chart scaffold: `autoscaling: { enabled, minReplicas, maxReplicas }`. */
export const DEFAULT_MIN_REPLICAS_PATH = ['autoscaling', 'minReplicas'] as const;

export interface ReplicaLimits {
  minReplicas?: number;
  maxReplicas?: number;
}

export interface EditOptions {
  /** Path of the values file inside the repository, used in messages (`carts/values.yaml`). */
  file: string;
  replicasPath?: readonly string[];
  /** The HPA's minimum (Remediation `values.minReplicasKey`); default `autoscaling.minReplicas`. */
  minReplicasPath?: readonly string[];
  flagsPath?: readonly string[];
  limits?: ReplicaLimits;
}

/** One feature flag an action sets. */
export interface FlagChange {
  path: string;
  flag: string;
  from: boolean | undefined;
  to: boolean;
}

/** What an action changes, in terms a commit message and a status can show. */
export type Change =
  | {
      kind: 'replicas';
      path: string;
      from: number;
      to: number;
      requested: number;
      rule: ScaleRule;
      clampedBy?: 'minReplicas' | 'maxReplicas' | 'zero' | 'hpaMaxReplicas';
      /** A HorizontalPodAutoscaler owns the replica count: `path` is its minimum, raised instead. */
      autoscaler?: true;
    }
  | { kind: 'flags'; flags: FlagChange[] };

export type EditResult =
  | { changed: true; text: string; summary: string; change: Change }
  /** Nothing to commit: the file already has the wanted value. `reason` says so. */
  | { changed: false; text: string; reason: string; change: Change };

/** The action part of a policy entry (the shape of Keptn's `actionsOnOpen[]`). */
export interface ActionRequest {
  action: string;
  value: unknown;
}

export function isKnownAction(name: string): name is ActionName {
  return Object.values(ACTIONS).includes(name as ActionName);
}

/**
 * Apply `request` to the values file `text`. Throws a ReboundError (not retryable) for an unknown
 * action, a malformed action value, or a file that cannot hold the edit; the message names the file,
 * the line and the key path.
 */
export function applyAction(request: ActionRequest, text: string, options: EditOptions): EditResult {
  switch (request.action) {
    case ACTIONS.scale:
    case ACTIONS.scaling:
      return scaleReplicas(text, parseScaleValue(request.value, request.action), options);
    case ACTIONS.featuretoggle:
      return toggleFeature(text, parseToggleValue(request.value), options);
    default:
      throw editError(
        EDIT_ERROR.unknownAction,
        `unknown action "${request.action}": Rebound knows ${Object.values(ACTIONS).join(', ')}`,
      );
  }
}

/**
 * Which rule read a scale value: `absolute` (`scale` with `"2"`: the new count), `relative` (a signed
 * value, `"+1"`), or `added` (`scaling` with an unsigned value: Keptn's helm-service added it).
 */
export type ScaleRule = 'absolute' | 'relative' | 'added';

export type ScaleValue =
  { mode: 'absolute'; replicas: number } | { mode: 'relative'; delta: number; rule: 'relative' | 'added' };

/** One sentence per rule, for `rebound plan` and the docs. */
export const SCALE_RULES: Record<ScaleRule, string> = {
  absolute: 'scale with an unsigned value sets the replica count to it',
  relative: 'a signed value changes the replica count by that much',
  added: "scaling adds its value to the replica count (Keptn's helm-service did; write scale to set a count)",
};

/**
 * `scale`: `"2"` → absolute 2, `"+1"`/`"-1"` → relative; `scaling` (Keptn's helm-service action):
 * `"1"` → one more replica, since helm-service added the value to every Deployment's replicas. A
 * bare YAML integer reads as its text would.
 */
export function parseScaleValue(value: unknown, action: string = ACTIONS.scale): ScaleValue {
  const text = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : value;
  if (typeof text === 'string') {
    const match = /^\s*([+-]?)(\d{1,9})\s*$/.exec(text);
    if (match) {
      const n = Number(match[2]);
      if (match[1] !== '') return { mode: 'relative', delta: match[1] === '-' ? -n : n, rule: 'relative' };
      if (action === ACTIONS.scaling) return { mode: 'relative', delta: n, rule: 'added' };
      return { mode: 'absolute', replicas: n };
    }
  }
  throw editError(
    EDIT_ERROR.invalidActionValue,
    `invalid ${action} value ${JSON.stringify(value)}: expected a replica count ("2") or a signed change ("+1", "-1")`,
  );
}

export type { ToggleValue } from '../formats/action-values.ts';
export { formatToggles, MAX_TOGGLES } from '../formats/action-values.ts';

/** The flags of a featuretoggle value (formats/action-values.ts), or an InvalidActionValue error. */
export function parseToggleValue(value: unknown): ToggleValue[] {
  const toggles = readToggles(value);
  if (toggles) return toggles;
  throw editError(
    EDIT_ERROR.invalidActionValue,
    `invalid featuretoggle value ${JSON.stringify(value)}: expected "<Flag>:on" or "<Flag>:off" (up to ${MAX_TOGGLES}, separated by commas, each flag once; made of letters, digits, "_", "." or "-")`,
  );
}

/** Set the replica count; the key must exist and hold a whole number (a quoted one keeps its quotes). */
export function scaleReplicas(text: string, value: ScaleValue, options: EditOptions): EditResult {
  const path = [...(options.replicasPath ?? DEFAULT_REPLICAS_PATH)];
  const target = loadEditable(options.file, text);
  const hpa = autoscalerIn(target, options.minReplicasPath ?? DEFAULT_MIN_REPLICAS_PATH);
  if (hpa) return scaleAutoscalerMin(text, target, hpa, value, options);
  const found = lookup(target, path);
  const keyPath = formatKeyPath(path);
  if (found.kind === 'missing') {
    throw editError(
      EDIT_ERROR.notFound,
      `${where(target, path)}: ${options.file} has no ${keyPath}; add it (for example "${keyPath}: 1") so Rebound can scale the service`,
    );
  }
  const from = replicaNumber(target, found.node.value, path);
  const requested = value.mode === 'absolute' ? value.replicas : from + value.delta;
  const rule: ScaleRule = value.mode === 'absolute' ? 'absolute' : value.rule;
  const { to, clampedBy } = clampReplicas(requested, options.limits ?? {});
  const change: Change = {
    kind: 'replicas',
    path: keyPath,
    from,
    to,
    requested,
    rule,
    ...(clampedBy ? { clampedBy } : {}),
  };
  const limitNote = clampedBy
    ? ` (${requested} clamped to ${clampedBy === 'zero' ? 'zero' : `${clampedBy} ${to}`})`
    : '';
  if (to === from) {
    return { changed: false, text, reason: `${keyPath} in ${options.file} is already ${from}${limitNote}`, change };
  }
  const edited = replaceScalar(target, found.node, renderLike(found.node, to), path);
  return { changed: true, text: edited, summary: `${keyPath} ${from} → ${to}${limitNote}`, change };
}

interface Autoscaler {
  minPath: string[];
  node: Extract<ReturnType<typeof lookup>, { kind: 'scalar' }>['node'];
  max?: number;
}

/** The HPA settings in the values file, when an HPA is on: its minimum's key is there, `enabled` is not false. */
function autoscalerIn(target: EditableYaml, minPath: readonly string[]): Autoscaler | undefined {
  const path = [...minPath];
  const parent = path.slice(0, -1);
  const quietly = (p: string[]): ReturnType<typeof lookup> | undefined => {
    try {
      return lookup(target, p);
    } catch {
      // `autoscaling: false`, an alias, a list: no HPA settings Rebound could edit; scale the count.
      return undefined;
    }
  };
  const found = quietly(path);
  if (found?.kind !== 'scalar') return undefined;
  const enabled = quietly([...parent, 'enabled']);
  if (enabled?.kind === 'scalar' && (enabled.node.value === false || enabled.node.value === 'false')) return undefined;
  const maxFound = quietly([...parent, 'maxReplicas']);
  const max =
    maxFound?.kind === 'scalar' ? replicaNumber(target, maxFound.node.value, [...parent, 'maxReplicas']) : undefined;
  return { minPath: path, node: found.node, ...(max !== undefined ? { max } : {}) };
}

/** `scale` with an HPA: its minimum is raised (or lowered), within the limits and never above its maximum. */
function scaleAutoscalerMin(
  text: string,
  target: EditableYaml,
  hpa: Autoscaler,
  value: ScaleValue,
  options: EditOptions,
): EditResult {
  const keyPath = formatKeyPath(hpa.minPath);
  const from = replicaNumber(target, hpa.node.value, hpa.minPath);
  const requested = value.mode === 'absolute' ? value.replicas : from + value.delta;
  const rule: ScaleRule = value.mode === 'absolute' ? 'absolute' : value.rule;
  let { to, clampedBy } = clampReplicas(requested, options.limits ?? {}) as {
    to: number;
    clampedBy?: 'minReplicas' | 'maxReplicas' | 'zero' | 'hpaMaxReplicas';
  };
  // An HPA's minimum is at least 1 (the API server refuses 0 without a feature gate).
  if (to < 1) to = 1;
  if (hpa.max !== undefined && to > hpa.max) {
    to = hpa.max;
    clampedBy = 'hpaMaxReplicas';
  }
  const change: Change = {
    kind: 'replicas',
    path: keyPath,
    from,
    to,
    requested,
    rule,
    autoscaler: true,
    ...(clampedBy ? { clampedBy } : {}),
  };
  const limitNote = clampedBy
    ? ` (${requested} clamped to ${clampedBy === 'hpaMaxReplicas' ? `the HorizontalPodAutoscaler's maxReplicas ${to}` : clampedBy === 'zero' ? 'zero' : `${clampedBy} ${to}`})`
    : '';
  const why = 'a HorizontalPodAutoscaler owns the replica count, so its minimum is raised';
  if (to === from) {
    return {
      changed: false,
      text,
      reason: `${keyPath} in ${options.file} is already ${from}${limitNote}; ${why}`,
      change,
    };
  }
  const edited = replaceScalar(target, hpa.node, renderLike(hpa.node, to), hpa.minPath);
  return { changed: true, text: edited, summary: `${keyPath} ${from} → ${to}${limitNote} (${why})`, change };
}

function replicaNumber(target: EditableYaml, raw: unknown, path: string[]): number {
  const n =
    typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw editError(
      EDIT_ERROR.wrongType,
      `${where(target, path)}: ${formatKeyPath(path)} is ${JSON.stringify(raw)}, not a whole number of replicas`,
    );
  }
  return n;
}

/** Never below zero or minReplicas, never above maxReplicas. */
export function clampReplicas(
  requested: number,
  limits: ReplicaLimits,
): { to: number; clampedBy?: 'minReplicas' | 'maxReplicas' | 'zero' } {
  if (limits.maxReplicas !== undefined && requested > limits.maxReplicas)
    return { to: limits.maxReplicas, clampedBy: 'maxReplicas' };
  const floor = Math.max(0, limits.minReplicas ?? 0);
  if (requested < floor)
    return {
      to: floor,
      clampedBy: limits.minReplicas !== undefined && limits.minReplicas > 0 ? 'minReplicas' : 'zero',
    };
  return { to: requested };
}

/**
 * Set `<flagsPath>.<flag>` to true or false for each toggle, one edit after the other. An existing
 * flag is rewritten in place (quoted flags keep their quotes); a missing flag is added as one line
 * under the flags map (quoted like its neighbours, and in a ConfigMap's data), and a missing flags
 * map is created at the end of its parent map.
 */
export function toggleFeature(text: string, toggles: readonly ToggleValue[], options: EditOptions): EditResult {
  const flags: FlagChange[] = [];
  const done: string[] = [];
  const same: string[] = [];
  let current = text;
  for (const toggle of toggles) {
    const step = toggleOne(current, toggle, options);
    flags.push(step.change);
    if (step.summary === undefined) same.push(step.reason);
    else done.push(step.summary);
    current = step.text;
  }
  const change: Change = { kind: 'flags', flags };
  if (done.length === 0) return { changed: false, text, reason: same.join('; '), change };
  // Flags in a rendered ConfigMap: the pod template's checksum of it follows, so the pods roll.
  const refreshed = refreshConfigChecksums(text, current);
  for (const key of refreshed.updated) done.push(`${key} updated (the pods reading the flags restart)`);
  return { changed: true, text: refreshed.text, summary: done.join('; '), change };
}

function toggleOne(
  text: string,
  value: ToggleValue,
  options: EditOptions,
): { text: string; change: FlagChange; summary?: string; reason: string } {
  const flagsPath = [...(options.flagsPath ?? DEFAULT_FLAGS_PATH)];
  const path = [...flagsPath, value.flag];
  const keyPath = formatKeyPath(path);
  const target = loadEditable(options.file, text);
  const found = lookup(target, path);
  const word = value.on ? 'on' : 'off';
  if (found.kind === 'missing') {
    const edited = insertKeys(target, found.parent, found.rest, renderNewFlag(target, found, path, value.on));
    return {
      text: edited,
      change: { path: keyPath, flag: value.flag, from: undefined, to: value.on },
      summary: `${keyPath} added as ${value.on} (${word})`,
      reason: '',
    };
  }
  const from = flagValue(target, found.node.value, path);
  const change: FlagChange = { path: keyPath, flag: value.flag, from, to: value.on };
  if (from === value.on)
    return { text, change, reason: `${keyPath} in ${options.file} is already ${value.on} (${word})` };
  const edited = replaceScalar(target, found.node, renderLike(found.node, value.on), path);
  return { text: edited, change, summary: `${keyPath} ${from} → ${value.on} (${word})`, reason: '' };
}

/** A flag holds a boolean, or the words true/false (a quoted string the chart compares). */
function flagValue(target: EditableYaml, raw: unknown, path: string[]): boolean {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    const lowered = raw.trim().toLowerCase();
    if (lowered === 'true') return true;
    if (lowered === 'false') return false;
  }
  throw editError(
    EDIT_ERROR.wrongType,
    `${where(target, path)}: ${formatKeyPath(path)} is ${JSON.stringify(raw)}, not true or false`,
  );
}

/** One line for a commit subject: "scale carts in production to 2 replicas". */
export function describeChange(change: Change, service: string, stage: string): string {
  if (change.kind === 'replicas' && change.autoscaler)
    return `raise the autoscaler minimum of ${service} in ${stage} to ${change.to} replica${change.to === 1 ? '' : 's'}`;
  if (change.kind === 'replicas')
    return `scale ${service} in ${stage} to ${change.to} replica${change.to === 1 ? '' : 's'}`;
  const turned = change.flags.map((f) => `${f.flag} ${f.to ? 'on' : 'off'}`).join(', ');
  return `turn ${turned} for ${service} in ${stage}`;
}

/** True for the errors this module raises (so callers can tell them from bugs). */
export function isEditError(err: unknown): err is ReboundError {
  return (
    err instanceof ReboundError &&
    Object.values(EDIT_ERROR).includes(err.code as (typeof EDIT_ERROR)[keyof typeof EDIT_ERROR])
  );
}
