// The tasks of the shipyard's remediation sequence between the action and the evaluation (a load test
// run by a job-executor, say) go where Keptn's shipyard-controller sent them: to the executors, as
// `sh.keptn.event.<task>.triggered`. Rebound posts them to the controller's executor sink
// (--action-sink), the same one that receives `sh.keptn.event.action.triggered`, and the task is over
// when `sh.keptn.event.<task>.finished` with this event's id as `triggeredid` arrives on /v1/events.
import type { Attempt, ProblemEvent } from '../api/index.ts';
import { actionProblem, endpointLabel } from './types.ts';
import type { ActionOutcome } from './types.ts';
import { buildTaskTriggeredEvent, sendCloudEvent, taskEventType } from './keptn-action-event.ts';
import { KEPTN_EXECUTOR } from './keptn-executor.ts';
import type { KeptnExecutorOptions } from './keptn-executor.ts';

export interface TaskRequest {
  problem: ProblemEvent;
  stage: string;
  /** The attempt whose action ran: the executor receives it, as Keptn merged get-action's data. */
  attempt: Attempt;
  /** The task's id: the event id and the `triggeredid` of its answer. */
  taskId: string;
  task: string;
  properties?: Record<string, unknown>;
  signal: AbortSignal;
}

/** Sends a sequence task to an executor: `waiting` for its `.finished` until a deadline, or `failed`. */
export interface TaskDispatcher {
  dispatch(request: TaskRequest): Promise<ActionOutcome>;
}

export type KeptnTaskOptions = KeptnExecutorOptions;

export class KeptnTaskDispatcher implements TaskDispatcher {
  private readonly options: KeptnTaskOptions;

  constructor(options: KeptnTaskOptions) {
    this.options = options;
  }

  async dispatch({ problem, stage, attempt, taskId, task, properties, signal }: TaskRequest): Promise<ActionOutcome> {
    const event = buildTaskTriggeredEvent({
      taskId,
      task,
      ...(properties ? { properties } : {}),
      problem: actionProblem(problem, stage),
      action: {
        name: attempt.name ?? attempt.action,
        action: attempt.action,
        value: attempt.valueMap ?? attempt.value,
        ...(attempt.description ? { description: attempt.description } : {}),
      },
      time: new Date(this.options.clock.now()),
    });
    const token = this.options.token?.();
    const result = await sendCloudEvent(this.options.sinkUrl, event, { ...(token ? { token } : {}), signal });
    const target = endpointLabel(this.options.sinkUrl);
    const execution = {
      executor: KEPTN_EXECUTOR,
      target,
      tries: result.tries,
      ...(result.status !== undefined ? { responseCode: result.status } : {}),
    };
    if (!result.ok) {
      return {
        kind: 'failed',
        reason: result.reason,
        detail: `executor sink ${target}: ${result.message}`,
        execution: { ...execution, message: result.message },
      };
    }
    const deadline = new Date(this.options.clock.now() + this.options.timeoutMs);
    const sent = `sent ${event.type} to ${target} (${result.status})`;
    return {
      kind: 'waiting',
      detail: `${sent}; waiting for ${taskEventType(task, 'finished')} until ${deadline.toISOString()}`,
      deadline,
      execution: { ...execution, message: sent },
    };
  }
}
