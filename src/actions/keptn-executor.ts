// An action type nothing built in carries out goes to an external executor, Keptn style: Rebound
// sends `sh.keptn.event.action.triggered` to the configured sink (a Keptn job-executor-service,
// webhook-service or any CloudEvents receiver) and the attempt completes when
// `sh.keptn.event.action.finished` with that event's id as `triggeredid` arrives on /v1/events.
import { actionProblem, endpointLabel } from './types.ts';
import type { ActionCheck, ActionContext, ActionHandler, ActionOutcome } from './types.ts';
import { buildActionTriggeredEvent, sendCloudEvent } from './keptn-action-event.ts';
import type { Clock } from '../runtime/clock.ts';

export interface KeptnExecutorOptions {
  /** Where `.triggered` events are POSTed. */
  sinkUrl: string;
  /** Bearer token for the sink, read when sending (it may rotate). */
  token?: () => string | undefined;
  /** How long an executor has to report `.finished`. */
  timeoutMs: number;
  clock: Clock;
}

export const KEPTN_EXECUTOR = 'keptn';

export class KeptnExecutorAction implements ActionHandler {
  readonly executor = KEPTN_EXECUTOR;
  readonly background = true;
  private readonly options: KeptnExecutorOptions;

  constructor(options: KeptnExecutorOptions) {
    this.options = options;
  }

  check(): ActionCheck {
    return { ok: true };
  }

  async run(ctx: ActionContext): Promise<ActionOutcome> {
    const { problem, attempt, stage } = ctx;
    const event = buildActionTriggeredEvent({
      actionId: ctx.actionId,
      problem: actionProblem(problem, stage.name),
      // Keptn handed a map value to the executor as a map (unleash-service wants {Flag: "on"}).
      action: {
        name: attempt.name ?? attempt.action,
        action: attempt.action,
        value: attempt.valueMap ?? attempt.value,
        ...(attempt.description ? { description: attempt.description } : {}),
      },
      time: new Date(this.options.clock.now()),
    });
    const token = this.options.token?.();
    const result = await sendCloudEvent(this.options.sinkUrl, event, {
      ...(token ? { token } : {}),
      signal: ctx.signal,
    });
    const target = endpointLabel(this.options.sinkUrl);
    const execution = {
      executor: this.executor,
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
      detail: `${sent}; waiting for sh.keptn.event.action.finished until ${deadline.toISOString()}`,
      deadline,
      execution: { ...execution, message: sent },
    };
  }
}
