// The external executor action against a CloudEvents sink on loopback: what it sends, and how the
// sink's answer becomes the attempt's outcome.
import { afterEach, describe, expect, it } from 'vitest';
import type { ProblemEvent } from '../api/index.ts';
import { KeptnExecutorAction } from './keptn-executor.ts';
import type { KeptnExecutorOptions } from './keptn-executor.ts';
import { closeServers, serve, status } from './recording-server.test-helper.ts';
import type { Seen } from './recording-server.test-helper.ts';
import type { ActionContext } from './types.ts';
import { FakeClock } from '../runtime/clock.ts';

afterEach(closeServers);

const NOW = new Date('2026-11-22T12:00:00.000Z');
const ACTION_ID = 'sockshop~p1~3~6a1c3f0e2d4b';
const TOKEN = 'sink-token-4e2a9c7b1d';

const problem: ProblemEvent = {
  apiVersion: 'rebound.dev/v1alpha1',
  kind: 'ProblemEvent',
  metadata: { name: 'p1', namespace: 'sockshop', uid: '6a1c3f0e-2d4b-4c7e-9a31-0f3a2d1b9c11' },
  spec: {
    project: 'sockshop',
    stage: 'production',
    service: 'carts',
    problemTitle: 'response_time_p90',
    rootCause: 'HighLatency',
    state: 'OPEN',
    problemID: 'f00d',
  },
};

function context(): ActionContext {
  const unused = (): Promise<never> => Promise.reject(new Error('an executor action never touches Git'));
  return {
    problem,
    project: {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Project',
      metadata: { name: 'sockshop', namespace: 'sockshop' },
      spec: { git: { url: 'http://127.0.0.1/x.git' } },
    },
    stage: {
      name: 'production',
      branch: 'production',
      namespace: 'sockshop-production',
      remediation: 'automated',
      apply: 'none',
    },
    remediation: undefined,
    attempt: { index: 3, name: 'restart pods', action: 'restart-pods', value: 'carts-primary' },
    actionId: ACTION_ID,
    repository: {
      commitAction: unused,
      readFileAt: unused,
      readFileAtHead: unused,
      materialize: unused,
      contains: unused,
    },
    signal: new AbortController().signal,
  };
}

function executor(sinkUrl: string, overrides: Partial<KeptnExecutorOptions> = {}): KeptnExecutorAction {
  return new KeptnExecutorAction({
    sinkUrl,
    timeoutMs: 20 * 60_000,
    clock: new FakeClock(NOW.getTime()),
    token: () => TOKEN,
    ...overrides,
  });
}

describe('KeptnExecutorAction.run', () => {
  it('sends action.triggered with the action id as event id and the bearer token, then waits until clock + timeout', async () => {
    const server = await serve(status(202));
    const outcome = await executor(`${server.url}/events`).run(context());

    expect(server.seen).toHaveLength(1);
    const request = server.seen[0] as Seen;
    expect(request.path).toBe('/events');
    expect(request.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(request.headers['content-type']).toBe('application/cloudevents+json');
    expect(request.headers['idempotency-key']).toBe(ACTION_ID);
    const event = JSON.parse(request.body) as Record<string, unknown>;
    expect(event).toMatchObject({
      specversion: '1.0',
      id: ACTION_ID,
      type: 'sh.keptn.event.action.triggered',
      source: 'rebound',
      time: NOW.toISOString(),
      data: {
        project: 'sockshop',
        stage: 'production',
        service: 'carts',
        labels: { problemEvent: 'sockshop/p1' },
        action: { name: 'restart pods', action: 'restart-pods', value: 'carts-primary' },
        problem: { problemTitle: 'response_time_p90', rootCause: 'HighLatency', State: 'OPEN', ProblemID: 'f00d' },
      },
    });
    expect(event).not.toHaveProperty('triggeredid');

    expect(outcome).toMatchObject({
      kind: 'waiting',
      deadline: new Date(NOW.getTime() + 20 * 60_000),
      execution: { executor: 'keptn', target: `${server.url}/events`, tries: 1, responseCode: 202 },
    });
    expect(outcome.detail).toContain('2026-11-22T12:20:00.000Z');
  });

  it('sends no Authorization header without a token', async () => {
    const server = await serve(status(200));
    await executor(server.url, { token: () => undefined }).run(context());
    expect((server.seen[0] as Seen).headers['authorization']).toBeUndefined();
  });

  it('names the action by its type when it has no name', async () => {
    const server = await serve(status(200));
    const ctx = context();
    const { name: _name, ...unnamed } = ctx.attempt;
    await executor(server.url).run({ ...ctx, attempt: unnamed });
    expect(JSON.parse((server.seen[0] as Seen).body)).toMatchObject({
      data: { action: { name: 'restart-pods', action: 'restart-pods' } },
    });
  });

  it("hands a map value over as the map Keptn's executors read, and an empty value as an empty string", async () => {
    const server = await serve(status(202));
    const ctx = context();
    const valueMap = { EnableItemCache: 'on', rollout: { percent: 10 } };
    await executor(server.url).run({
      ...ctx,
      attempt: { index: 1, action: 'unleash-toggle', value: JSON.stringify(valueMap), valueMap },
    });
    await executor(server.url).run({ ...ctx, attempt: { index: 2, action: 'restart', value: '' } });
    expect(JSON.parse((server.seen[0] as Seen).body)).toMatchObject({
      data: { action: { action: 'unleash-toggle', value: valueMap } },
    });
    expect(JSON.parse((server.seen[1] as Seen).body)).toMatchObject({
      data: { action: { name: 'restart', action: 'restart', value: '' } },
    });
  });

  it('fails as ExecutorUnavailable when the sink keeps answering 500', async () => {
    // Retry-After: 0 keeps the backoff out of the test; the sink's default is two retries.
    const server = await serve(status(500, '', { 'Retry-After': '0' }));
    const outcome = await executor(`${server.url}/events`).run(context());
    expect(server.seen).toHaveLength(3);
    expect(outcome).toMatchObject({
      kind: 'failed',
      reason: 'ExecutorUnavailable',
      execution: { executor: 'keptn', tries: 3, responseCode: 500 },
    });
    expect(outcome.detail).toMatch(/^executor sink http:\/\/127\.0\.0\.1:\d+\/events: /);
    expect(JSON.stringify(outcome)).not.toContain(TOKEN);
  });

  it('fails as ExecutorRejected at once when the sink answers 400', async () => {
    const server = await serve(status(400));
    const outcome = await executor(server.url).run(context());
    expect(server.seen).toHaveLength(1);
    expect(outcome).toMatchObject({
      kind: 'failed',
      reason: 'ExecutorRejected',
      execution: { tries: 1, responseCode: 400 },
    });
  });

  it('never puts the sink URL’s query in the target', async () => {
    const server = await serve(status(202));
    const outcome = await executor(`${server.url}/events?key=q-secret-0b1c`).run(context());
    expect(outcome.execution?.target).toBe(`${server.url}/events`);
    expect(JSON.stringify(outcome)).not.toContain('q-secret-0b1c');
  });
});
