// Each sink against a loopback receiver, payloads checked field by field (the io project: sockets).
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReboundError } from '../errors.ts';
import { FakeSlack, Recorder } from '../../test/harness/notification-receivers.ts';
import { eventsOf } from './events.ts';
import type { NotificationEvent } from './events.ts';
import { ESCALATION, problemAt } from './fixtures.test-helper.ts';
import { CDEVENT_TYPES, CloudEventsSink } from './sinks/cloudevents.ts';
import { SlackSink } from './sinks/slack.ts';
import { TeamsSink } from './sinks/teams.ts';
import { WebhookSink } from './sinks/webhook.ts';

const HOSTS = ['127.0.0.1'];
const TOKEN = 'xoxb-test-bot-token-123456';
const signal = new AbortController().signal;
const story: NotificationEvent[] = eventsOf(problemAt(ESCALATION.at(-1)));
const link = (e: NotificationEvent): string => `https://dash.example/problems/${e.problem.namespace}/${e.problem.name}`;

let slack: FakeSlack;
let recorder: Recorder;
beforeAll(async () => {
  slack = await new FakeSlack(TOKEN).start();
  recorder = await new Recorder().start();
});
afterAll(async () => {
  await slack.stop();
  await recorder.stop();
});

describe('SlackSink', () => {
  it('starts one thread, updates its first message in place and replies once per step', async () => {
    const sink = new SlackSink({
      apiUrl: slack.url,
      channel: slack.channel,
      token: TOKEN,
      allowedHosts: HOSTS,
      timeoutMs: 5000,
      link,
    });
    let thread: string | undefined;
    for (const event of story) {
      const done = await sink.deliver(event, { ...(thread ? { thread } : {}), signal });
      thread ??= done.thread;
    }
    const [root, ...others] = slack.roots();
    expect(others).toEqual([]);
    expect(thread).toBe(`${slack.channel}/${root?.ts}`);
    // Six updates of the first message, one per later step; it ends on the phase now.
    expect(root?.history).toHaveLength(6);
    expect(root?.text).toBe(':white_check_mark: Resolved: Response time degradation (carts in sockshop/production)');
    expect(root?.blocks).toEqual([
      { type: 'header', text: { type: 'plain_text', text: 'Response time degradation', emoji: true } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Project*\nsockshop' },
          { type: 'mrkdwn', text: '*Stage*\nproduction' },
          { type: 'mrkdwn', text: '*Service*\ncarts' },
          { type: 'mrkdwn', text: '*Phase*\n:white_check_mark: Resolved' },
        ],
      },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: '*Latest:* problem resolved (carts in sockshop/production)' },
        accessory: {
          type: 'button',
          text: { type: 'plain_text', text: 'Open' },
          url: 'https://dash.example/problems/shop/carts-high-latency',
        },
      },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: 'shop/carts-high-latency' },
          { type: 'mrkdwn', text: 'problem P-17' },
        ],
      },
    ]);
    const replies = slack.replies(root?.ts ?? '');
    expect(replies.map((r) => r.text)).toEqual([
      'Committed: attempt 1 (scale +1) committed as aaaaaaa on production',
      'Evaluated: attempt 1 (scale +1) evaluated fail with score 0%',
      'Escalated: attempt 1 (scale +1) did not help: escalating to attempt 2 (featuretoggle EnablePromotion:off)',
      'Committed: attempt 2 (featuretoggle EnablePromotion:off) committed as bbbbbbb on production',
      'Evaluated: attempt 2 (featuretoggle EnablePromotion:off) evaluated pass with score 100%',
      'Resolved: problem resolved (carts in sockshop/production)',
    ]);
    // The update of the first message comes before each reply (a retry repeats only the update).
    const methods = slack.calls.map(
      (c) => c.path.replace('/api/', '') + ((c.json as { thread_ts?: string }).thread_ts ? '+thread' : ''),
    );
    expect(methods).toEqual([
      'chat.postMessage',
      ...Array.from({ length: 6 }, () => ['chat.update', 'chat.postMessage+thread']).flat(),
    ]);
  });

  it('escapes a title so it cannot become a mention or a link', async () => {
    const sink = new SlackSink({
      apiUrl: slack.url,
      channel: slack.channel,
      token: TOKEN,
      allowedHosts: HOSTS,
      timeoutMs: 5000,
    });
    const [opened] = eventsOf(problemAt(undefined, { problemTitle: '<!channel> & <https://evil|x>' }));
    await sink.deliver(opened!, { signal });
    const last = slack.roots().at(-1);
    expect(JSON.stringify(last?.blocks)).toContain('&lt;!channel&gt; &amp; &lt;https://evil|x&gt;');
  });

  it('refuses a revoked token for good and keeps it out of the message', async () => {
    const sink = new SlackSink({
      apiUrl: slack.url,
      channel: slack.channel,
      token: 'xoxb-wrong-token-999',
      allowedHosts: HOSTS,
      timeoutMs: 5000,
    });
    const err = await sink.deliver(story[0]!, { signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReboundError);
    expect(err).toMatchObject({ retryable: false, message: 'slack: chat.postMessage failed: invalid_auth' });
  });
});

describe('TeamsSink', () => {
  it('posts one Adaptive Card per step in the Workflows envelope, the URL signature kept out of errors', async () => {
    recorder.received.length = 0;
    const url = `${recorder.url}/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=SECRETSIG123`;
    const sink = new TeamsSink({ url, allowedHosts: HOSTS, timeoutMs: 5000, link });
    await sink.deliver(story[3]!, { signal });
    const [req] = recorder.received;
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.path).toBe('/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=SECRETSIG123');
    const body = req?.json as {
      type: string;
      attachments: { contentType: string; contentUrl: null; content: Record<string, unknown> }[];
    };
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    const [attachment] = body.attachments;
    expect(attachment?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(attachment?.contentUrl).toBeNull();
    expect(attachment?.content).toMatchObject({
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.4',
      actions: [
        { type: 'Action.OpenUrl', title: 'Open', url: 'https://dash.example/problems/shop/carts-high-latency' },
      ],
    });
    const [title, summary, facts] = attachment?.content.body as Record<string, unknown>[];
    expect(title).toEqual({
      type: 'TextBlock',
      text: 'Response time degradation',
      size: 'Large',
      weight: 'Bolder',
      wrap: true,
    });
    expect(summary).toMatchObject({ type: 'TextBlock', color: 'Warning', text: story[3]?.summary });
    expect(facts).toEqual({
      type: 'FactSet',
      facts: [
        { title: 'Step', value: 'escalated' },
        { title: 'Phase', value: 'Resolved' },
        { title: 'Project', value: 'sockshop' },
        { title: 'Stage', value: 'production' },
        { title: 'Service', value: 'carts' },
        { title: 'Action', value: '1: scale +1' },
        { title: 'Commit', value: 'aaaaaaaaaaaa' },
        { title: 'Problem', value: 'shop/carts-high-latency' },
      ],
    });

    recorder.answer = () => 500;
    const err = await sink.deliver(story[4]!, { signal }).catch((e: unknown) => e);
    recorder.answer = () => 200;
    expect(err).toMatchObject({ retryable: true });
    expect(String((err as Error).message)).not.toContain('SECRETSIG123');
  });
});

describe('WebhookSink', () => {
  it('signs the exact body with HMAC-SHA256 and sends the idempotency key', async () => {
    recorder.received.length = 0;
    const sink = new WebhookSink({
      url: `${recorder.url}/hook`,
      secret: 'hmac-key-1234',
      allowedHosts: HOSTS,
      timeoutMs: 5000,
      link,
    });
    await sink.deliver(story[1]!, { signal });
    await sink.deliver(story[1]!, { signal });
    const [first, second] = recorder.received;
    expect(first?.headers['idempotency-key']).toBe('uid-1/1/committed');
    expect(second?.headers['idempotency-key']).toBe('uid-1/1/committed');
    expect(first?.headers['x-rebound-event']).toBe('committed');
    const expected = `sha256=${createHmac('sha256', 'hmac-key-1234')
      .update(first?.raw ?? '')
      .digest('hex')}`;
    expect(first?.headers['x-rebound-signature']).toBe(expected);
    expect(second?.raw).toBe(first?.raw);
    expect(first?.json).toEqual({
      key: 'uid-1/1/committed',
      step: 'committed',
      severity: 'info',
      time: '2026-12-02T10:00:05Z',
      summary: 'attempt 1 (scale +1) committed as aaaaaaa on production',
      problem: {
        namespace: 'shop',
        name: 'carts-high-latency',
        uid: 'uid-1',
        project: 'sockshop',
        stage: 'production',
        service: 'carts',
        title: 'Response time degradation',
        problemID: 'P-17',
        phase: 'Resolved',
        createdTime: '2026-12-02T10:00:00.000Z',
      },
      attempt: { index: 1, action: 'scale +1', branch: 'production', commit: 'a'.repeat(40), result: 'fail', score: 0 },
      link: 'https://dash.example/problems/shop/carts-high-latency',
    });
  });

  it('calls no host that is not allowed', async () => {
    recorder.received.length = 0;
    const sink = new WebhookSink({ url: `${recorder.url}/hook`, allowedHosts: ['hooks.example.com'], timeoutMs: 5000 });
    const err = await sink.deliver(story[0]!, { signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false, reason: 'SinkHostNotAllowed' });
    expect((err as Error).message).toContain('--notification-allowed-hosts');
    expect(recorder.received).toEqual([]);
  });
});

describe('CloudEventsSink', () => {
  it('sends CDEvents incident.detected then .resolved in binary mode, the rest as Rebound events', async () => {
    recorder.received.length = 0;
    const sink = new CloudEventsSink({
      url: `${recorder.url}/events`,
      mode: 'binary',
      allowedHosts: HOSTS,
      timeoutMs: 5000,
      link,
    });
    for (const event of story) await sink.deliver(event, { signal });
    expect(recorder.received.map((r) => r.headers['ce-type'])).toEqual([
      CDEVENT_TYPES.detected,
      'dev.rebound.problem.committed.v1',
      'dev.rebound.problem.evaluated.v1',
      'dev.rebound.problem.escalated.v1',
      'dev.rebound.problem.committed.v1',
      'dev.rebound.problem.evaluated.v1',
      CDEVENT_TYPES.resolved,
    ]);
    const detected = recorder.received[0];
    expect(detected?.headers).toMatchObject({
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'uid-1/opened',
      'ce-source': '/rebound/namespaces/shop/problemevents/carts-high-latency',
      'ce-subject': 'carts-high-latency',
      'ce-time': '2026-12-02T10:00:00.000Z',
    });
    expect(detected?.json).toEqual({
      context: {
        version: '0.4.1',
        id: 'uid-1/opened',
        source: '/rebound/namespaces/shop/problemevents/carts-high-latency',
        type: 'dev.cdevents.incident.detected.0.2.0',
        timestamp: '2026-12-02T10:00:00.000Z',
      },
      subject: {
        id: 'uid-1',
        source: '/rebound/namespaces/shop/problemevents/carts-high-latency',
        type: 'incident',
        content: {
          description: 'problem opened: Response time degradation (carts in sockshop/production)',
          environment: { id: 'production', source: '/rebound/namespaces/shop/projects/sockshop' },
          service: { id: 'carts', source: '/rebound/namespaces/shop/projects/sockshop' },
        },
      },
      customDataContentType: 'application/json',
      customData: {
        project: 'sockshop',
        problemTitle: 'Response time degradation',
        problemID: 'P-17',
        step: 'opened',
        links: [{ rel: 'problem', href: 'https://dash.example/problems/shop/carts-high-latency' }],
      },
    });
    const resolved = recorder.received[6]?.json as { subject: { id: string; content: Record<string, unknown> } };
    expect(resolved.subject.id).toBe('uid-1');
    expect(resolved.subject.content.environment).toEqual({
      id: 'production',
      source: '/rebound/namespaces/shop/projects/sockshop',
    });
  });

  it('sends the whole event as application/cloudevents+json in structured mode, reported with its ticket', async () => {
    recorder.received.length = 0;
    const sink = new CloudEventsSink({
      url: `${recorder.url}/events`,
      mode: 'structured',
      token: 'ce-token-5678',
      allowedHosts: HOSTS,
      timeoutMs: 5000,
      link,
    });
    const [, , , exhausted] = eventsOf(
      problemAt({
        phase: 'Exhausted',
        attempts: [ESCALATION[2]!.attempts![0]!],
        completionTime: '2026-12-02T10:03:00Z',
      }),
    );
    await sink.deliver(exhausted!, { signal });
    const [req] = recorder.received;
    expect(req?.headers['content-type']).toBe('application/cloudevents+json');
    expect(req?.headers.authorization).toBe('Bearer ce-token-5678');
    expect(req?.json).toMatchObject({
      specversion: '1.0',
      id: 'uid-1/exhausted',
      type: CDEVENT_TYPES.reported,
      datacontenttype: 'application/json',
      data: {
        context: { type: CDEVENT_TYPES.reported, id: 'uid-1/exhausted' },
        subject: {
          content: {
            ticketURI: 'https://dash.example/problems/shop/carts-high-latency',
            environment: { id: 'production' },
          },
        },
      },
    });
  });
});
