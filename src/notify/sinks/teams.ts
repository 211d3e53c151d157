// Microsoft Teams through a Workflows webhook ("When a Teams webhook request is received"; the old
// Office 365 connectors are retired): one Adaptive Card per step, in the message envelope the
// Workflows trigger expects. The URL carries its signature (`sig=`) in the query: it comes from the
// Notification's Secret and never shows in a message.
import type { NotificationEvent } from '../events.ts';
import { post } from '../http.ts';
import type { Delivered, DeliveryContext, Sink } from '../sink.ts';

export interface TeamsOptions {
  url: string;
  allowedHosts: readonly string[];
  timeoutMs: number;
  link?: (event: NotificationEvent) => string | undefined;
}

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
export const ADAPTIVE_CARD_SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';
/** Teams renders Adaptive Cards up to 1.5; 1.4 is what every Teams client shows. */
export const ADAPTIVE_CARD_VERSION = '1.4';

const COLOR: Readonly<Record<NotificationEvent['severity'], string>> = {
  info: 'Good',
  warning: 'Warning',
  error: 'Attention',
};

export class TeamsSink implements Sink {
  readonly type = 'teams';
  readonly #options: TeamsOptions;

  constructor(options: TeamsOptions) {
    this.#options = options;
  }

  async deliver(event: NotificationEvent, ctx: DeliveryContext): Promise<Delivered> {
    await post({
      sink: 'teams',
      url: this.#options.url,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(teamsMessage(event, this.#options.link?.(event))),
      allowedHosts: this.#options.allowedHosts,
      timeoutMs: this.#options.timeoutMs,
      signal: ctx.signal,
    });
    return {};
  }
}

/** The Workflows envelope around one Adaptive Card. */
export function teamsMessage(event: NotificationEvent, link: string | undefined): object {
  const p = event.problem;
  const card = {
    $schema: ADAPTIVE_CARD_SCHEMA,
    type: 'AdaptiveCard',
    version: ADAPTIVE_CARD_VERSION,
    msteams: { width: 'Full' },
    body: [
      {
        type: 'TextBlock',
        text: p.title,
        size: 'Large',
        weight: 'Bolder',
        wrap: true,
      },
      {
        type: 'TextBlock',
        text: event.summary,
        color: COLOR[event.severity],
        wrap: true,
      },
      {
        type: 'FactSet',
        facts: [
          { title: 'Step', value: event.step },
          { title: 'Phase', value: p.phase },
          { title: 'Project', value: p.project },
          { title: 'Stage', value: p.stage },
          { title: 'Service', value: p.service },
          ...(event.attempt ? [{ title: 'Action', value: `${event.attempt.index}: ${event.attempt.action}` }] : []),
          ...(event.attempt?.commit ? [{ title: 'Commit', value: event.attempt.commit.slice(0, 12) }] : []),
          { title: 'Problem', value: `${p.namespace}/${p.name}` },
        ],
      },
    ],
    ...(link ? { actions: [{ type: 'Action.OpenUrl', title: 'Open', url: link }] } : {}),
  };
  return {
    type: 'message',
    attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, content: card }],
  };
}
