// The one interface every notification sink implements (Slack, Teams, a webhook, CloudEvents; the
// forge's commit statuses later). The delivery queue (queue.ts) calls it one event at a time per
// problem, in order, and retries what it throws when the error says it may pass.
import { ReboundError } from '../errors.ts';
import type { NotificationEvent } from './events.ts';

export interface DeliveryContext {
  /**
   * What the sink asked to keep for this problem after an earlier delivery (Slack: `<channel>/<ts>`
   * of the thread's first message), from the Notification's status: it survives a restart.
   */
  thread?: string;
  /** Aborted when the controller stops or the sink is reconfigured. */
  signal: AbortSignal;
}

export interface Delivered {
  /** Kept for the problem's next deliveries (see DeliveryContext.thread). */
  thread?: string;
}

export interface Sink {
  /** `slack`, `teams`, `webhook`, `cloudevents` (metric label). */
  readonly type: string;
  /**
   * Sends one event. Resolves once the receiver accepted it. Throws a ReboundError: `retryable` when
   * it may pass (network, timeout, 429, 5xx), not when only a person can fix it (401, 403, 404, a
   * refused payload); either way the queue keeps the event and the Notification shows the failure.
   */
  deliver(event: NotificationEvent, ctx: DeliveryContext): Promise<Delivered>;
}

/** A receiver's HTTP answer as a classified error: 408, 425, 429 and 5xx may pass. */
export function httpFailure(sink: string, status: number, detail = ''): ReboundError {
  const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
  return new ReboundError(`${sink} answered HTTP ${status}${detail ? `: ${detail}` : ''}`, {
    code: 'SinkHttpError',
    reason: 'DeliveryFailing',
    retryable,
  });
}
