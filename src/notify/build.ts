// A Notification's sink from its spec and its Secret's data (pure: no call leaves here). What is
// missing or wrong comes back as a reason for the Notification's Ready condition, never thrown.
import { REASONS, parseDuration } from '../api/index.ts';
import type { NotificationSpec, Reason } from '../api/index.ts';
import { checkAllowedUrl } from '../net/allowed-hosts.ts';
import type { NotificationEvent } from './events.ts';
import type { Sink } from './sink.ts';
import { CloudEventsSink } from './sinks/cloudevents.ts';
import { SLACK_API, SlackSink } from './sinks/slack.ts';
import { TeamsSink } from './sinks/teams.ts';
import { WebhookSink } from './sinks/webhook.ts';

const DEFAULT_TIMEOUT_MS = 10_000;

export type BuiltSink = { ok: true; sink: Sink } | { ok: false; reason: Reason; message: string };

export interface BuildOptions {
  /** --notification-allowed-hosts */
  allowedHosts: readonly string[];
}

/** `secret`: the Secret's data, or undefined when spec.sink.secretRef is absent. */
export function buildSink(
  spec: NotificationSpec,
  secret: Readonly<Record<string, string>> | undefined,
  options: BuildOptions,
): BuiltSink {
  const sink = spec.sink;
  const url = secret?.url ?? sink.url;
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  try {
    if (sink.timeout) timeoutMs = parseDuration(sink.timeout);
  } catch {
    return misconfigured(`spec.sink.timeout ${JSON.stringify(sink.timeout)} is not a duration`);
  }
  const target = sink.type === 'slack' ? (sink.url ?? SLACK_API) : url;
  if (target !== undefined) {
    const allowed = checkAllowedUrl(target, options.allowedHosts);
    if (!allowed.ok)
      return {
        ok: false,
        reason: REASONS.SinkHostNotAllowed,
        message: allowed.reason.replace(
          "the Remediation's spec.webhook.allowedHosts",
          "the controller's --notification-allowed-hosts",
        ),
      };
  }
  const link = sink.linkTemplate ? linkFor(sink.linkTemplate) : undefined;
  const common = { allowedHosts: options.allowedHosts, timeoutMs, ...(link ? { link } : {}) };
  switch (sink.type) {
    case 'slack': {
      const token = secret?.token;
      if (!token)
        return misconfigured('a slack sink needs a bot token: key "token" in the Secret of spec.sink.secretRef');
      if (!sink.channel) return misconfigured('a slack sink needs spec.sink.channel');
      return {
        ok: true,
        sink: new SlackSink({ ...common, apiUrl: sink.url ?? SLACK_API, channel: sink.channel, token }),
      };
    }
    case 'teams':
      if (!url) return misconfigured('a teams sink needs its Workflows URL: spec.sink.url or key "url" in the Secret');
      return { ok: true, sink: new TeamsSink({ ...common, url }) };
    case 'webhook':
      if (!url) return misconfigured('a webhook sink needs spec.sink.url or key "url" in the Secret');
      return {
        ok: true,
        sink: new WebhookSink({
          ...common,
          url,
          ...(secret?.secret ? { secret: secret.secret } : {}),
          ...(secret?.token ? { token: secret.token } : {}),
        }),
      };
    case 'cloudevents':
      if (!url) return misconfigured('a cloudevents sink needs spec.sink.url or key "url" in the Secret');
      return {
        ok: true,
        sink: new CloudEventsSink({
          ...common,
          url,
          mode: sink.mode ?? 'binary',
          ...(secret?.token ? { token: secret.token } : {}),
        }),
      };
  }
}

function misconfigured(message: string): BuiltSink {
  return { ok: false, reason: REASONS.SinkMisconfigured, message };
}

/** `{namespace}` and `{name}` of the problem, each URL-escaped. */
export function linkFor(template: string): (event: NotificationEvent) => string {
  return (event) =>
    template
      .replaceAll('{namespace}', encodeURIComponent(event.problem.namespace))
      .replaceAll('{name}', encodeURIComponent(event.problem.name));
}
