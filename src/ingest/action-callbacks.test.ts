// Action reports: the store over an in-memory API server (resourceVersion checks, conflicts), and the
// HTTP ways in (POST /v1/actions/<id>/finished, Keptn action events on /v1/events) over real HTTP on
// loopback.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ActionExecution, Attempt, ProblemEvent, ProblemEventStatus, SequenceTaskRun } from '../api/index.ts';
import { actionIdFor } from '../actions/types.ts';
import { KubeError } from '../kube/errors.ts';
import { KubeActionCallbacks } from './action-callbacks.ts';
import type { ActionCallbackStore, ActionReport, ProblemEventAccess, RecordOutcome } from './action-callbacks.ts';
import { createIngestHandler } from './server.ts';
import type { IngestServerOptions } from './server.ts';
import type { MappedProblem } from './types.ts';
import { FakeClock } from '../runtime/clock.ts';

const NOW = new Date('2026-11-22T12:00:00.000Z');
const UID = '6a1c3f0e-2d4b-4c7e-9a31-0f3a2d1b9c11';

function conflict(): KubeError {
  return new KubeError('patch problemevents sockshop/p1: conflict (409)', {
    code: 'KubeConflict',
    retryable: true,
    status: 409,
  });
}

/** The API server's part: objects by namespace/name, a resourceVersion bumped on every write. */
class FakeProblemEvents implements ProblemEventAccess {
  readonly objects = new Map<string, ProblemEvent>();
  gets = 0;
  patches = 0;
  /** Runs before a write is checked: a stand-in for the loop writing in between. */
  beforePatch: (() => void) | undefined;
  /** Every write is refused as a conflict. */
  alwaysConflict = false;

  put(problem: ProblemEvent): void {
    this.objects.set(`${problem.metadata.namespace ?? ''}/${problem.metadata.name ?? ''}`, structuredClone(problem));
  }

  /** Changes the stored object as another writer would, with a new resourceVersion. */
  writeBehind(namespace: string, name: string, change: (status: ProblemEventStatus) => ProblemEventStatus): void {
    const current = this.objects.get(`${namespace}/${name}`);
    if (!current) throw new Error('nothing to change');
    this.objects.set(`${namespace}/${name}`, {
      ...current,
      metadata: { ...current.metadata, resourceVersion: String(Number(current.metadata.resourceVersion) + 1) },
      status: change(current.status ?? {}),
    });
  }

  get(namespace: string, name: string): Promise<ProblemEvent | undefined> {
    this.gets++;
    const found = this.objects.get(`${namespace}/${name}`);
    return Promise.resolve(found ? structuredClone(found) : undefined);
  }

  patchStatus(
    namespace: string,
    name: string,
    status: Partial<ProblemEventStatus>,
    resourceVersion?: string,
  ): Promise<ProblemEvent> {
    this.patches++;
    const hook = this.beforePatch;
    this.beforePatch = undefined;
    hook?.();
    const current = this.objects.get(`${namespace}/${name}`);
    if (!current)
      return Promise.reject(new KubeError('not found (404)', { code: 'KubeNotFound', retryable: false, status: 404 }));
    if (this.alwaysConflict || (resourceVersion !== undefined && resourceVersion !== current.metadata.resourceVersion))
      return Promise.reject(conflict());
    this.writeBehind(namespace, name, (s) => ({ ...s, ...structuredClone(status) }));
    return Promise.resolve(structuredClone(this.objects.get(`${namespace}/${name}`) as ProblemEvent));
  }

  attempt(index: number, namespace = 'sockshop', name = 'p1'): Attempt | undefined {
    return this.objects.get(`${namespace}/${name}`)?.status?.attempts?.find((a) => a.index === index);
  }
}

function problemWith(
  execution: Partial<ActionExecution> & Pick<ActionExecution, 'state'>,
  options: { attempt?: Partial<Attempt>; status?: Partial<ProblemEventStatus> } = {},
): ProblemEvent {
  const base: ProblemEvent = {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: { name: 'p1', namespace: 'sockshop', uid: UID, resourceVersion: '7' },
    spec: {
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      problemTitle: 'response_time_p90',
      state: 'OPEN',
    },
  };
  const id = actionIdFor(base, 2);
  return {
    ...base,
    status: {
      phase: 'Remediating',
      currentAttempt: 2,
      attempts: [
        { index: 1, action: 'scale', value: '+1', result: 'fail' },
        {
          index: 2,
          action: 'webhook',
          value: 'restart',
          execution: { id, executor: 'webhook', startedTime: '2026-11-22T11:58:00Z', ...execution },
          ...options.attempt,
        },
      ],
      ...options.status,
    },
  };
}

const ACTION_ID = actionIdFor(problemWith({ state: 'Running' }), 2);

function report(overrides: Partial<ActionReport> = {}): ActionReport {
  return { actionId: ACTION_ID, status: 'succeeded', message: 'restarted carts', via: 'callback', ...overrides };
}

describe('KubeActionCallbacks', () => {
  let api: FakeProblemEvents;
  let store: KubeActionCallbacks;

  beforeEach(() => {
    api = new FakeProblemEvents();
    store = new KubeActionCallbacks(api, new FakeClock(NOW.getTime()));
  });

  it.each(['Running', 'Waiting'] as const)(
    'records the report on a %s attempt, leaving the others alone',
    async (state) => {
      api.put(problemWith({ state }));
      expect(await store.record(report())).toEqual({ kind: 'recorded' });
      expect(api.attempt(2)?.execution).toMatchObject({
        id: ACTION_ID,
        state,
        callbackStatus: 'succeeded',
        callbackMessage: 'restarted carts',
        callbackTime: NOW.toISOString(),
      });
      expect(api.attempt(1)).toEqual({ index: 1, action: 'scale', value: '+1', result: 'fail' });
      expect(api.objects.get('sockshop/p1')?.status?.phase).toBe('Remediating');
    },
  );

  it('accepts the same report twice once: the second is a duplicate and writes nothing', async () => {
    api.put(problemWith({ state: 'Waiting' }));
    expect(await store.record(report())).toEqual({ kind: 'recorded' });
    const writes = api.patches;
    expect(await store.record(report({ message: 'delivered again' }))).toEqual({ kind: 'duplicate' });
    expect(api.patches).toBe(writes);
    expect(api.attempt(2)?.execution?.callbackMessage).toBe('restarted carts');
  });

  it('refuses a different status once one is recorded, keeping the first', async () => {
    api.put(problemWith({ state: 'Waiting' }));
    await store.record(report());
    const outcome = await store.record(report({ status: 'failed' }));
    expect(outcome).toMatchObject({
      kind: 'finished',
      message: expect.stringMatching(/already reported succeeded/) as unknown,
    });
    expect(api.attempt(2)?.execution?.callbackStatus).toBe('succeeded');
  });

  it.each<{ name: string; problem: ProblemEvent }>([
    { name: 'the action Succeeded', problem: problemWith({ state: 'Succeeded' }) },
    { name: 'the action Failed (timed out)', problem: problemWith({ state: 'Failed' }) },
    { name: 'the attempt has a result', problem: problemWith({ state: 'Waiting' }, { attempt: { result: 'pass' } }) },
    { name: 'the problem is Resolved', problem: problemWith({ state: 'Waiting' }, { status: { phase: 'Resolved' } }) },
    {
      name: 'the problem is Exhausted',
      problem: problemWith({ state: 'Waiting' }, { status: { phase: 'Exhausted' } }),
    },
    {
      name: 'the problem is Unhandled',
      problem: problemWith({ state: 'Running' }, { status: { phase: 'Unhandled' } }),
    },
  ])('refuses a report that came too late: $name', async ({ problem }) => {
    api.put(problem);
    expect(await store.record(report())).toMatchObject({
      kind: 'finished',
      message: expect.stringMatching(/too late/) as unknown,
    });
    expect(api.patches).toBe(0);
    expect(api.attempt(2)?.execution?.callbackStatus).toBeUndefined();
  });

  const [ns, name, index, uid] = ACTION_ID.split('~') as [string, string, string, string];
  it.each<{ name: string; actionId: string; stored?: boolean }>([
    { name: 'not an action id', actionId: 'restart-carts' },
    { name: 'too many parts', actionId: `${ACTION_ID}~je-test~x` },
    { name: 'a task name that cannot be one', actionId: `${ACTION_ID}~je.test` },
    { name: 'an index that is not a number', actionId: [ns, name, 'two', uid].join('~') },
    { name: 'index 0', actionId: [ns, name, '0', uid].join('~') },
    { name: 'an empty name', actionId: [ns, '', index, uid].join('~') },
    { name: 'another uid (a re-created ProblemEvent)', actionId: [ns, name, index, '000000000000'].join('~') },
    { name: 'an attempt that does not exist', actionId: [ns, name, '3', uid].join('~') },
    { name: 'an attempt that never called out', actionId: [ns, name, '1', uid].join('~') },
    { name: 'another namespace', actionId: ['other', name, index, uid].join('~') },
    { name: 'a ProblemEvent that is gone', actionId: ACTION_ID, stored: false },
  ])('answers unknown for $name', async ({ actionId, stored = true }) => {
    if (stored) api.put(problemWith({ state: 'Waiting' }));
    const outcome = await store.record(report({ actionId }));
    expect(outcome).toEqual({ kind: 'unknown', message: `no action ${actionId} is waiting for a report` });
    expect(api.patches).toBe(0);
  });

  describe('tasks of the remediation sequence after the action', () => {
    const TASK_ID = `${ACTION_ID}~je-test`;
    /** Attempt 2's action succeeded; its je-test task was sent and is waiting. */
    const withTask = (task: Partial<SequenceTaskRun> = {}): ProblemEvent =>
      problemWith(
        { state: 'Succeeded' },
        {
          attempt: {
            appliedTime: '2026-11-22T11:59:00Z',
            tasks: [{ name: 'je-test', id: TASK_ID, state: 'Waiting', executor: 'keptn', ...task }],
          },
        },
      );

    it('records sh.keptn.event.je-test.finished on the task, not on the action', async () => {
      api.put(withTask());
      expect(
        await store.record(
          report({
            actionId: TASK_ID,
            task: 'je-test',
            status: 'failed',
            message: 'locust: 12 failures',
            via: 'keptn',
          }),
        ),
      ).toEqual({ kind: 'recorded' });
      expect(api.attempt(2)?.tasks).toEqual([
        {
          name: 'je-test',
          id: TASK_ID,
          state: 'Waiting',
          executor: 'keptn',
          callbackStatus: 'failed',
          callbackMessage: 'locust: 12 failures',
          callbackTime: NOW.toISOString(),
        },
      ]);
      expect(api.attempt(2)?.execution?.callbackStatus).toBeUndefined();
    });

    it('takes a runbook-style callback for a task id too', async () => {
      api.put(withTask());
      expect(await store.record(report({ actionId: TASK_ID }))).toEqual({ kind: 'recorded' });
      expect(api.attempt(2)?.tasks?.[0]?.callbackStatus).toBe('succeeded');
    });

    it.each<{ name: string; report: Partial<ActionReport> }>([
      { name: 'an action.finished for the task id', report: { actionId: TASK_ID, task: 'action', via: 'keptn' } },
      { name: 'a je-test.finished for the action id', report: { actionId: ACTION_ID, task: 'je-test', via: 'keptn' } },
      {
        name: 'another task of the same attempt',
        report: { actionId: `${ACTION_ID}~other-test`, task: 'other-test', via: 'keptn' },
      },
    ])('answers unknown for $name', async ({ report: overrides }) => {
      api.put(withTask());
      expect(await store.record(report(overrides))).toMatchObject({ kind: 'unknown' });
      expect(api.patches).toBe(0);
    });

    it('refuses a report after the task is over', async () => {
      api.put(withTask({ state: 'Failed' }));
      expect(await store.record(report({ actionId: TASK_ID, task: 'je-test', via: 'keptn' }))).toMatchObject({
        kind: 'finished',
        message: expect.stringMatching(/^task je-test .* too late/) as unknown,
      });
      expect(api.patches).toBe(0);
    });
  });

  it('retries a conflicting write on a fresh read, keeping what the other writer wrote', async () => {
    api.put(problemWith({ state: 'Running' }));
    // The loop records that the call went out between our read and our write.
    api.beforePatch = () =>
      api.writeBehind('sockshop', 'p1', (s) => ({
        ...s,
        attempts: (s.attempts ?? []).map((a) =>
          a.index === 2 && a.execution
            ? { ...a, execution: { ...a.execution, state: 'Waiting', responseCode: 202 } }
            : a,
        ),
      }));
    expect(await store.record(report())).toEqual({ kind: 'recorded' });
    expect(api.gets).toBe(2);
    expect(api.patches).toBe(2);
    expect(api.attempt(2)?.execution).toMatchObject({
      state: 'Waiting',
      responseCode: 202,
      callbackStatus: 'succeeded',
    });
  });

  it('gives up after 5 conflicting writes and throws the conflict', async () => {
    api.put(problemWith({ state: 'Waiting' }));
    api.alwaysConflict = true;
    await expect(store.record(report())).rejects.toMatchObject({ code: 'KubeConflict' });
    expect(api.patches).toBe(5);
    expect(api.gets).toBe(5);
  });

  it('throws other write errors at once', async () => {
    api.put(problemWith({ state: 'Waiting' }));
    api.beforePatch = () => api.objects.clear();
    await expect(store.record(report())).rejects.toMatchObject({ code: 'KubeNotFound' });
    expect(api.patches).toBe(1);
  });

  it('keeps at most 4096 characters of the message', async () => {
    api.put(problemWith({ state: 'Waiting' }));
    await store.record(report({ message: 'x'.repeat(5000) }));
    expect(api.attempt(2)?.execution?.callbackMessage).toBe('x'.repeat(4096));
  });
});

/** A store that remembers what it was given and answers per action id. */
class RecordingStore implements ActionCallbackStore {
  readonly reports: ActionReport[] = [];
  readonly outcomes = new Map<string, RecordOutcome>();

  record(report: ActionReport): Promise<RecordOutcome> {
    this.reports.push(report);
    return Promise.resolve(this.outcomes.get(report.actionId) ?? { kind: 'recorded' });
  }
}

const TOKEN = 'ingest-token-8c1e5a2f';

async function listen(options: IngestServerOptions): Promise<{ url: string; server: Server }> {
  const server = createServer(createIngestHandler(options));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`, server };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

describe('the HTTP ways in, with actions on', () => {
  const store = new RecordingStore();
  const sunk: MappedProblem[][] = [];
  let url = '';
  let server: Server;

  beforeAll(async () => {
    ({ url, server } = await listen({
      tokens: () => [TOKEN],
      actions: store,
      sink: {
        store: (problems) => {
          sunk.push([...problems]);
          return Promise.resolve(problems.map((p) => ({ name: p.name, outcome: 'created' as const })));
        },
      },
    }));
  });
  afterAll(async () => {
    await stop(server);
  });
  beforeEach(() => {
    store.reports.length = 0;
    store.outcomes.clear();
    sunk.length = 0;
  });

  const post = async (
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
    method = 'POST',
  ): Promise<Answer> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', ...headers },
      ...(method === 'GET' ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const finished = (id: string): string => `/v1/actions/${encodeURIComponent(id)}/finished`;

  describe('POST /v1/actions/<id>/finished', () => {
    it('records a runbook report and answers 200 recorded', async () => {
      const answer = await post(finished(ACTION_ID), { status: 'failed', message: 'the job crashed' });
      expect(answer).toEqual({ status: 200, body: { recorded: true, actionId: ACTION_ID } });
      expect(store.reports).toEqual([
        { actionId: ACTION_ID, status: 'failed', message: 'the job crashed', via: 'callback' },
      ]);
    });

    it('takes a report without a message', async () => {
      expect((await post(finished(ACTION_ID), { status: 'succeeded' })).status).toBe(200);
      expect(store.reports).toEqual([{ actionId: ACTION_ID, status: 'succeeded', message: '', via: 'callback' }]);
    });

    it('answers a duplicate with 200 recorded: false', async () => {
      store.outcomes.set(ACTION_ID, { kind: 'duplicate' });
      expect(await post(finished(ACTION_ID), { status: 'succeeded' })).toMatchObject({
        status: 200,
        body: { recorded: false, actionId: ACTION_ID },
      });
    });

    it.each<{ name: string; headers: Record<string, string>; error: RegExp }>([
      { name: 'no bearer token', headers: { Authorization: '' }, error: /missing bearer token/ },
      {
        name: 'a wrong bearer token',
        headers: { Authorization: 'Bearer not-the-token' },
        error: /invalid bearer token/,
      },
    ])('refuses $name with 401', async ({ headers, error }) => {
      const response = await fetch(`${url}${finished(ACTION_ID)}`, {
        method: 'POST',
        headers: Object.fromEntries(
          Object.entries({ 'Content-Type': 'application/json', ...headers }).filter(([, v]) => v !== ''),
        ),
        body: JSON.stringify({ status: 'succeeded' }),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="rebound"/);
      expect(((await response.json()) as { error: string }).error).toMatch(error);
      expect(store.reports).toEqual([]);
    });

    it.each<{ name: string; body: unknown; field: string | null; error: RegExp }>([
      { name: 'a body that is not JSON', body: '{"status": succeeded', field: null, error: /not valid JSON/ },
      { name: 'a JSON array', body: [], field: null, error: /JSON object/ },
      {
        name: 'no status',
        body: { message: 'done' },
        field: 'status',
        error: /status must be one of succeeded, failed/,
      },
      { name: 'a Keptn status', body: { status: 'errored' }, field: 'status', error: /status must be one of/ },
      {
        name: 'a status that is not a string',
        body: { status: true },
        field: 'status',
        error: /status must be one of/,
      },
      {
        name: 'a message that is not a string',
        body: { status: 'succeeded', message: { text: 'done' } },
        field: 'message',
        error: /message must be a string/,
      },
    ])('refuses $name with 400', async ({ body, field, error }) => {
      const answer = await post(finished(ACTION_ID), body);
      expect(answer.status).toBe(400);
      expect(answer.body['field']).toBe(field);
      expect(answer.body['error']).toMatch(error);
      expect(store.reports).toEqual([]);
    });

    it('answers 404 for an action nobody waits for, 409 for one that is over', async () => {
      store.outcomes.set('a~b~1~c', { kind: 'unknown', message: 'no action a~b~1~c is waiting for a report' });
      store.outcomes.set('a~b~2~c', { kind: 'finished', message: 'action a~b~2~c is over' });
      expect(await post(finished('a~b~1~c'), { status: 'succeeded' })).toEqual({
        status: 404,
        body: { error: 'no action a~b~1~c is waiting for a report', field: null },
      });
      expect(await post(finished('a~b~2~c'), { status: 'succeeded' })).toEqual({
        status: 409,
        body: { error: 'action a~b~2~c is over', field: null },
      });
    });

    it('decodes the id from the path', async () => {
      await post('/v1/actions/sockshop%7Ep1%7E2%7Eabc/finished', { status: 'succeeded' });
      expect(store.reports.map((r) => r.actionId)).toEqual(['sockshop~p1~2~abc']);
    });

    it('answers 404, not 500, for an id that is not valid percent-encoding', async () => {
      const answer = await post('/v1/actions/sockshop%E0%A4%A/finished', { status: 'succeeded' });
      expect(answer.status).toBe(404);
      expect(answer.body['error']).toMatch(/not valid percent-encoding/);
      expect(store.reports).toEqual([]);
    });

    it('allows only POST (405 with Allow)', async () => {
      const response = await fetch(`${url}${finished(ACTION_ID)}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      await response.text();
    });

    it.each([
      '/v1/actions/x/other',
      '/v1/actions/x',
      '/v1/actions/x/finished/more',
      '/v1/actions//finished',
      '/v1/actions/',
    ])('answers 404 for %s', async (path) => {
      expect((await post(path, { status: 'succeeded' })).status).toBe(404);
      expect(store.reports).toEqual([]);
    });

    it('does not let the prefix swallow /v1/actionsX', async () => {
      const answer = await post('/v1/actionsX/a~b~1~c/finished', { status: 'succeeded' });
      expect(answer.status).toBe(404);
      expect(answer.body['error']).toMatch(/^no route for \/v1\/actionsX/);
      expect(store.reports).toEqual([]);
    });
  });

  describe('Keptn action events on /v1/events', () => {
    const keptnEvent = (
      type: string,
      data: unknown,
      triggeredid: string | null = ACTION_ID,
    ): Record<string, unknown> => ({
      specversion: '1.0',
      id: 'b3f0c6a2-55d1-4a3e-8f0e-2a9d7c1e4b60',
      source: 'job-executor-service',
      type,
      ...(triggeredid === null ? {} : { triggeredid }),
      data,
    });
    const send = (event: unknown): Promise<Answer> =>
      post('/v1/events', event, { 'Content-Type': 'application/cloudevents+json' });

    it.each<{ name: string; data: Record<string, unknown>; status: 'succeeded' | 'failed'; message: string }>([
      {
        name: 'succeeded with result pass',
        data: { status: 'succeeded', result: 'pass', message: 'flag off' },
        status: 'succeeded',
        message: 'flag off; status succeeded; result pass',
      },
      {
        name: 'succeeded without a result',
        data: { status: 'succeeded' },
        status: 'succeeded',
        message: 'status succeeded',
      },
      {
        name: 'succeeded with result warning',
        data: { status: 'succeeded', result: 'warning' },
        status: 'succeeded',
        message: 'status succeeded; result warning',
      },
      {
        name: 'succeeded with result fail',
        data: { status: 'succeeded', result: 'fail', message: 'flag missing' },
        status: 'failed',
        message: 'flag missing; status succeeded; result fail',
      },
      {
        name: 'errored',
        data: { status: 'errored', result: 'fail', message: 'no such job' },
        status: 'failed',
        message: 'no such job; status errored; result fail',
      },
    ])('records action.finished $name as $status', async ({ data, status, message }) => {
      const answer = await send(keptnEvent('sh.keptn.event.action.finished', data));
      expect(answer).toEqual({ status: 200, body: { recorded: true, actionId: ACTION_ID } });
      expect(store.reports).toEqual([{ actionId: ACTION_ID, task: 'action', status, message, via: 'keptn' }]);
      expect(sunk).toEqual([]);
    });

    it('takes action.finished in binary mode (ce-* headers)', async () => {
      const answer = await post(
        '/v1/events',
        { status: 'succeeded', result: 'pass' },
        {
          'ce-specversion': '1.0',
          'ce-id': 'e1',
          'ce-source': 'executor',
          'ce-type': 'sh.keptn.event.action.finished',
          'ce-triggeredid': ACTION_ID,
        },
      );
      expect(answer.status).toBe(200);
      expect(store.reports).toEqual([
        {
          actionId: ACTION_ID,
          task: 'action',
          status: 'succeeded',
          message: 'status succeeded; result pass',
          via: 'keptn',
        },
      ]);
    });

    it('answers a 409 for a finished report on an action that is over', async () => {
      store.outcomes.set(ACTION_ID, { kind: 'finished', message: 'too late' });
      expect(
        (await send(keptnEvent('sh.keptn.event.action.finished', { status: 'succeeded', result: 'pass' }))).status,
      ).toBe(409);
    });

    it('accepts action.started with 202 without touching the store', async () => {
      const answer = await send(keptnEvent('sh.keptn.event.action.started', { project: 'sockshop' }));
      expect(answer).toEqual({ status: 202, body: { accepted: true, actionId: ACTION_ID } });
      expect(store.reports).toEqual([]);
      expect(sunk).toEqual([]);
    });

    it.each<{ name: string; event: Record<string, unknown>; field: string }>([
      {
        name: 'an unknown status',
        event: keptnEvent('sh.keptn.event.action.finished', { status: 'done' }),
        field: 'data.status',
      },
      {
        name: 'an unknown result',
        event: keptnEvent('sh.keptn.event.action.finished', { status: 'succeeded', result: 'great' }),
        field: 'data.result',
      },
      {
        name: 'a message that is not a string',
        event: keptnEvent('sh.keptn.event.action.finished', { status: 'succeeded', message: 42 }),
        field: 'data.message',
      },
      { name: 'no data', event: keptnEvent('sh.keptn.event.action.finished', undefined), field: 'data' },
      {
        name: 'no triggeredid',
        event: keptnEvent('sh.keptn.event.action.finished', { status: 'succeeded' }, null),
        field: 'triggeredid',
      },
      {
        name: 'a started event without triggeredid',
        event: keptnEvent('sh.keptn.event.action.started', {}, null),
        field: 'triggeredid',
      },
    ])('refuses $name with 400 naming $field, never taking it for a problem', async ({ event, field }) => {
      const answer = await send(event);
      expect(answer.status).toBe(400);
      expect(answer.body['field']).toBe(field);
      expect(store.reports).toEqual([]);
      expect(sunk).toEqual([]);
    });

    it('still takes a remediation.triggered CloudEvent as a problem', async () => {
      const answer = await send({
        specversion: '1.0',
        id: '0d3c8c46-1b4e-5c8f-9a8b-1f8c2e3d4a5b',
        source: 'prometheus',
        type: 'sh.keptn.event.production.remediation.triggered',
        data: {
          project: 'sockshop',
          stage: 'production',
          service: 'carts',
          problem: { problemTitle: 'response_time_p90' },
        },
      });
      expect(answer.status).toBe(200);
      expect(sunk).toHaveLength(1);
      expect(sunk[0]?.[0]?.spec).toMatchObject({
        project: 'sockshop',
        stage: 'production',
        service: 'carts',
        problemTitle: 'response_time_p90',
        state: 'OPEN',
      });
      expect(store.reports).toEqual([]);
    });
  });
});

describe('the HTTP ways in, with actions off', () => {
  let url = '';
  let server: Server;

  beforeAll(async () => {
    ({ url, server } = await listen({
      tokens: () => [TOKEN],
      sink: { store: () => Promise.reject(new Error('no problem expected')) },
    }));
  });
  afterAll(async () => {
    await stop(server);
  });

  it('has no /v1/actions route', async () => {
    const response = await fetch(`${url}/v1/actions/${ACTION_ID}/finished`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ status: 'succeeded' }),
    });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: string };
    expect(body.error).toMatch(/^no route for \/v1\/actions\//);
    expect(body.error).not.toMatch(/\/v1\/actions\/…/);
  });
});
