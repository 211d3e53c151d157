import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildActionTriggeredEvent,
  keptnContextFor,
  parseActionFinished,
  sendCloudEvent,
} from './keptn-action-event.ts';
import type { ActionTriggeredInput, SendCloudEventOptions } from './keptn-action-event.ts';

const UID = '6f1d3c2e-0a4b-4b7c-9d2e-5a6b7c8d9e0f';

const input: ActionTriggeredInput = {
  actionId: 'sockshop.am-carts-3f2a.1',
  problem: {
    namespace: 'sockshop',
    name: 'am-carts-3f2a',
    uid: UID,
    project: 'sockshop',
    stage: 'production',
    service: 'carts',
    title: 'response_time_p90',
    rootCause: 'HighLatency',
    problemID: 'f00d',
    state: 'OPEN',
    source: 'alertmanager',
    impactedEntity: 'carts-primary',
  },
  action: {
    name: 'Toggle promotion',
    action: 'toggle-feature',
    description: 'Disable the promotion campaign',
    value: { EnablePromotion: 'off' },
  },
  labels: { 'Problem URL': 'http://prometheus.example.com/graph?g0.expr=rt', problemEvent: 'forged/ignored' },
  time: new Date('2026-03-01T10:00:00.000Z'),
};

describe('buildActionTriggeredEvent', () => {
  it('matches the Keptn action.triggered shape (keptn-semantics §4.1, §4.4)', () => {
    expect(buildActionTriggeredEvent(input)).toEqual({
      specversion: '1.0',
      id: 'sockshop.am-carts-3f2a.1',
      source: 'rebound',
      type: 'sh.keptn.event.action.triggered',
      time: '2026-03-01T10:00:00.000Z',
      datacontenttype: 'application/json',
      shkeptncontext: '53b97779-88aa-5134-be28-d56b3fceab6a',
      shkeptnspecversion: '0.2.4',
      data: {
        project: 'sockshop',
        stage: 'production',
        service: 'carts',
        labels: {
          problemEvent: 'sockshop/am-carts-3f2a',
          'Problem URL': 'http://prometheus.example.com/graph?g0.expr=rt',
        },
        action: {
          name: 'Toggle promotion',
          action: 'toggle-feature',
          description: 'Disable the promotion campaign',
          value: { EnablePromotion: 'off' },
        },
        problem: {
          problemTitle: 'response_time_p90',
          rootCause: 'HighLatency',
          State: 'OPEN',
          ProblemID: 'f00d',
          ImpactedEntity: 'carts-primary',
        },
      },
    });
  });

  it('has no triggeredid (it is the triggered event) and leaves absent optional fields out', () => {
    const { rootCause: _r, problemID: _p, impactedEntity: _i, ...bare } = input.problem;
    const event = buildActionTriggeredEvent({
      actionId: 'a1',
      problem: bare,
      action: { name: 'scale up', action: 'scaling', value: '1' },
    });
    const json = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
    expect(json).not.toHaveProperty('triggeredid');
    expect(json['data']).toEqual({
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      labels: { problemEvent: 'sockshop/am-carts-3f2a' },
      action: { name: 'scale up', action: 'scaling', value: '1' },
      problem: { problemTitle: 'response_time_p90', State: 'OPEN', ProblemID: '' },
    });
    expect(Number.isNaN(Date.parse(event.time))).toBe(false);
  });
});

describe('keptnContextFor', () => {
  it('is the RFC 4122 version 5 UUID of the problem URL (same as Python uuid.uuid5)', () => {
    // python3 -c "import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, 'https://rebound.dev/problemevents/<uid>'))"
    expect(keptnContextFor(UID)).toBe('53b97779-88aa-5134-be28-d56b3fceab6a');
  });

  it('is stable for one problem and differs between problems', () => {
    expect(keptnContextFor(UID)).toBe(keptnContextFor(UID));
    expect(keptnContextFor('0c5e7a4b-1111-4222-8333-944455556666')).not.toBe(keptnContextFor(UID));
    expect(keptnContextFor('0c5e7a4b-1111-4222-8333-944455556666')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});

describe('sendCloudEvent', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  async function sink(
    ...statuses: number[]
  ): Promise<{ url: string; seen: { headers: IncomingHttpHeaders; body: string }[] }> {
    const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(statuses[Math.min(seen.length, statuses.length) - 1] ?? 200);
        res.end(`answer ${seen.length}`);
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/events`, seen };
  }

  const waits: number[] = [];
  const options = (overrides: Partial<SendCloudEventOptions> = {}): SendCloudEventOptions => ({
    timeoutMs: 2_000,
    retries: 2,
    backoffMs: 50,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    ...overrides,
  });
  const event = buildActionTriggeredEvent(input);

  it('posts the event in structured mode with the bearer token and the event id as Idempotency-Key', async () => {
    const target = await sink(202);
    const result = await sendCloudEvent(target.url, event, options({ token: 'sink-token-123456' }));
    expect(result).toEqual({ ok: true, status: 202, tries: 1, responseBody: 'answer 1' });
    const [sent] = target.seen;
    expect(sent?.headers['content-type']).toBe('application/cloudevents+json');
    expect(sent?.headers['authorization']).toBe('Bearer sink-token-123456');
    expect(sent?.headers['idempotency-key']).toBe('sockshop.am-carts-3f2a.1');
    expect(JSON.parse(sent?.body ?? '')).toEqual(JSON.parse(JSON.stringify(event)));
  });

  it('sends no Authorization without a token', async () => {
    const target = await sink(200);
    await sendCloudEvent(target.url, event, options());
    expect(target.seen[0]?.headers).not.toHaveProperty('authorization');
  });

  it('retries a failing sink and reports ExecutorUnavailable, without the token', async () => {
    waits.length = 0;
    const target = await sink(503);
    const result = await sendCloudEvent(target.url, event, options({ token: 'sink-token-123456' }));
    expect(result).toMatchObject({ ok: false, status: 503, tries: 3, reason: 'ExecutorUnavailable', retryable: true });
    expect(waits).toEqual([50, 100]);
    expect(JSON.stringify(result)).not.toContain('sink-token-123456');
  });

  it('reports a refusing sink as ExecutorRejected', async () => {
    const target = await sink(400);
    const result = await sendCloudEvent(target.url, event, options());
    expect(result).toMatchObject({ ok: false, status: 400, tries: 1, reason: 'ExecutorRejected', retryable: false });
  });

  it.each(['not a url', 'ftp://sink.example.com/', 'http://user:pw@sink.example.com/'])(
    'refuses the sink %s without calling it',
    async (url) => {
      const result = await sendCloudEvent(
        url,
        event,
        options({ fetch: () => Promise.reject(new Error('must not be called')) }),
      );
      expect(result).toEqual({
        ok: false,
        tries: 0,
        reason: 'ExecutorRejected',
        retryable: false,
        message: 'the external executor sink is not an http(s) URL without credentials',
      });
    },
  );
});

describe('parseActionFinished', () => {
  const finished = (data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    specversion: '1.0',
    id: 'f-1',
    source: 'unleash-service',
    type: 'sh.keptn.event.action.finished',
    shkeptncontext: '53b97779-88aa-5134-be28-d56b3fceab6a',
    triggeredid: 'sockshop.am-carts-3f2a.1',
    data,
    ...extra,
  });

  it.each([
    {
      data: { project: 'sockshop', status: 'succeeded', result: 'pass', message: 'toggled EnablePromotion off' },
      want: { status: 'succeeded', result: 'pass', message: 'toggled EnablePromotion off' },
    },
    {
      data: { status: 'succeeded', result: 'fail', message: 'scaling failed' },
      want: { status: 'succeeded', result: 'fail', message: 'scaling failed' },
    },
    { data: { status: 'errored', result: 'fail' }, want: { status: 'errored', result: 'fail', message: '' } },
    { data: { status: 'aborted' }, want: { status: 'aborted', result: undefined, message: '' } },
    { data: { status: 'succeeded', result: 'warning' }, want: { status: 'succeeded', result: 'warning', message: '' } },
    { data: { status: '', result: '', message: '' }, want: { status: 'unknown', result: undefined, message: '' } },
    { data: {}, want: { status: 'unknown', result: undefined, message: '' } },
  ])('reads $data', ({ data, want }) => {
    expect(parseActionFinished(finished(data))).toEqual({
      ok: true,
      kind: 'finished',
      task: 'action',
      triggeredId: 'sockshop.am-carts-3f2a.1',
      ...want,
    });
  });

  it('reads a started event, with or without data', () => {
    const started: Record<string, unknown> = {
      ...finished({ project: 'sockshop' }),
      type: 'sh.keptn.event.action.started',
    };
    expect(parseActionFinished(started)).toEqual({
      ok: true,
      kind: 'started',
      task: 'action',
      triggeredId: 'sockshop.am-carts-3f2a.1',
    });
    const { data: _d, ...bare } = started;
    expect(parseActionFinished(bare)).toEqual({
      ok: true,
      kind: 'started',
      task: 'action',
      triggeredId: 'sockshop.am-carts-3f2a.1',
    });
  });

  it('reads the answers of a sequence task after the action (sh.keptn.event.<task>.finished)', () => {
    const answer = parseActionFinished(
      finished(
        { status: 'succeeded', result: 'pass', message: 'locust: 0 failures' },
        { type: 'sh.keptn.event.je-test.finished' },
      ),
    );
    expect(answer).toEqual({
      ok: true,
      kind: 'finished',
      task: 'je-test',
      triggeredId: 'sockshop.am-carts-3f2a.1',
      status: 'succeeded',
      result: 'pass',
      message: 'locust: 0 failures',
    });
    expect(parseActionFinished(finished({}, { type: 'sh.keptn.event.je-test.started' }))).toMatchObject({
      ok: true,
      kind: 'started',
      task: 'je-test',
    });
    // A sequence event (<stage>.<sequence>.finished) is not a task's answer.
    expect(parseActionFinished(finished({}, { type: 'sh.keptn.event.production.remediation.finished' }))).toMatchObject(
      { ok: false, error: expect.stringMatching(/^type: /) as unknown },
    );
  });

  it('caps a long message', () => {
    const result = parseActionFinished(finished({ status: 'errored', message: 'x'.repeat(5000) }));
    expect(result.ok && result.kind === 'finished' && result.message.length).toBe(1024);
  });

  it.each([
    { event: 'text', error: /^the event is not a JSON object$/ },
    { event: [finished({})], error: /^the event is not a JSON object$/ },
    {
      event: finished({}, { type: 'sh.keptn.event.action.triggered' }),
      error:
        /^type: expected sh\.keptn\.event\.action\.finished, sh\.keptn\.event\.action\.started or another task's \.finished\/\.started, got "sh\.keptn\.event\.action\.triggered"$/,
    },
    { event: finished({}, { type: undefined }), error: /^type: .* got nothing$/ },
    { event: finished({}, { specversion: '0.3' }), error: /^specversion: expected "1\.0", got "0\.3"$/ },
    { event: finished({}, { triggeredid: undefined }), error: /^triggeredid: required/ },
    { event: finished({}, { triggeredid: '' }), error: /^triggeredid: required/ },
    { event: finished({}, { triggeredid: 42 }), error: /^triggeredid: required/ },
    { event: finished({}, { triggeredid: 'x'.repeat(321) }), error: /^triggeredid: longer than 320 characters$/ },
    { event: finished(undefined), error: /^data: required/ },
    { event: finished('{"status":"succeeded"}'), error: /^data: required/ },
    {
      event: finished({ status: 'success', result: 'pass' }),
      error: /^data\.status: expected one of succeeded, errored, aborted, unknown, got "success"$/,
    },
    { event: finished({ status: 'Succeeded' }), error: /^data\.status: .* got "Succeeded"$/ },
    { event: finished({ status: 1 }), error: /^data\.status: .* got 1$/ },
    {
      event: finished({ status: 'succeeded', result: 'failed' }),
      error: /^data\.result: expected one of pass, warning, fail, got "failed"$/,
    },
    { event: finished({ status: 'succeeded', result: null }), error: /^data\.result: .* got null$/ },
    {
      event: finished({ status: 'succeeded', message: { text: 'x' } }),
      error: /^data\.message: expected a string, got \{"text":"x"\}$/,
    },
    {
      event: { ...finished({}), type: 'sh.keptn.event.action.started', data: 'x' },
      error: /^data: must be an object$/,
    },
  ])('refuses $event naming the field', ({ event, error }) => {
    const result = parseActionFinished(event);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(error);
  });

  it('accepts a triggeredid of exactly 320 characters', () => {
    expect(parseActionFinished(finished({ status: 'succeeded' }, { triggeredid: 'x'.repeat(320) })).ok).toBe(true);
  });
});
