// Remediation actions as pure functions: a values file's text in, the edited text and a summary out.
//
// `scale` (Keptn's older name `scaling` too) sets the replica count: an unsigned value is absolute
// (`"2"`, as in the job-executor tutorial's `--set replicaCount=2`), a signed one relative (`"+1"`,
// `"-1"`); the result is clamped to the Remediation's limits. `featuretoggle` sets a feature flag to
// true or false (`EnablePromotion:off`). See docs/remediation.md.
import { ACTIONS } from '../api/index.ts';
import type { ActionName } from '../api/index.ts';
import { ReboundError } from '../errors.ts';
import {
  EDIT_ERROR,
  editError,
  formatKeyPath,
  insertKeys,
  loadEditable,
  lookup,
  renderLike,
  replaceScalar,
  where,
} from './yaml-edit.ts';
import type { EditableYaml } from './yaml-edit.ts';


export const DEFAULT_REPLICAS_PATH = ['replicaCount'] as const;
export const DEFAULT_FLAGS_PATH = ['featureFlags'] as const;

export interface ReplicaLimits {
  minReplicas?: number;
  maxReplicas?: number;
}

export interface EditOptions {
  /** Path of the values file inside the repository, used in messages (`carts/values.yaml`). */
  file: string;
  replicasPath?: readonly string[];
  flagsPath?: readonly string[];
  limits?: ReplicaLimits;
}

/** What an action changes, in terms a commit message and a status can show. */
export type Change =
  | { kind: 'replicas'; path: string; from: number; to: number; requested: number; clampedBy?: 'minReplicas' | 'maxReplicas' | 'zero' }
  | { kind: 'flag'; path: string; flag: string; from: boolean | undefined; to: boolean };

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
      return scaleReplicas(text, parseScaleValue(request.value), options);
    case ACTIONS.featuretoggle:
      return toggleFeature(text, parseToggleValue(request.value), options);
    default:
      throw editError(EDIT_ERROR.unknownAction, `unknown action "${request.action}": Rebound knows ${Object.values(ACTIONS).join(', ')}`);
  }
}

export type ScaleValue = { mode: 'absolute'; replicas: number } | { mode: 'relative'; delta: number };

/** `"2"` → absolute 2; `"+1"`, `"-1"` → relative. A bare YAML integer is taken as absolute too. */
export function parseScaleValue(value: unknown): ScaleValue {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return { mode: 'absolute', replicas: value };
  if (typeof value === 'string') {
    const match = /^\s*([+-]?)(\d{1,9})\s*$/.exec(value);
    if (match) {
      const n = Number(match[2]);
      if (match[1] === '') return { mode: 'absolute', replicas: n };
      return { mode: 'relative', delta: match[1] === '-' ? -n : n };
    }
  }
  throw editError(
    EDIT_ERROR.invalidActionValue,
    `invalid scale value ${JSON.stringify(value)}: expected a replica count ("2") or a signed change ("+1", "-1")`,
  );
}

export interface ToggleValue {
  flag: string;
  on: boolean;
}

/**
 * `EnablePromotion:off` (Keptn's featuretoggle string). `on`/`off` (also true/false) are read as
 * words, never as YAML 1.1 booleans; a one-entry map `{EnablePromotion: "off"}` is accepted too.
 */
export function parseToggleValue(value: unknown): ToggleValue {
  let flag: string | undefined;
  let state: unknown;
  if (typeof value === 'string') {
    const colon = value.lastIndexOf(':');
    if (colon > 0) {
      flag = value.slice(0, colon).trim();
      state = value.slice(colon + 1).trim();
    }
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries: [string, unknown][] = Object.entries(value as Record<string, unknown>);
    const only = entries.length === 1 ? entries[0] : undefined;
    if (only) [flag, state] = only;
  }
  const on = typeof state === 'boolean' ? state : typeof state === 'string' ? toggleWord(state) : undefined;
  if (!flag || on === undefined || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(flag)) {
    throw editError(
      EDIT_ERROR.invalidActionValue,
      `invalid featuretoggle value ${JSON.stringify(value)}: expected "<Flag>:on" or "<Flag>:off" (flag made of letters, digits, "_", "." or "-")`,
    );
  }
  return { flag, on };
}

function toggleWord(word: string): boolean | undefined {
  switch (word.toLowerCase()) {
    case 'on':
    case 'true':
      return true;
    case 'off':
    case 'false':
      return false;
    default:
      return undefined;
  }
}

/** Set the replica count; the key must exist and hold a whole number (a quoted one keeps its quotes). */
export function scaleReplicas(text: string, value: ScaleValue, options: EditOptions): EditResult {
  const path = [...(options.replicasPath ?? DEFAULT_REPLICAS_PATH)];
  const target = loadEditable(options.file, text);
  const found = lookup(target, path);
  const keyPath = formatKeyPath(path);
  if (found.kind === 'missing') {
    throw editError(EDIT_ERROR.notFound, `${where(target, path)}: ${options.file} has no ${keyPath}; add it (for example "${keyPath}: 1") so Rebound can scale the service`);
  }
  const from = replicaNumber(target, found.node.value, path);
  const requested = value.mode === 'absolute' ? value.replicas : from + value.delta;
  const { to, clampedBy } = clampReplicas(requested, options.limits ?? {});
  const change: Change = { kind: 'replicas', path: keyPath, from, to, requested, ...(clampedBy ? { clampedBy } : {}) };
  const limitNote = clampedBy ? ` (${requested} clamped to ${clampedBy === 'zero' ? 'zero' : `${clampedBy} ${to}`})` : '';
  if (to === from) {
    return { changed: false, text, reason: `${keyPath} in ${options.file} is already ${from}${limitNote}`, change };
  }
  const edited = replaceScalar(target, found.node, renderLike(found.node, to), path);
  return { changed: true, text: edited, summary: `${keyPath} ${from} → ${to}${limitNote}`, change };
}

function replicaNumber(target: EditableYaml, raw: unknown, path: string[]): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw editError(EDIT_ERROR.wrongType, `${where(target, path)}: ${formatKeyPath(path)} is ${JSON.stringify(raw)}, not a whole number of replicas`);
  }
  return n;
}

/** Never below zero or minReplicas, never above maxReplicas. */
export function clampReplicas(requested: number, limits: ReplicaLimits): { to: number; clampedBy?: 'minReplicas' | 'maxReplicas' | 'zero' } {
  if (limits.maxReplicas !== undefined && requested > limits.maxReplicas) return { to: limits.maxReplicas, clampedBy: 'maxReplicas' };
  const floor = Math.max(0, limits.minReplicas ?? 0);
  if (requested < floor) return { to: floor, clampedBy: limits.minReplicas !== undefined && limits.minReplicas > 0 ? 'minReplicas' : 'zero' };
  return { to: requested };
}

/**
 * Set `<flagsPath>.<flag>` to true or false. An existing flag is rewritten in place (quoted flags keep
 * their quotes); a missing flag is added as one line under the flags map, and a missing flags map is
 * created at the end of its parent map.
 */
export function toggleFeature(text: string, value: ToggleValue, options: EditOptions): EditResult {
  const flagsPath = [...(options.flagsPath ?? DEFAULT_FLAGS_PATH)];
  const path = [...flagsPath, value.flag];
  const keyPath = formatKeyPath(path);
  const target = loadEditable(options.file, text);
  const found = lookup(target, path);
  const word = value.on ? 'on' : 'off';
  if (found.kind === 'missing') {
    const change: Change = { kind: 'flag', path: keyPath, flag: value.flag, from: undefined, to: value.on };
    const edited = insertKeys(target, found.parent, found.rest, String(value.on));
    return { changed: true, text: edited, summary: `${keyPath} added as ${value.on} (${word})`, change };
  }
  const from = flagValue(target, found.node.value, path);
  const change: Change = { kind: 'flag', path: keyPath, flag: value.flag, from, to: value.on };
  if (from === value.on) {
    return { changed: false, text, reason: `${keyPath} in ${options.file} is already ${value.on} (${word})`, change };
  }
  const edited = replaceScalar(target, found.node, renderLike(found.node, value.on), path);
  return { changed: true, text: edited, summary: `${keyPath} ${from} → ${value.on} (${word})`, change };
}

/** A flag holds a boolean, or the words true/false (a quoted string the chart compares). */
function flagValue(target: EditableYaml, raw: unknown, path: string[]): boolean {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    const lowered = raw.trim().toLowerCase();
    if (lowered === 'true') return true;
    if (lowered === 'false') return false;
  }
  throw editError(EDIT_ERROR.wrongType, `${where(target, path)}: ${formatKeyPath(path)} is ${JSON.stringify(raw)}, not true or false`);
}

/** One line for a commit subject: "scale carts in production to 2 replicas". */
export function describeChange(change: Change, service: string, stage: string): string {
  if (change.kind === 'replicas') return `scale ${service} in ${stage} to ${change.to} replica${change.to === 1 ? '' : 's'}`;
  return `turn ${change.flag} ${change.to ? 'on' : 'off'} for ${service} in ${stage}`;
}

/** True for the errors this module raises (so callers can tell them from bugs). */
export function isEditError(err: unknown): err is ReboundError {
  return err instanceof ReboundError && Object.values(EDIT_ERROR).includes(err.code as (typeof EDIT_ERROR)[keyof typeof EDIT_ERROR]);
}
