// Keptn's shipyard.yaml (keptn-semantics.md §2.1, §2.2), both formats, with every error located:
//
//   0.1 (Keptn ≤ 0.7):   stages: [{name, deployment_strategy, test_strategy, remediation_strategy, ...}]
//   spec.keptn.sh/0.2.x: apiVersion, kind: Shipyard, spec.stages[].sequences[]: {name, triggeredOn[], tasks[]}
//
// What Rebound takes from it is the stage list and, per stage, whether remediation is on: 0.1 says so
// with `remediation_strategy: automated`; 0.2 with a sequence named `remediation` (Keptn ≥ 0.8.3
// remediated nothing without one).
import { DNS1123_LABEL_MAX_LENGTH, DNS1123_LABEL_PATTERN, DURATION_PATTERN, TASK_NAME_PATTERN } from '../api/index.ts';
import { FieldReader, isRecord } from './slo.ts';
import { loadYaml } from './yaml.ts';
import type { Diagnostic, PathSegment } from './yaml.ts';

export const SHIPYARD_API_VERSION_PREFIX = 'spec.keptn.sh/';
/** The sequence whose presence turns remediation on for a 0.2 stage. */
export const REMEDIATION_SEQUENCE = 'remediation';

export interface ShipyardTask {
  name: string;
  /** Keptn waited this long before sending the task's `.triggered` event. */
  triggeredAfter?: string;
  /** The task's properties (`timeframe: "2m"` for an evaluation), as written. */
  properties?: Record<string, unknown>;
  /** Where the task is in the file, for messages. */
  path: PathSegment[];
}

export interface ShipyardStage {
  name: string;
  /** `automated` when remediation runs in this stage; 0.1 files may carry other strategies verbatim. */
  remediation?: 'automated' | (string & {});
  /** The tasks of a 0.2 stage's `remediation` sequence, in order (get-action, action, ..., evaluation). */
  remediationTasks?: ShipyardTask[];
  /** Where the stage is in the file, for messages. */
  path: PathSegment[];
}

export interface Shipyard {
  format: '0.1' | '0.2';
  stages: ShipyardStage[];
}

export type ShipyardParseResult =
  { ok: true; shipyard: Shipyard; warnings: Diagnostic[] } | { ok: false; diagnostics: Diagnostic[] };

const dnsLabel = new RegExp(DNS1123_LABEL_PATTERN);
const duration = new RegExp(DURATION_PATTERN);
const taskName = new RegExp(TASK_NAME_PATTERN);
const STAGE_KEYS_01 = ['name', 'deployment_strategy', 'test_strategy', 'remediation_strategy', 'approval_strategy'];
const SEQUENCE_EVENT = /^([^.\s]+)\.([^.\s]+)\.finished$/;

export function parseShipyardFile(file: string, text: string): ShipyardParseResult {
  const loaded = loadYaml(file, text);
  if (!loaded.ok) return loaded;
  const r = new FieldReader(loaded.yaml);
  const root = loaded.yaml.toJS();
  const notShipyard = `not a shipyard file: expected apiVersion ${SHIPYARD_API_VERSION_PREFIX}0.2.x or a top-level "stages" list`;
  if (!isRecord(root)) return { ok: false, diagnostics: [r.diag([], notShipyard)] };
  let shipyard: Shipyard | undefined;
  if ('apiVersion' in root || 'kind' in root || 'spec' in root) {
    shipyard = { format: '0.2', stages: readV02(r, root) };
  } else if ('stages' in root) {
    r.unknownKeys(root, [], ['stages']);
    shipyard = { format: '0.1', stages: readV01Stages(r, root['stages']) };
  } else {
    r.error([], notShipyard);
  }
  if (r.errors.length > 0 || shipyard === undefined) return { ok: false, diagnostics: r.errors };
  return { ok: true, shipyard, warnings: r.warnings };
}

/** `spec.keptn.sh/X.Y[.Z]` with X.Y ≥ 0.2, as Keptn's shipyard-controller accepted it. */
export function isSupportedShipyardApiVersion(apiVersion: string): boolean {
  const match = /^spec\.keptn\.sh\/(\d+)\.(\d+)(\.\d+)?$/.exec(apiVersion);
  if (!match) return false;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major > 0 || minor >= 2;
}

function readV01Stages(r: FieldReader, value: unknown): ShipyardStage[] {
  const stages: ShipyardStage[] = [];
  forEachStage(r, value, ['stages'], (stage, path, name) => {
    r.unknownKeys(stage, path, STAGE_KEYS_01);
    const strategy =
      stage['remediation_strategy'] == null
        ? undefined
        : r.scalarString(stage['remediation_strategy'], [...path, 'remediation_strategy']);
    if (strategy !== undefined && strategy !== 'automated') {
      r.warn(
        [...path, 'remediation_strategy'],
        `remediation_strategy "${strategy}" leaves remediation off: only "automated" turns it on`,
      );
    }
    if (name !== undefined)
      stages.push(strategy === undefined ? { name, path } : { name, remediation: strategy, path });
  });
  return stages;
}

function readV02(r: FieldReader, root: Record<string, unknown>): ShipyardStage[] {
  r.unknownKeys(root, [], ['apiVersion', 'kind', 'metadata', 'spec']);
  const apiVersion = root['apiVersion'] == null ? undefined : r.scalarString(root['apiVersion'], ['apiVersion']);
  if (root['apiVersion'] == null) {
    r.error([], `missing "apiVersion": expected ${SHIPYARD_API_VERSION_PREFIX}0.2.x`);
  } else if (apiVersion !== undefined && !isSupportedShipyardApiVersion(apiVersion)) {
    r.error(
      ['apiVersion'],
      `unknown apiVersion "${apiVersion}": expected ${SHIPYARD_API_VERSION_PREFIX}0.2.x (0.2.0 or later)`,
    );
  }
  const kind = root['kind'] == null ? undefined : r.scalarString(root['kind'], ['kind']);
  if (root['kind'] == null) r.error([], 'missing "kind": expected Shipyard');
  else if (kind !== undefined && kind !== 'Shipyard') r.error(['kind'], `unknown kind "${kind}": expected Shipyard`);
  const spec = root['spec'];
  if (spec == null) {
    r.error([], 'missing "spec": expected spec.stages');
    return [];
  }
  if (!isRecord(spec)) {
    r.error(['spec'], 'spec must be a mapping with "stages"');
    return [];
  }
  r.unknownKeys(spec, ['spec'], ['stages']);
  const stages: ShipyardStage[] = [];
  const sequencesByStage = new Map<string, Set<string>>();
  const triggers: { event: string; path: PathSegment[] }[] = [];
  forEachStage(r, spec['stages'], ['spec', 'stages'], (stage, path, name) => {
    r.unknownKeys(stage, path, ['name', 'sequences']);
    const sequences = readSequences(r, stage['sequences'], [...path, 'sequences'], triggers);
    if (name === undefined) return;
    const names = new Set(sequences.keys());
    sequencesByStage.set(name, names);
    const remediationTasks = sequences.get(REMEDIATION_SEQUENCE);
    stages.push(remediationTasks ? { name, remediation: 'automated', remediationTasks, path } : { name, path });
  });
  // A trigger naming a stage or sequence that does not exist would never fire.
  for (const { event, path } of triggers) {
    const match = SEQUENCE_EVENT.exec(event);
    if (!match) continue;
    const [, stageName = '', sequenceName = ''] = match;
    const sequences = sequencesByStage.get(stageName);
    if (!sequences) r.error(path, `triggeredOn event "${event}" names an unknown stage "${stageName}"`);
    else if (!sequences.has(sequenceName))
      r.error(path, `triggeredOn event "${event}" names an unknown sequence "${sequenceName}" in stage "${stageName}"`);
  }
  return stages;
}

function forEachStage(
  r: FieldReader,
  value: unknown,
  path: PathSegment[],
  /** `name` is undefined when it is missing, invalid or a duplicate: the rest is still checked. */
  visit: (stage: Record<string, unknown>, stagePath: PathSegment[], name: string | undefined) => void,
): void {
  if (value == null) {
    r.error(path, 'missing "stages": list the stages, in promotion order', 'key');
    return;
  }
  if (!Array.isArray(value)) {
    r.error(path, 'stages must be a list');
    return;
  }
  if (value.length === 0) {
    r.error(path, 'stages is empty: add at least one stage');
    return;
  }
  const seen = new Map<string, number>();
  value.forEach((stage: unknown, i) => {
    const stagePath = [...path, i];
    if (!isRecord(stage)) {
      r.error(stagePath, 'a stage must be a mapping with "name"');
      return;
    }
    let name = readName(r, stage, stagePath, 'stage');
    const earlier = name === undefined ? undefined : seen.get(name);
    if (earlier !== undefined) {
      r.error([...stagePath, 'name'], `duplicated stage "${name ?? ''}": already defined at line ${earlier}`);
      name = undefined;
    } else if (name !== undefined) {
      seen.set(name, r.diag([...stagePath, 'name'], '').line);
    }
    visit(stage, stagePath, name);
  });
}

/** A required DNS-1123 label: stage and sequence names become branches, namespaces and event types. */
function readName(
  r: FieldReader,
  item: Record<string, unknown>,
  path: PathSegment[],
  what: string,
): string | undefined {
  if (item['name'] == null) {
    r.error(path, `missing "name": every ${what} needs one`);
    return undefined;
  }
  const name = r.scalarString(item['name'], [...path, 'name']);
  if (name === undefined) return undefined;
  if (name.length > DNS1123_LABEL_MAX_LENGTH || !dnsLabel.test(name)) {
    r.error(
      [...path, 'name'],
      `${what} name "${name}" must be a DNS-1123 label: lower-case letters, digits and "-", at most ${DNS1123_LABEL_MAX_LENGTH} characters`,
    );
    return undefined;
  }
  return name;
}

/** The stage's sequences by name, each with its tasks. */
function readSequences(
  r: FieldReader,
  value: unknown,
  path: PathSegment[],
  triggers: { event: string; path: PathSegment[] }[],
): Map<string, ShipyardTask[]> {
  const names = new Map<string, ShipyardTask[]>();
  if (value == null) return names;
  if (!Array.isArray(value)) {
    r.error(path, 'sequences must be a list');
    return names;
  }
  value.forEach((sequence: unknown, i) => {
    const seqPath = [...path, i];
    if (!isRecord(sequence)) {
      r.error(seqPath, 'a sequence must be a mapping with "name" and "tasks"');
      return;
    }
    r.unknownKeys(sequence, seqPath, ['name', 'triggeredOn', 'tasks']);
    const name = readName(r, sequence, seqPath, 'sequence');
    readTriggers(r, sequence['triggeredOn'], [...seqPath, 'triggeredOn'], triggers);
    const tasks = readTasks(r, sequence['tasks'], seqPath);
    if (name !== undefined) {
      if (names.has(name)) r.error([...seqPath, 'name'], `duplicated sequence "${name}" in this stage`);
      else names.set(name, tasks);
    }
  });
  return names;
}

function readTriggers(
  r: FieldReader,
  value: unknown,
  path: PathSegment[],
  triggers: { event: string; path: PathSegment[] }[],
): void {
  if (value == null) return;
  if (!Array.isArray(value)) {
    r.error(path, 'triggeredOn must be a list of {event, selector}');
    return;
  }
  value.forEach((trigger: unknown, i) => {
    const triggerPath = [...path, i];
    if (!isRecord(trigger)) {
      r.error(triggerPath, 'a trigger must be a mapping with "event"');
      return;
    }
    r.unknownKeys(trigger, triggerPath, ['event', 'selector']);
    if (trigger['event'] == null) {
      r.error(triggerPath, 'missing "event": e.g. "production.remediation.finished"');
    } else {
      const event = r.scalarString(trigger['event'], [...triggerPath, 'event']);
      if (event !== undefined && !SEQUENCE_EVENT.test(event)) {
        r.error([...triggerPath, 'event'], `event "${event}" must be <stage>.<sequence>.finished`);
      } else if (event !== undefined) {
        triggers.push({ event, path: [...triggerPath, 'event'] });
      }
    }
    readSelector(r, trigger['selector'], [...triggerPath, 'selector']);
  });
}

function readSelector(r: FieldReader, value: unknown, path: PathSegment[]): void {
  if (value == null) return;
  if (!isRecord(value)) {
    r.error(path, 'selector must be a mapping with "match"');
    return;
  }
  r.unknownKeys(value, path, ['match']);
  const match = value['match'];
  if (match == null) return;
  if (!isRecord(match)) {
    r.error([...path, 'match'], 'match must be a mapping like {evaluation.result: fail}');
    return;
  }
  for (const [key, raw] of Object.entries(match)) {
    const result = r.scalarString(raw, [...path, 'match', key]);
    // Keptn compared against pass|warning|fail exactly; the spec's own `failed` never matched.
    if (result !== undefined && !['pass', 'warning', 'fail'].includes(result)) {
      r.error([...path, 'match', key], `"${result}" never matches: a result is pass, warning or fail`);
    }
  }
}

function readTasks(r: FieldReader, value: unknown, seqPath: PathSegment[]): ShipyardTask[] {
  const path = [...seqPath, 'tasks'];
  const tasks: ShipyardTask[] = [];
  if (value == null || (Array.isArray(value) && value.length === 0)) {
    // Keptn could not start a sequence without tasks.
    r.error(path, 'a sequence needs at least one task in "tasks"', value == null ? 'key' : 'value');
    return tasks;
  }
  if (!Array.isArray(value)) {
    r.error(path, 'tasks must be a list');
    return tasks;
  }
  value.forEach((task: unknown, i) => {
    const taskPath = [...path, i];
    if (!isRecord(task)) {
      r.error(taskPath, 'a task must be a mapping with "name"');
      return;
    }
    r.unknownKeys(task, taskPath, ['name', 'triggeredAfter', 'properties']);
    let name = task['name'] == null ? undefined : r.scalarString(task['name'], [...taskPath, 'name']);
    if (task['name'] == null) r.error(taskPath, 'missing "name": every task needs one');
    if (name !== undefined && !taskName.test(name)) {
      // It becomes an event type, sh.keptn.event.<name>.triggered.
      r.error(
        [...taskPath, 'name'],
        `task name "${name}" must be letters, digits, "-" and "_" (it names the event sh.keptn.event.<name>.triggered)`,
      );
      name = undefined;
    }
    let triggeredAfter: string | undefined;
    if (task['triggeredAfter'] != null) {
      triggeredAfter = r.scalarString(task['triggeredAfter'], [...taskPath, 'triggeredAfter']);
      if (triggeredAfter !== undefined && !duration.test(triggeredAfter)) {
        r.error(
          [...taskPath, 'triggeredAfter'],
          `triggeredAfter "${triggeredAfter}" must be a duration like "10m" or "90s"`,
        );
        triggeredAfter = undefined;
      }
    }
    const properties = task['properties'];
    if (properties != null && !isRecord(properties))
      r.error([...taskPath, 'properties'], 'properties must be a mapping');
    const timeframe = isRecord(properties) ? properties['timeframe'] : undefined;
    if (name === 'evaluation' && timeframe != null && (typeof timeframe !== 'string' || !duration.test(timeframe))) {
      r.warn(
        [...taskPath, 'properties', 'timeframe'],
        `timeframe ${JSON.stringify(timeframe)} is not a duration like "2m": the evaluation's window is the time since the action took effect`,
      );
    }
    if (name === 'approval' && isRecord(properties)) {
      for (const key of ['pass', 'warning']) {
        const v = properties[key];
        if (v != null && v !== 'automatic' && v !== 'manual')
          r.warn(
            [...taskPath, 'properties', key],
            `${key} ${JSON.stringify(v)} is neither "automatic" nor "manual": it is taken as manual (Keptn approved on its own only on "automatic")`,
          );
      }
    }
    if (name === undefined) return;
    tasks.push({
      name,
      ...(triggeredAfter !== undefined ? { triggeredAfter } : {}),
      ...(isRecord(properties) ? { properties } : {}),
      path: taskPath,
    });
  });
  return tasks;
}
