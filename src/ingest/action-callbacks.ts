// Actions that finish later report back here: a runbook calls `POST /v1/actions/<id>/finished`, a
// Keptn executor sends `sh.keptn.event.action.finished` (with `triggeredid` = <id>) to /v1/events.
// The tasks of the shipyard's remediation sequence after the action report the same way
// (`sh.keptn.event.<task>.finished`, the task id as `triggeredid`), into the attempt's `tasks`.
// The report is written into the attempt's status on the API server, so any replica can take it and
// the leader's loop turns it into the attempt's outcome. A report for an unknown attempt, or for one
// that is already over, is refused; the same report twice is accepted once.
import { isTerminal } from '../api/phases.ts';
import type { CallbackStatus, ProblemEvent, ProblemEventStatus } from '../api/index.ts';
import { CALLBACK_STATUSES } from '../api/index.ts';
import { parseActionId } from '../actions/types.ts';
import { parseActionFinished, reportedTask } from '../actions/keptn-action-event.ts';
import { isConflict } from '../kube/errors.ts';
import { HttpError } from './body.ts';
import { isObject } from './fields.ts';
import type { IngestLogger, Route, RouteResponse } from './server.ts';
import { systemClock } from '../runtime/clock.ts';
import type { Clock } from '../runtime/clock.ts';

export const ACTIONS_ROUTE_PREFIX = '/v1/actions/';

export interface ActionReport {
  actionId: string;
  status: CallbackStatus;
  message: string;
  /** Who reported: `callback` (a runbook) or `keptn` (an executor's event). */
  via: 'callback' | 'keptn';
  /** The task an executor's event names in its type (`action`, `je-test`); a runbook's callback names none. */
  task?: string;
}

export type RecordOutcome =
  | { kind: 'recorded' }
  /** The same report was already recorded: nothing changes (a retried delivery). */
  | { kind: 'duplicate' }
  | { kind: 'unknown'; message: string }
  | { kind: 'finished'; message: string };

export interface ActionCallbackStore {
  record(report: ActionReport): Promise<RecordOutcome>;
}

/** What the callback store needs from the API server: one object, and a conditional status write. */
export interface ProblemEventAccess {
  get(namespace: string, name: string): Promise<ProblemEvent | undefined>;
  patchStatus(
    namespace: string,
    name: string,
    status: Partial<ProblemEventStatus>,
    resourceVersion?: string,
  ): Promise<ProblemEvent>;
}

const MAX_MESSAGE = 4096;
const MAX_CONFLICT_RETRIES = 5;

/** Records reports in the ProblemEvent's status, read fresh from the API server (no cache lag). */
export class KubeActionCallbacks implements ActionCallbackStore {
  private readonly problems: ProblemEventAccess;
  private readonly clock: Clock;

  constructor(problems: ProblemEventAccess, clock: Clock = systemClock) {
    this.problems = problems;
    this.clock = clock;
  }

  async record(report: ActionReport): Promise<RecordOutcome> {
    const ref = parseActionId(report.actionId);
    const unknown: RecordOutcome = {
      kind: 'unknown',
      message: `no ${ref?.task === undefined ? 'action' : 'task'} ${report.actionId} is waiting for a report`,
    };
    if (!ref) return unknown;
    // An executor's event names its task in its type: a je-test.finished never settles the action.
    if (report.task !== undefined && report.task !== (ref.task ?? 'action')) return unknown;
    for (let tries = 1; ; tries++) {
      const problem = await this.problems.get(ref.namespace, ref.name);
      const attempts = problem?.status?.attempts ?? [];
      const attempt = attempts.find((a) => a.index === ref.index);
      const slot = ref.task === undefined ? attempt?.execution : attempt?.tasks?.find((t) => t.name === ref.task);
      const what = ref.task === undefined ? 'action' : `task ${ref.task}`;
      if (!problem || !attempt || slot?.id !== report.actionId) return unknown;
      if (slot.callbackStatus !== undefined) {
        return slot.callbackStatus === report.status
          ? { kind: 'duplicate' }
          : { kind: 'finished', message: `${what} ${report.actionId} already reported ${slot.callbackStatus}` };
      }
      if (
        attempt.result !== undefined ||
        slot.state === 'Succeeded' ||
        slot.state === 'Failed' ||
        isTerminal(problem.status?.phase)
      ) {
        return {
          kind: 'finished',
          message: `${what} ${report.actionId} is over (${slot.state}${attempt.result ? `, attempt ${attempt.result}` : ''}): the report came too late`,
        };
      }
      const answered = {
        ...slot,
        callbackStatus: report.status,
        callbackMessage: report.message.slice(0, MAX_MESSAGE),
        callbackTime: new Date(this.clock.now()).toISOString(),
      };
      const updated = attempts.map((a) => {
        if (a.index !== ref.index) return a;
        return ref.task === undefined
          ? { ...a, execution: answered }
          : { ...a, tasks: (a.tasks ?? []).map((t) => (t.name === ref.task ? { ...answered, name: t.name } : t)) };
      });
      try {
        await this.problems.patchStatus(
          ref.namespace,
          ref.name,
          { attempts: updated },
          problem.metadata.resourceVersion,
        );
        return { kind: 'recorded' };
      } catch (err) {
        // The loop wrote in between (e.g. it recorded that the call went out): read again and retry.
        if (!isConflict(err) || tries >= MAX_CONFLICT_RETRIES) throw err;
      }
    }
  }
}

/** `POST /v1/actions/<id>/finished` with `{"status": "succeeded" | "failed", "message": "..."}`. */
export function actionCallbackRoute(store: ActionCallbackStore, log: IngestLogger): Route {
  return {
    method: 'POST',
    path: ACTIONS_ROUTE_PREFIX,
    prefix: true,
    auth: 'bearer',
    contentTypes: ['application/json'],
    handle: async (req) => {
      const match = /^\/v1\/actions\/([^/]+)\/finished$/.exec(req.path);
      if (!match?.[1])
        throw new HttpError(404, `no route for ${req.path}; callbacks go to ${ACTIONS_ROUTE_PREFIX}<id>/finished`);
      const actionId = decodePathSegment(match[1]);
      const body = parseBody(req.body);
      const status = body['status'];
      if (typeof status !== 'string' || !(CALLBACK_STATUSES as readonly string[]).includes(status)) {
        throw new HttpError(400, `status must be one of ${CALLBACK_STATUSES.join(', ')}`, { field: 'status' });
      }
      const message = body['message'];
      if (message !== undefined && typeof message !== 'string')
        throw new HttpError(400, 'message must be a string', { field: 'message' });
      return answer(
        await store.record({ actionId, status: status as CallbackStatus, message: message ?? '', via: 'callback' }),
        actionId,
        log,
      );
    },
  };
}

/**
 * A Keptn executor's report on /v1/events, or undefined when the event is something else (a problem).
 * A malformed report is a 400 naming the field, never mistaken for a problem.
 */
export function actionEventFrom(event: unknown): ActionReport | { started: string } | undefined {
  if (!reportedTask(isObject(event) ? event['type'] : undefined)) return undefined;
  const parsed = parseActionFinished(event);
  // The parser's errors start with the field at fault (`triggeredid: required ...`).
  if (!parsed.ok) throw new HttpError(400, parsed.error, { field: parsed.error.split(':')[0] ?? null });
  if (parsed.kind === 'started') return { started: parsed.triggeredId };
  // Keptn's rule: a task succeeded when its status is succeeded and its result is not fail.
  const succeeded = parsed.status === 'succeeded' && parsed.result !== 'fail';
  const detail = [parsed.message, `status ${parsed.status}`, parsed.result ? `result ${parsed.result}` : '']
    .filter(Boolean)
    .join('; ');
  return {
    actionId: parsed.triggeredId,
    task: parsed.task,
    status: succeeded ? 'succeeded' : 'failed',
    message: detail,
    via: 'keptn',
  };
}

export async function recordActionEvent(
  store: ActionCallbackStore,
  report: ActionReport | { started: string },
  log: IngestLogger,
): Promise<RouteResponse> {
  // `.started` tells nothing the status does not already say (the event was accepted by the sink).
  if ('started' in report) return { status: 202, body: { accepted: true, actionId: report.started } };
  return answer(await store.record(report), report.actionId, log);
}

function answer(outcome: RecordOutcome, actionId: string, log: IngestLogger): RouteResponse {
  switch (outcome.kind) {
    case 'recorded':
      log.info({ actionId }, 'action report recorded');
      return { status: 200, body: { recorded: true, actionId } };
    case 'duplicate':
      return { status: 200, body: { recorded: false, actionId, reason: 'this report was already recorded' } };
    case 'unknown':
      throw new HttpError(404, outcome.message);
    case 'finished':
      throw new HttpError(409, outcome.message);
  }
}

/** A malformed escape (`%E0%A4%A`) names no action: a 404 like any unknown id, not a 500. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(404, `no action ${segment} is waiting for a report: the id is not valid percent-encoding`);
  }
}

function parseBody(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON: expected {"status": "succeeded" | "failed", "message": "..."}');
  }
  if (!isObject(value)) throw new HttpError(400, 'body must be a JSON object with "status"');
  return value;
}
