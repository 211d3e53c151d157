// Keptn CloudEvents and Dynatrace problem notifications → ProblemEvents.
//
// Two payload generations exist (reference/keptn-semantics.md §4.2):
// - `sh.keptn.event.<stage>.remediation.triggered` with `data.problem {problemTitle, rootCause}`
//   (lower camel case; prometheus-service wrote the capitalised v0.1 keys instead), and
// - the older problem payload `{State, ProblemID, PID, ProblemTitle, ProblemDetails, ImpactedEntity,
//   Tags, ...}`: the body of Dynatrace's problem notification, also wrapped as the CloudEvent types
//   `sh.keptn.events.problem` and `sh.keptn.event.problem.open`.
// Keptn's Go code decoded keys case-insensitively, so every key here is read that way.
import {
  expectObject,
  getField,
  InvalidPayloadError,
  isObject,
  joinPath,
  optionalString,
  optionalStringMap,
} from './fields.ts';
import type { JsonObject } from './fields.ts';
import { problemName } from './names.ts';
import { checkSpec, compact } from './spec.ts';
import type { FieldOrigins } from './spec.ts';
import { resolveFieldNames, SOURCES } from './types.ts';
import type { FieldNames, MappedProblem, MappingOptions, ProblemSpec, ProblemState } from './types.ts';

export const CLOUDEVENT_NAME_PREFIX = 'ce';
export const DYNATRACE_NAME_PREFIX = 'dt';

const REMEDIATION_TRIGGERED = /^sh\.keptn\.event\.([^.]+)\.remediation\.triggered$/;
const LEGACY_PROBLEM_TYPES: readonly string[] = ['sh.keptn.events.problem', 'sh.keptn.event.problem.open'];
/** The routing fields dynatrace-service documented for Dynatrace's custom problem payload. */
const KEPTN_ROUTING_FIELDS = { project: 'KeptnProject', stage: 'KeptnStage', service: 'KeptnService' } as const;

export function isCloudEvent(value: unknown): boolean {
  return (
    isObject(value) && typeof value['type'] === 'string' && (value['specversion'] !== undefined || 'data' in value)
  );
}

/** The problem-notification keys Dynatrace's default custom payload always carries. */
export function isDynatraceProblem(value: unknown): boolean {
  return isObject(value) && ['PID', 'ProblemID', 'ProblemTitle'].some((k) => getField(value, k) !== undefined);
}

export function mapCloudEvent(value: unknown, options?: MappingOptions): MappedProblem[] {
  const event = expectObject(value, '');
  const type = optionalString(event, 'type', '');
  if (type === undefined)
    throw new InvalidPayloadError(
      'type',
      'is required (a Keptn event type such as sh.keptn.event.production.remediation.triggered)',
    );
  const data = eventData(event);
  const envelopeKey = envelopeDedupKey(event);

  const triggered = REMEDIATION_TRIGGERED.exec(type);
  if (triggered) {
    return [mapRemediationTriggered(data, triggered[1] ?? '', envelopeKey, options)];
  }
  if (LEGACY_PROBLEM_TYPES.includes(type)) {
    return [
      mapProblemData(data, 'data', {
        prefix: CLOUDEVENT_NAME_PREFIX,
        source: SOURCES.cloudevent,
        fallbackKey: envelopeKey,
        options,
      }),
    ];
  }
  throw new InvalidPayloadError(
    'type',
    `unsupported event type ${JSON.stringify(type)}; expected sh.keptn.event.<stage>.remediation.triggered, sh.keptn.event.problem.open or sh.keptn.events.problem`,
  );
}

/** A bare Dynatrace problem notification, or the same payload wrapped in a Keptn CloudEvent. */
export function mapDynatraceProblem(value: unknown, options?: MappingOptions): MappedProblem[] {
  const payload = expectObject(value, '');
  const inner = isCloudEvent(payload) ? { data: eventData(payload), path: 'data' } : { data: payload, path: '' };
  return [
    mapProblemData(inner.data, inner.path, {
      prefix: DYNATRACE_NAME_PREFIX,
      source: SOURCES.dynatrace,
      fallbackKey: undefined,
      options,
    }),
  ];
}

/**
 * The event's `data` object. Some senders serialise it twice (a JSON string under a JSON content
 * type); that is unwrapped rather than refused.
 */
function eventData(event: JsonObject): JsonObject {
  const value = getField(event, 'data')?.value;
  if (typeof value === 'string' && value.trimStart().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new InvalidPayloadError('data', 'is a string that is not a valid JSON object');
    }
    return expectObject(parsed, 'data');
  }
  return expectObject(value, 'data');
}

/**
 * The sender's identity for an event: CloudEvents are unique by source + id, so a retried delivery
 * of one event maps to one ProblemEvent. The keptn context comes first: prometheus-service derived it
 * from the alert, so re-notifications of one alert share it.
 */
function envelopeDedupKey(event: JsonObject): string | undefined {
  const context = optionalString(event, 'shkeptncontext', '');
  if (context !== undefined) return `context:${context}`;
  const id = optionalString(event, 'id', '');
  if (id !== undefined) return `id:${optionalString(event, 'source', '') ?? ''}/${id}`;
  return undefined;
}

function mapRemediationTriggered(
  data: JsonObject,
  typeStage: string,
  envelopeKey: string | undefined,
  options: MappingOptions | undefined,
): MappedProblem {
  const origins: FieldOrigins = {};
  const defaults = options?.defaults ?? {};
  const problemField = getField(data, 'problem');
  const problemPath = joinPath('data', problemField?.key ?? 'problem');
  if (problemField === undefined || problemField.value === null) {
    throw new InvalidPayloadError(problemPath, 'is required (an object with problemTitle and optionally rootCause)');
  }
  const problem = expectObject(problemField.value, problemPath);

  const stage = optionalString(data, 'stage', 'data');
  if (stage !== undefined && stage !== typeStage) {
    throw new InvalidPayloadError(
      'data.stage',
      `${JSON.stringify(stage)} does not match the stage ${JSON.stringify(typeStage)} named in type`,
    );
  }
  origins.stage = stage === undefined ? 'type' : 'data.stage';
  const project =
    pick(data, 'project', 'data', origins) ?? pick(problem, 'project', problemPath, origins) ?? defaults.project;
  const service =
    pick(data, 'service', 'data', origins) ?? pick(problem, 'service', problemPath, origins) ?? defaults.service;
  const problemTitle = pick(problem, 'problemTitle', problemPath, origins);
  const problemID =
    nonEmpty(optionalString(problem, 'PID', problemPath)) ??
    nonEmpty(optionalString(problem, 'ProblemID', problemPath));
  const labels = optionalStringMap(data, 'labels', 'data');

  const spec: ProblemSpec = compact({
    project: requireValue(project, 'data.project'),
    stage: typeStage,
    service: requireValue(service, 'data.service'),
    problemTitle: requireValue(problemTitle, joinPath(problemPath, 'problemTitle')),
    rootCause: pick(problem, 'rootCause', problemPath, origins),
    state: readState(problem, problemPath),
    problemID: problemID ?? envelopeKey?.replace(/^(context|id):/, ''),
    source: SOURCES.cloudevent,
    impactedEntity: pick(problem, 'ImpactedEntity', problemPath, origins),
    details: compact({
      problemURL: optionalString(problem, 'ProblemURL', problemPath) ?? labels['Problem URL'],
      problemDetails: getField(problem, 'ProblemDetails')?.value ?? undefined,
      // As Keptn's lighthouse handed them to SLI providers: $LABEL.<name> and $DEPLOYMENT.
      labels: queryLabels(labels, problem),
      deployment: deploymentName(data),
    }),
  });
  checkSpec(spec, origins);
  const key = problemID !== undefined ? `pid:${problemID}` : (envelopeKey ?? contentKey(spec));
  return { name: problemName(CLOUDEVENT_NAME_PREFIX, spec.service, key), spec };
}

/** The event's labels over the problem's own (prometheus-service put `deployment` there); strings only. */
function queryLabels(eventLabels: Record<string, string>, problem: JsonObject): Record<string, string> | undefined {
  const own = getField(problem, 'labels')?.value;
  const fromProblem = isObject(own)
    ? Object.fromEntries(Object.entries(own).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : {};
  const merged = { ...fromProblem, ...eventLabels };
  return Object.keys(merged).length > 0 ? merged : undefined;
}

/** `data.deployment.deploymentNames[0]`, as prometheus-service sent it, when it is a name. */
function deploymentName(data: JsonObject): string | undefined {
  const deployment = getField(data, 'deployment')?.value;
  if (!isObject(deployment)) return undefined;
  const names = getField(deployment, 'deploymentNames')?.value;
  const first: unknown = Array.isArray(names) ? names[0] : undefined;
  return typeof first === 'string' && first.length > 0 && first.length <= 253 ? first : undefined;
}

interface ProblemDataContext {
  prefix: string;
  source: string;
  fallbackKey: string | undefined;
  options: MappingOptions | undefined;
}

/** The older problem payload (Dynatrace's notification body, Keptn's ProblemEventData). */
function mapProblemData(data: JsonObject, path: string, ctx: ProblemDataContext): MappedProblem {
  const origins: FieldOrigins = {};
  const names = resolveFieldNames(ctx.options);
  const tags = readTags(data, path);
  const defaults = ctx.options?.defaults ?? {};
  const fromTags = (field: keyof FieldNames): string | undefined => {
    for (const name of names[field]) {
      const v = tags.values.get(name);
      if (v !== undefined && v !== '') {
        origins[field] = tags.path;
        return v;
      }
    }
    return undefined;
  };
  // dynatrace-service's way to route any problem: KeptnProject/KeptnStage/KeptnService in the custom
  // payload, before the keptn_* tags of the impacted entity.
  const identity = (field: 'project' | 'stage' | 'service'): string =>
    requireValue(
      pick(data, field, path, origins) ??
        pick(data, KEPTN_ROUTING_FIELDS[field], path, origins, field) ??
        fromTags(field) ??
        defaults[field],
      joinPath(path, field),
      tagHint(names[field], KEPTN_ROUTING_FIELDS[field]),
    );

  const pid = nonEmpty(optionalString(data, 'PID', path));
  const problemID = nonEmpty(optionalString(data, 'ProblemID', path));
  const spec: ProblemSpec = compact({
    project: identity('project'),
    stage: identity('stage'),
    service: identity('service'),
    problemTitle: requireValue(
      pick(data, 'ProblemTitle', path, origins, 'problemTitle'),
      joinPath(path, 'ProblemTitle'),
    ),
    rootCause: pick(data, 'rootCause', path, origins),
    state: readState(data, path),
    problemID: problemID ?? pid,
    source: ctx.source,
    impactedEntity: pick(data, 'ImpactedEntity', path, origins, 'impactedEntity'),
    details: compact({
      pid,
      problemURL: optionalString(data, 'ProblemURL', path),
      problemDetails: getField(data, 'ProblemDetails')?.value ?? undefined,
      impactedEntities: getField(data, 'ImpactedEntities')?.value ?? undefined,
      tags: tags.raw,
    }),
  });
  checkSpec(spec, origins);
  // PID is unique per problem; ProblemID (the short display id) is reused by Dynatrace over time.
  const key =
    pid !== undefined
      ? `pid:${pid}`
      : problemID !== undefined
        ? `problemid:${problemID}`
        : (ctx.fallbackKey ?? contentKey(spec));
  return { name: problemName(ctx.prefix, spec.service, key), spec };
}

/**
 * Dynatrace renders {Tags} as one string, `keptn_project:sockshop, keptn_stage:production`;
 * context-prefixed tags look like `[Kubernetes]app:carts`. An array of such strings is accepted too.
 */
function readTags(
  data: JsonObject,
  parent: string,
): { values: Map<string, string>; raw: string | undefined; path: string } {
  const found = getField(data, 'Tags');
  const path = joinPath(parent, found?.key ?? 'Tags');
  const values = new Map<string, string>();
  if (found === undefined || found.value === null || found.value === '') return { values, raw: undefined, path };
  let items: string[];
  if (typeof found.value === 'string') items = found.value.split(',');
  else if (Array.isArray(found.value) && found.value.every((t) => typeof t === 'string')) items = found.value;
  else throw new InvalidPayloadError(path, 'expected a comma-separated string or an array of strings');
  for (const item of items) {
    const tag = item.trim().replace(/^\[[^\]]*\]/, '');
    const colon = tag.indexOf(':');
    if (colon > 0) values.set(tag.slice(0, colon).trim(), tag.slice(colon + 1).trim());
  }
  return {
    values,
    raw: items
      .map((t) => t.trim())
      .filter((t) => t !== '')
      .join(', '),
    path,
  };
}

function readState(obj: JsonObject, parent: string): ProblemState {
  const found = getField(obj, 'State');
  const state = optionalString(obj, 'State', parent);
  if (state === undefined) return 'OPEN';
  switch (state.toUpperCase()) {
    case 'OPEN':
      return 'OPEN';
    // CLOSED: Keptn's word; MERGED: Dynatrace folded this problem into another one.
    case 'RESOLVED':
    case 'CLOSED':
    case 'MERGED':
      return 'RESOLVED';
    default:
      throw new InvalidPayloadError(
        joinPath(parent, found?.key ?? 'State'),
        `must be OPEN, RESOLVED, CLOSED or MERGED, got ${JSON.stringify(state)}`,
      );
  }
}

function pick(
  obj: JsonObject,
  key: string,
  parent: string,
  origins: FieldOrigins,
  as?: keyof ProblemSpec,
): string | undefined {
  const value = optionalString(obj, key, parent);
  if (value !== undefined) {
    const field = as ?? (key as keyof ProblemSpec);
    origins[field] ??= joinPath(parent, getField(obj, key)?.key ?? key);
  }
  return value;
}

function requireValue(value: string | undefined, path: string, hint = ''): string {
  if (value === undefined) throw new InvalidPayloadError(path, `is required and must be a non-empty string${hint}`);
  return value;
}

function tagHint(names: readonly string[], routingField: string): string {
  return ` (or ${routingField}, or a tag ${names.map((n) => `${n}:<value>`).join(' / ')})`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Last resort for events with no id at all (hand-written files): one open problem per title. */
function contentKey(spec: ProblemSpec): string {
  return ['content', spec.project, spec.stage, spec.service, spec.problemTitle, spec.rootCause ?? ''].join('\0');
}
