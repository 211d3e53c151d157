// A generic webhook: the event as JSON, signed with HMAC-SHA256 over the exact body bytes
// (`X-Rebound-Signature: sha256=<hex>`, GitHub's convention) when the Secret holds a `secret`, with
// `Idempotency-Key` set to the event's key so a receiver can drop a redelivery.
import { createHmac } from 'node:crypto';
import type { NotificationEvent } from '../events.ts';
import { post } from '../http.ts';
import type { Delivered, DeliveryContext, Sink } from '../sink.ts';

export const SIGNATURE_HEADER = 'x-rebound-signature';
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const EVENT_HEADER = 'x-rebound-event';

export interface WebhookOptions {
  url: string;
  /** HMAC key; without one the body goes unsigned. */
  secret?: string;
  /** Bearer token, when the receiver wants one. */
  token?: string;
  allowedHosts: readonly string[];
  timeoutMs: number;
  link?: (event: NotificationEvent) => string | undefined;
}

export class WebhookSink implements Sink {
  readonly type = 'webhook';
  readonly #options: WebhookOptions;

  constructor(options: WebhookOptions) {
    this.#options = options;
  }

  async deliver(event: NotificationEvent, ctx: DeliveryContext): Promise<Delivered> {
    const { secret, token } = this.#options;
    const body = JSON.stringify(webhookBody(event, this.#options.link?.(event)));
    await post({
      sink: 'webhook',
      url: this.#options.url,
      headers: {
        'content-type': 'application/json',
        [IDEMPOTENCY_HEADER]: event.key,
        [EVENT_HEADER]: event.step,
        ...(secret ? { [SIGNATURE_HEADER]: sign(secret, body) } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body,
      allowedHosts: this.#options.allowedHosts,
      timeoutMs: this.#options.timeoutMs,
      signal: ctx.signal,
      ...(secret ? { secrets: [secret] } : {}),
    });
    return {};
  }
}

/** `sha256=<hex>` of the body under the key. */
export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export function webhookBody(event: NotificationEvent, link: string | undefined): object {
  return {
    key: event.key,
    step: event.step,
    severity: event.severity,
    time: event.time,
    summary: event.summary,
    problem: event.problem,
    ...(event.attempt ? { attempt: event.attempt } : {}),
    ...(link ? { link } : {}),
  };
}
