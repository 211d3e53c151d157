// CloudEvents 1.0 over HTTP, binary (attributes as ce- headers, the data as the body) or structured
// (the whole event as application/cloudevents+json). Every step goes out as Rebound's own
// `dev.rebound.problem.<step>.v1`; three of them as CDEvents 0.4 (Continuous Operations) instead,
// so CD tools can react without knowing Rebound:
//   opened                      → dev.cdevents.incident.detected.0.2.0
//   awaiting-approval, exhausted → dev.cdevents.incident.reported.0.2.0 (a person is needed; ticketURI = the problem's link)
//   resolved                    → dev.cdevents.incident.resolved.0.2.0
// environment is the stage, service the service, both with the Project as their source. The
// CloudEvent's id is the step's idempotency key (source + id de-duplicate, per the spec).
import type { CloudEventsMode } from '../../api/index.ts';
import type { NotificationEvent } from '../events.ts';
import { post } from '../http.ts';
import type { Delivered, DeliveryContext, Sink } from '../sink.ts';

export const CDEVENTS_SPEC_VERSION = '0.4.1';
export const CDEVENT_TYPES = {
  detected: 'dev.cdevents.incident.detected.0.2.0',
  reported: 'dev.cdevents.incident.reported.0.2.0',
  resolved: 'dev.cdevents.incident.resolved.0.2.0',
} as const;
export const REBOUND_EVENT_PREFIX = 'dev.rebound.problem.';

export interface CloudEventsOptions {
  url: string;
  mode: CloudEventsMode;
  token?: string;
  allowedHosts: readonly string[];
  timeoutMs: number;
  link?: (event: NotificationEvent) => string | undefined;
}

export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: object;
}

export class CloudEventsSink implements Sink {
  readonly type = 'cloudevents';
  readonly #options: CloudEventsOptions;

  constructor(options: CloudEventsOptions) {
    this.#options = options;
  }

  async deliver(event: NotificationEvent, ctx: DeliveryContext): Promise<Delivered> {
    const ce = toCloudEvent(event, this.#options.link?.(event));
    const auth: Record<string, string> = this.#options.token ? { authorization: `Bearer ${this.#options.token}` } : {};
    const request =
      this.#options.mode === 'structured'
        ? { headers: { 'content-type': 'application/cloudevents+json', ...auth }, body: JSON.stringify(ce) }
        : {
            headers: {
              'content-type': ce.datacontenttype,
              'ce-specversion': ce.specversion,
              'ce-id': ce.id,
              'ce-source': ce.source,
              'ce-type': ce.type,
              'ce-subject': ce.subject,
              'ce-time': ce.time,
              ...auth,
            },
            body: JSON.stringify(ce.data),
          };
    await post({
      sink: 'cloudevents',
      url: this.#options.url,
      ...request,
      allowedHosts: this.#options.allowedHosts,
      timeoutMs: this.#options.timeoutMs,
      signal: ctx.signal,
    });
    return {};
  }
}

/** The CloudEvent for a step: a CDEvent for the incident steps, Rebound's own event for the rest. */
export function toCloudEvent(event: NotificationEvent, link: string | undefined): CloudEvent {
  const p = event.problem;
  const source = `/rebound/namespaces/${p.namespace}/problemevents/${p.name}`;
  const cdType = cdeventType(event);
  const base = {
    specversion: '1.0' as const,
    id: event.key,
    source,
    subject: p.name,
    time: event.time,
    datacontenttype: 'application/json' as const,
  };
  if (cdType === undefined)
    return {
      ...base,
      type: `${REBOUND_EVENT_PREFIX}${event.step}.v1`,
      data: {
        step: event.step,
        severity: event.severity,
        summary: event.summary,
        problem: p,
        ...(event.attempt ? { attempt: event.attempt } : {}),
        ...(link ? { link } : {}),
      },
    };
  const projectSource = `/rebound/namespaces/${p.namespace}/projects/${p.project}`;
  const links = [
    ...(link ? [{ rel: 'problem', href: link }] : []),
    ...(event.attempt?.commit ? [{ rel: 'commit', sha: event.attempt.commit, branch: event.attempt.branch }] : []),
  ];
  return {
    ...base,
    type: cdType,
    data: {
      context: { version: CDEVENTS_SPEC_VERSION, id: event.key, source, type: cdType, timestamp: event.time },
      subject: {
        // One incident per problem: every event about it names the same subject.
        id: p.uid,
        source,
        type: 'incident',
        content: {
          description: event.summary,
          environment: { id: p.stage, source: projectSource },
          service: { id: p.service, source: projectSource },
          ...(cdType === CDEVENT_TYPES.reported ? { ticketURI: link ?? `${source}` } : {}),
        },
      },
      customDataContentType: 'application/json',
      customData: {
        project: p.project,
        problemTitle: p.title,
        ...(p.problemID ? { problemID: p.problemID } : {}),
        step: event.step,
        links,
      },
    },
  };
}

function cdeventType(event: NotificationEvent): string | undefined {
  switch (event.step) {
    case 'opened':
      return CDEVENT_TYPES.detected;
    case 'awaiting-approval':
    case 'exhausted':
      return CDEVENT_TYPES.reported;
    case 'resolved':
      return CDEVENT_TYPES.resolved;
    default:
      return undefined;
  }
}
