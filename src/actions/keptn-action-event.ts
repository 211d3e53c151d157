// Keptn-compatible external executors (reference/keptn-semantics.md §4.1, §4.4): Rebound sends
// `sh.keptn.event.action.triggered` to a CloudEvents sink, and the executor (an unleash-service, a
// job-executor, a runbook) answers `sh.keptn.event.action.started` and `.finished` with `triggeredid`
// set to the triggered event's id, which is the action's id.
import { createHash } from 'node:crypto';
import { callWebhook } from './webhook-call.ts';
import type { ActionProblem, WebhookCallOptions } from './webhook-call.ts';

export const ACTION_TRIGGERED_TYPE = 'sh.keptn.event.action.triggered';
export const ACTION_STARTED_TYPE = 'sh.keptn.event.action.started';
export const ACTION_FINISHED_TYPE = 'sh.keptn.event.action.finished';
/** The Keptn event spec the payloads follow (keptn/spec 0.2.4). */
export const KEPTN_SPEC_VERSION = '0.2.4';
export const CLOUDEVENT_SOURCE = 'rebound';
/** As long as an action id may be (the execution id in the ProblemEvent's status). */
export const MAX_TRIGGERED_ID_LENGTH = 320;
/** An executor's message lands in a condition: long enough for a reason, short enough for a status. */
export const MAX_FINISHED_MESSAGE_LENGTH = 1024;

/** A CloudEvents 1.0 event with Keptn's extension attributes. */
export interface CloudEvent<Data = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  datacontenttype: 'application/json';
  shkeptncontext: string;
  shkeptnspecversion: string;
  triggeredid?: string;
  data: Data;
}

export interface ActionTriggeredInput {
  /** Becomes the event id, so the executor's `.finished` comes back with `triggeredid` = actionId. */
  actionId: string;
  problem: ActionProblem;
  /** Keptn's `value` is any JSON (unleash-service wants `{Flag: "on"}`), so it is passed through as given. */
  action: { name: string; action: string; description?: string; value: unknown };
  /** Extra labels; `problemEvent` is always Rebound's own. */
  labels?: Readonly<Record<string, string>>;
  /** Default: now. */
  time?: Date;
}

/** Keptn's problem details: lower camel case for the 0.2 keys, capitalised for the older ones (Go decodes keys case-insensitively). */
export interface KeptnProblemDetails {
  problemTitle: string;
  rootCause?: string;
  State: string;
  ProblemID: string;
  ImpactedEntity?: string;
}

export interface ActionTriggeredData {
  project: string;
  stage: string;
  service: string;
  labels: Record<string, string>;
  action: { name: string; action: string; description?: string; value: unknown };
  problem: KeptnProblemDetails;
}

export function buildActionTriggeredEvent(input: ActionTriggeredInput): CloudEvent<ActionTriggeredData> {
  return triggeredEvent(ACTION_TRIGGERED_TYPE, input.actionId, input, {});
}

/** The name of a sequence task as it appears in event types: `sh.keptn.event.<task>.triggered`. */
export function taskEventType(task: string, kind: 'triggered' | 'started' | 'finished'): string {
  return `sh.keptn.event.${task}.${kind}`;
}

export interface TaskTriggeredInput extends Omit<ActionTriggeredInput, 'actionId'> {
  /** Becomes the event id: the executor's `.finished` comes back with it as `triggeredid`. */
  taskId: string;
  /** The shipyard task's name (`je-test`). */
  task: string;
  /** The task's shipyard properties: Keptn sent them under the key `<task>`. */
  properties?: Record<string, unknown>;
}

/**
 * `sh.keptn.event.<task>.triggered` for a task of the remediation sequence after the action. As Keptn's
 * shipyard-controller built it: the sequence's input (the problem), the earlier tasks' data (the
 * action get-action chose) and the task's own properties under its name.
 */
export function buildTaskTriggeredEvent(
  input: TaskTriggeredInput,
): CloudEvent<ActionTriggeredData & Record<string, unknown>> {
  return triggeredEvent(taskEventType(input.task, 'triggered'), input.taskId, input, {
    [input.task]: input.properties ?? {},
  });
}

function triggeredEvent<Extra extends Record<string, unknown>>(
  type: string,
  id: string,
  input: Omit<ActionTriggeredInput, 'actionId'>,
  extra: Extra,
): CloudEvent<ActionTriggeredData & Extra> {
  const p = input.problem;
  const labels: Record<string, string> = { problemEvent: `${p.namespace}/${p.name}` };
  for (const [key, value] of Object.entries(input.labels ?? {})) if (key !== 'problemEvent') labels[key] = value;
  const a = input.action;
  return {
    specversion: '1.0',
    id,
    source: CLOUDEVENT_SOURCE,
    type,
    time: (input.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    shkeptncontext: keptnContextFor(p.uid),
    shkeptnspecversion: KEPTN_SPEC_VERSION,
    data: {
      ...extra,
      project: p.project,
      stage: p.stage,
      service: p.service,
      labels,
      action: {
        name: a.name,
        action: a.action,
        ...(a.description === undefined ? {} : { description: a.description }),
        value: a.value,
      },
      problem: {
        problemTitle: p.title,
        ...(p.rootCause === undefined ? {} : { rootCause: p.rootCause }),
        State: p.state,
        // Required in Keptn's Go type; prometheus-service sent "" when the source had none.
        ProblemID: p.problemID ?? '',
        ...(p.impactedEntity === undefined ? {} : { ImpactedEntity: p.impactedEntity }),
      },
    },
  };
}

/** RFC 4122 URL namespace. */
const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/**
 * The keptn context of a problem: every action event for one ProblemEvent shares it, as one Keptn
 * remediation run did. A name-based UUID (version 5) of `https://rebound.dev/problemevents/<uid>`,
 * so anyone can recompute it from the ProblemEvent's uid.
 */
export function keptnContextFor(problemUid: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(NAMESPACE_URL.replaceAll('-', ''), 'hex'))
    .update(`https://rebound.dev/problemevents/${problemUid}`, 'utf8')
    .digest()
    .subarray(0, 16);
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const DEFAULT_SINK_TIMEOUT_MS = 10_000;
export const DEFAULT_SINK_RETRIES = 2;

export type SendCloudEventOptions = Omit<WebhookCallOptions, 'allowedHosts' | 'timeoutMs' | 'retries'> & {
  /** Per try; default 10 s. */
  timeoutMs?: number;
  /** Extra tries; default 2. */
  retries?: number;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
};

export type SendCloudEventResult =
  | { ok: true; status: number; tries: number; responseBody: string }
  | {
      ok: false;
      status?: number;
      tries: number;
      reason: 'ExecutorUnavailable' | 'ExecutorRejected';
      retryable: boolean;
      message: string;
      responseBody?: string;
    };

/**
 * POSTs `event` in structured mode (`application/cloudevents+json`) with webhook calls' retries and
 * limits. The sink comes from the controller's own configuration, so its host is the allow-list.
 */
export async function sendCloudEvent(
  sinkUrl: string,
  event: CloudEvent,
  options: SendCloudEventOptions,
): Promise<SendCloudEventResult> {
  const { token, timeoutMs = DEFAULT_SINK_TIMEOUT_MS, retries = DEFAULT_SINK_RETRIES, ...callOptions } = options;
  let sink: URL | undefined;
  try {
    sink = new URL(sinkUrl);
  } catch {
    sink = undefined;
  }
  if (
    sink === undefined ||
    !['http:', 'https:'].includes(sink.protocol) ||
    sink.username !== '' ||
    sink.password !== ''
  ) {
    return {
      ok: false,
      tries: 0,
      reason: 'ExecutorRejected',
      retryable: false,
      message: 'the external executor sink is not an http(s) URL without credentials',
    };
  }
  const headers: Record<string, string> = { 'Content-Type': 'application/cloudevents+json' };
  if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
  const result = await callWebhook(
    { url: sinkUrl, headers, body: event, idempotencyKey: event.id },
    {
      ...callOptions,
      timeoutMs,
      retries,
      allowedHosts: [sink.host],
    },
  );
  if (result.ok) return result;
  return { ...result, reason: result.reason === 'WebhookUnavailable' ? 'ExecutorUnavailable' : 'ExecutorRejected' };
}

export const ACTION_FINISHED_STATUSES = ['succeeded', 'errored', 'aborted', 'unknown'] as const;
export type ActionFinishedStatus = (typeof ACTION_FINISHED_STATUSES)[number];
export const ACTION_FINISHED_RESULTS = ['pass', 'warning', 'fail'] as const;
export type ActionFinishedResult = (typeof ACTION_FINISHED_RESULTS)[number];

export type ActionEventParseResult =
  | { ok: true; kind: 'started'; task: string; triggeredId: string }
  | {
      ok: true;
      kind: 'finished';
      task: string;
      triggeredId: string;
      status: ActionFinishedStatus;
      result: ActionFinishedResult | undefined;
      message: string;
    }
  | { ok: false; error: string };

/** `sh.keptn.event.<task>.started` or `.finished` of one task: `action`, or a sequence task such as `je-test`. */
const TASK_REPORT_TYPE = /^sh\.keptn\.event\.([A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)\.(started|finished)$/;

/** The task an executor's report is about, when the event type is a task's `.started` or `.finished`. */
export function reportedTask(type: unknown): { task: string; kind: 'started' | 'finished' } | undefined {
  const match = typeof type === 'string' ? TASK_REPORT_TYPE.exec(type) : null;
  if (!match) return undefined;
  return { task: match[1] ?? '', kind: match[2] === 'started' ? 'started' : 'finished' };
}

/**
 * Reads an executor's answer: `sh.keptn.event.<task>.started` or `.finished`, for the action
 * (`sh.keptn.event.action.finished`) or a task of the sequence after it. The error names the field at
 * fault. An empty status or result is Go's zero value (the executor set none), read as `unknown` and
 * no result.
 */
export function parseActionFinished(event: unknown): ActionEventParseResult {
  if (!isObject(event)) return { ok: false, error: 'the event is not a JSON object' };
  const type = event['type'];
  const reported = reportedTask(type);
  if (!reported) {
    return {
      ok: false,
      error: `type: expected ${ACTION_FINISHED_TYPE}, ${ACTION_STARTED_TYPE} or another task's .finished/.started, got ${describe(type)}`,
    };
  }
  const { task } = reported;
  const specversion = event['specversion'];
  if (specversion !== undefined && specversion !== '1.0')
    return { ok: false, error: `specversion: expected "1.0", got ${describe(specversion)}` };
  const triggeredId = event['triggeredid'];
  if (typeof triggeredId !== 'string' || triggeredId === '')
    return { ok: false, error: 'triggeredid: required, the id of the .triggered event it answers' };
  if (triggeredId.length > MAX_TRIGGERED_ID_LENGTH)
    return { ok: false, error: `triggeredid: longer than ${MAX_TRIGGERED_ID_LENGTH} characters` };

  const data = event['data'];
  if (reported.kind === 'started') {
    // A started event carries only the common data; none of it is needed.
    if (data !== undefined && data !== null && !isObject(data)) return { ok: false, error: 'data: must be an object' };
    return { ok: true, kind: 'started', task, triggeredId };
  }
  if (!isObject(data)) return { ok: false, error: 'data: required, an object with status and result' };
  const status = data['status'] === undefined || data['status'] === '' ? 'unknown' : data['status'];
  if (!isOneOf(status, ACTION_FINISHED_STATUSES)) {
    return {
      ok: false,
      error: `data.status: expected one of ${ACTION_FINISHED_STATUSES.join(', ')}, got ${describe(status)}`,
    };
  }
  const result = data['result'] === '' ? undefined : data['result'];
  if (result !== undefined && !isOneOf(result, ACTION_FINISHED_RESULTS)) {
    return {
      ok: false,
      error: `data.result: expected one of ${ACTION_FINISHED_RESULTS.join(', ')}, got ${describe(result)}`,
    };
  }
  const message = data['message'] ?? '';
  if (typeof message !== 'string')
    return { ok: false, error: `data.message: expected a string, got ${describe(message)}` };
  return {
    ok: true,
    kind: 'finished',
    task,
    triggeredId,
    status,
    result,
    message: message.slice(0, MAX_FINISHED_MESSAGE_LENGTH),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isOneOf<T extends string>(value: unknown, allowed: readonly T[]): value is T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value);
}

/** A short rendering of an unexpected value for an error message. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = (JSON.stringify(value) as string | undefined) ?? typeof value;
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}
