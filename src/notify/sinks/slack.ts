// Slack through the Web API with a bot token: one thread per problem. The first delivery posts the
// thread's first message (chat.postMessage, Block Kit); every later step updates that message in
// place with the problem's current phase (chat.update) and then posts the step as a reply
// (thread_ts). The update comes first: a retry after a failed reply repeats an idempotent update,
// never a reply that was already posted.
import { ReboundError } from '../../errors.ts';
import type { NotificationEvent } from '../events.ts';
import { post } from '../http.ts';
import type { Delivered, DeliveryContext, Sink } from '../sink.ts';

export const SLACK_API = 'https://slack.com/api';

export interface SlackOptions {
  /** The Web API's base, https://slack.com/api unless a test points it at a loopback receiver. */
  apiUrl: string;
  channel: string;
  token: string;
  allowedHosts: readonly string[];
  timeoutMs: number;
  /** The problem's page (the dashboard), when the Notification names one. */
  link?: (event: NotificationEvent) => string | undefined;
}

/** Errors Slack answers with HTTP 200 and ok:false that only a person can fix. */
const PERMANENT = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'missing_scope',
  'invalid_blocks',
  'msg_too_long',
  'no_text',
  'restricted_action',
  'cant_update_message',
  'message_not_found',
]);

const PHASE_EMOJI: Readonly<Record<string, string>> = {
  Pending: ':hourglass_flowing_sand:',
  AwaitingApproval: ':raising_hand:',
  Remediating: ':wrench:',
  Evaluating: ':mag:',
  Resolved: ':white_check_mark:',
  Exhausted: ':rotating_light:',
  Unhandled: ':grey_question:',
};

export class SlackSink implements Sink {
  readonly type = 'slack';
  readonly #options: SlackOptions;

  constructor(options: SlackOptions) {
    this.#options = options;
  }

  async deliver(event: NotificationEvent, ctx: DeliveryContext): Promise<Delivered> {
    const thread = parseThread(ctx.thread);
    if (!thread) {
      const answer = await this.#call(
        'chat.postMessage',
        { channel: this.#options.channel, ...rootMessage(event, this.#link(event)) },
        ctx,
      );
      const channel = typeof answer.channel === 'string' ? answer.channel : this.#options.channel;
      if (typeof answer.ts !== 'string')
        throw new ReboundError('slack: chat.postMessage answered without a message ts', {
          code: 'SlackBadAnswer',
          reason: 'DeliveryFailing',
          retryable: true,
        });
      return { thread: `${channel}/${answer.ts}` };
    }
    await this.#call(
      'chat.update',
      { channel: thread.channel, ts: thread.ts, ...rootMessage(event, this.#link(event)) },
      ctx,
    );
    await this.#call(
      'chat.postMessage',
      { channel: thread.channel, thread_ts: thread.ts, ...replyMessage(event) },
      ctx,
    );
    return {};
  }

  #link(event: NotificationEvent): string | undefined {
    return this.#options.link?.(event);
  }

  async #call(method: string, body: object, ctx: DeliveryContext): Promise<Record<string, unknown>> {
    const { text } = await post({
      sink: 'slack',
      url: `${this.#options.apiUrl.replace(/\/+$/, '')}/${method}`,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        authorization: `Bearer ${this.#options.token}`,
      },
      body: JSON.stringify(body),
      allowedHosts: this.#options.allowedHosts,
      timeoutMs: this.#options.timeoutMs,
      signal: ctx.signal,
    });
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = undefined;
    }
    if (typeof answer !== 'object' || answer === null)
      throw new ReboundError(`slack: ${method} answered something that is not JSON`, {
        code: 'SlackBadAnswer',
        reason: 'DeliveryFailing',
        retryable: true,
      });
    const record = answer as Record<string, unknown>;
    if (record.ok !== true) {
      const error = typeof record.error === 'string' ? record.error.slice(0, 100) : 'unknown_error';
      throw new ReboundError(`slack: ${method} failed: ${error}`, {
        code: 'SlackError',
        reason: 'DeliveryFailing',
        retryable: !PERMANENT.has(error),
      });
    }
    return record;
  }
}

/** `<channel>/<ts>` as kept in the Notification's status. */
export function parseThread(thread: string | undefined): { channel: string; ts: string } | undefined {
  const match = thread === undefined ? null : /^([^/]+)\/(.+)$/.exec(thread);
  return match?.[1] && match[2] ? { channel: match[1], ts: match[2] } : undefined;
}

/** The thread's first message: the problem, where it is, its phase now, and the latest step. */
export function rootMessage(event: NotificationEvent, link: string | undefined): { text: string; blocks: object[] } {
  const p = event.problem;
  const emoji = PHASE_EMOJI[p.phase] ?? ':information_source:';
  const text = `${emoji} ${p.phase}: ${p.title} (${p.service} in ${p.project}/${p.stage})`;
  const fields = [
    `*Project*\n${mrkdwn(p.project)}`,
    `*Stage*\n${mrkdwn(p.stage)}`,
    `*Service*\n${mrkdwn(p.service)}`,
    `*Phase*\n${emoji} ${p.phase}`,
  ];
  const context = [
    `${mrkdwn(p.namespace)}/${mrkdwn(p.name)}`,
    ...(p.problemID ? [`problem ${mrkdwn(p.problemID)}`] : []),
  ];
  return {
    text,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(p.title, 150), emoji: true } },
      { type: 'section', fields: fields.map((f) => ({ type: 'mrkdwn', text: f })) },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `*Latest:* ${mrkdwn(event.summary)}` },
        ...(link ? { accessory: { type: 'button', text: { type: 'plain_text', text: 'Open' }, url: link } } : {}),
      },
      { type: 'context', elements: context.map((c) => ({ type: 'mrkdwn', text: c })) },
    ],
  };
}

/** One step as a reply in the problem's thread. */
export function replyMessage(event: NotificationEvent): { text: string; blocks: object[] } {
  const text = `${stepLabel(event)}: ${event.summary}`;
  return {
    text,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*${stepLabel(event)}* ${mrkdwn(event.summary)}` } }],
  };
}

function stepLabel(event: NotificationEvent): string {
  return event.step.replace('-', ' ').replace(/^./, (c) => c.toUpperCase());
}

/** Slack's mrkdwn escapes: &, <, > (a title cannot turn into a link or a mention). */
function mrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
