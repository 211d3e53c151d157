// The webhook action: which call an action's value means (resolveWebhook, no I/O), and the call itself
// against a real HTTP server on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import type { Attempt, ProblemEvent, Project, Remediation, RemediationAction, WebhookSpec } from '../api/index.ts';
import type { SecretReader } from '../kube/secrets.ts';
import { ReboundError } from '../errors.ts';
import { closeServers, serve, status } from './recording-server.test-helper.ts';
import type { Seen } from './recording-server.test-helper.ts';
import type { ActionContext, ActionScope } from './types.ts';
import { resolveWebhook, WebhookAction } from './webhook.ts';
import type { ResolvedWebhook, WebhookActionOptions } from './webhook.ts';
import { FakeClock } from '../runtime/clock.ts';

describe('resolveWebhook', () => {
  const HOST = 'runbooks.example.com';
  const defaults: Omit<ResolvedWebhook, 'url' | 'allowedHosts'> = {
    method: 'POST',
    headers: {},
    timeoutMs: 10_000,
    retries: 3,
    waitForCallback: false,
    callbackTimeoutMs: 30 * 60_000,
  };

  it('refuses every value when the Remediation has no spec.webhook', () => {
    expect(resolveWebhook(`https://${HOST}/restart`, undefined)).toEqual({
      ok: false,
      reason: 'WebhookNotConfigured',
      message: expect.stringMatching(/spec\.webhook\.allowedHosts/) as unknown,
    });
  });

  it('finds an endpoint by name, with the built-in defaults', () => {
    const spec: WebhookSpec = {
      allowedHosts: [HOST],
      endpoints: [{ name: 'restart', url: `https://${HOST}/jobs/restart` }],
    };
    expect(resolveWebhook('restart', spec)).toEqual({
      ok: true,
      webhook: { ...defaults, url: `https://${HOST}/jobs/restart`, endpoint: 'restart', allowedHosts: [HOST] },
    });
  });

  it('takes a URL as it is, with the spec defaults', () => {
    const spec: WebhookSpec = {
      allowedHosts: [HOST],
      method: 'PUT',
      retries: 0,
      timeout: '2s',
      headers: { 'X-Team': 'carts' },
      secretRef: { name: 'runbook-token' },
    };
    const resolved = resolveWebhook(`http://${HOST}/hooks/scale?team=carts`, spec);
    expect(resolved).toEqual({
      ok: true,
      webhook: {
        ...defaults,
        url: `http://${HOST}/hooks/scale?team=carts`,
        method: 'PUT',
        retries: 0,
        timeoutMs: 2_000,
        headers: { 'X-Team': 'carts' },
        secretName: 'runbook-token',
        allowedHosts: [HOST],
      },
    });
    expect(resolved.ok && 'endpoint' in resolved.webhook).toBe(false);
  });

  it('lets an endpoint override every default of the spec, merging headers', () => {
    const spec: WebhookSpec = {
      allowedHosts: [HOST],
      method: 'PUT',
      timeout: '5s',
      retries: 2,
      waitForCallback: true,
      callbackTimeout: '10m',
      headers: { 'X-Team': 'carts', 'X-Source': 'spec' },
      secretRef: { name: 'spec-secret' },
      endpoints: [
        {
          name: 'restart',
          url: `https://${HOST}/restart`,
          method: 'POST',
          timeout: '1500ms',
          retries: 0,
          waitForCallback: false,
          callbackTimeout: '1m',
          headers: { 'X-Source': 'endpoint', 'X-Job': '17' },
          secretRef: { name: 'endpoint-secret' },
        },
        { name: 'inherit', url: `https://${HOST}/inherit` },
      ],
    };
    expect(resolveWebhook('restart', spec)).toEqual({
      ok: true,
      webhook: {
        url: `https://${HOST}/restart`,
        endpoint: 'restart',
        method: 'POST',
        secretName: 'endpoint-secret',
        headers: { 'X-Team': 'carts', 'X-Source': 'endpoint', 'X-Job': '17' },
        timeoutMs: 1_500,
        retries: 0,
        waitForCallback: false,
        callbackTimeoutMs: 60_000,
        allowedHosts: [HOST],
      },
    });
    expect(resolveWebhook('inherit', spec)).toEqual({
      ok: true,
      webhook: {
        url: `https://${HOST}/inherit`,
        endpoint: 'inherit',
        method: 'PUT',
        secretName: 'spec-secret',
        headers: { 'X-Team': 'carts', 'X-Source': 'spec' },
        timeoutMs: 5_000,
        retries: 2,
        waitForCallback: true,
        callbackTimeoutMs: 10 * 60_000,
        allowedHosts: [HOST],
      },
    });
  });

  it('refuses an unknown name, listing the endpoints there are', () => {
    const spec: WebhookSpec = {
      allowedHosts: [HOST],
      endpoints: [
        { name: 'restart', url: `https://${HOST}/a` },
        { name: 'drain', url: `https://${HOST}/b` },
      ],
    };
    expect(resolveWebhook('reboot', spec)).toEqual({
      ok: false,
      reason: 'WebhookNotConfigured',
      message: 'webhook "reboot" is not in spec.webhook.endpoints (restart, drain) and is not an http(s) URL',
    });
    expect(resolveWebhook('reboot', { allowedHosts: [HOST] })).toEqual({
      ok: false,
      reason: 'WebhookNotConfigured',
      message: 'webhook "reboot" is not in spec.webhook.endpoints and is not an http(s) URL',
    });
  });

  it.each<{ name: string; value: string; spec: WebhookSpec }>([
    { name: 'a URL on another host', value: 'http://169.254.169.254/latest/meta-data', spec: { allowedHosts: [HOST] } },
    {
      name: 'an endpoint on another host',
      value: 'internal',
      spec: { allowedHosts: [HOST], endpoints: [{ name: 'internal', url: 'http://kubernetes.default.svc/api' }] },
    },
    { name: 'any URL when allowedHosts is empty', value: `https://${HOST}/restart`, spec: {} },
  ])('refuses $name as WebhookHostNotAllowed', ({ value, spec }) => {
    expect(resolveWebhook(value, spec)).toMatchObject({
      ok: false,
      reason: 'WebhookHostNotAllowed',
      message: expect.stringMatching(/is not allowed/) as unknown,
    });
  });

  it.each<{ field: string; spec: WebhookSpec }>([
    { field: 'timeout', spec: { allowedHosts: [HOST], timeout: 'soon' } },
    {
      field: 'callbackTimeout',
      spec: {
        allowedHosts: [HOST],
        endpoints: [{ name: 'restart', url: `https://${HOST}/r`, callbackTimeout: '10 minutes' }],
      },
    },
  ])('refuses a $field that is not a duration', ({ spec }) => {
    const value = spec.endpoints ? 'restart' : `https://${HOST}/r`;
    expect(resolveWebhook(value, spec)).toMatchObject({
      ok: false,
      reason: 'WebhookNotConfigured',
      message: expect.stringMatching(/^spec\.webhook: .* is not a duration/) as unknown,
    });
  });
});

afterEach(closeServers);

const NOW = new Date('2026-11-22T12:00:00.000Z');
const ACTION_ID = 'sockshop~p1~2~6a1c3f0e2d4b';
const TOKEN = 'runbook-token-3b9e7d1c5a';

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
    source: 'alertmanager',
  },
};
const project: Project = {
  apiVersion: 'rebound.dev/v1alpha1',
  kind: 'Project',
  metadata: { name: 'sockshop', namespace: 'sockshop' },
  spec: { git: { url: 'http://127.0.0.1/x.git' } },
};

function remediationWith(webhook: WebhookSpec): Remediation {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Remediation',
    metadata: { name: 'carts-production', namespace: 'sockshop' },
    spec: {
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      remediations: [
        { problemType: 'default', actionsOnOpen: [{ name: 'restart carts', action: 'webhook', value: 'restart' }] },
      ],
      webhook,
    },
  };
}

function scope(webhook: WebhookSpec | undefined): ActionScope {
  return {
    problem,
    project,
    stage: {
      name: 'production',
      branch: 'production',
      namespace: 'sockshop-production',
      remediation: 'automated',
      apply: 'none',
    },
    remediation: webhook ? remediationWith(webhook) : undefined,
  };
}

function context(webhook: WebhookSpec | undefined, value: string, attempt: Partial<Attempt> = {}): ActionContext {
  const unused = (): Promise<never> => Promise.reject(new Error('a webhook action never touches Git'));
  return {
    ...scope(webhook),
    attempt: { index: 2, name: 'restart carts', action: 'webhook', value, ...attempt },
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

/** Secrets by namespace/name, remembering which were read. */
function secrets(data: Record<string, Record<string, string>>): SecretReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    readSecret: (namespace, name) => {
      reads.push(`${namespace}/${name}`);
      return Promise.resolve(data[`${namespace}/${name}`]);
    },
  };
}

function webhookAction(overrides: Partial<WebhookActionOptions> = {}): WebhookAction {
  return new WebhookAction({
    secrets: secrets({}),
    callbackBaseUrl: () => 'http://rebound.rebound-system.svc:8080/',
    clock: new FakeClock(NOW.getTime()),
    ...overrides,
  });
}

describe('WebhookAction.run', () => {
  it('posts the problem and the attempt, and is done on a 2xx when it does not wait for a callback', async () => {
    const server = await serve(status(202));
    const spec: WebhookSpec = {
      allowedHosts: [server.host],
      headers: { 'X-Team': 'carts' },
      endpoints: [{ name: 'restart', url: `${server.url}/jobs/restart` }],
    };
    const outcome = await webhookAction().run(context(spec, 'restart'));

    expect(server.seen).toHaveLength(1);
    const request = server.seen[0] as Seen;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/jobs/restart');
    expect(request.headers['idempotency-key']).toBe(ACTION_ID);
    expect(request.headers['x-team']).toBe('carts');
    expect(request.headers['authorization']).toBeUndefined();
    expect(JSON.parse(request.body)).toEqual({
      type: 'rebound.action.triggered',
      actionId: ACTION_ID,
      problem: {
        namespace: 'sockshop',
        name: 'p1',
        uid: '6a1c3f0e-2d4b-4c7e-9a31-0f3a2d1b9c11',
        project: 'sockshop',
        stage: 'production',
        service: 'carts',
        title: 'response_time_p90',
        rootCause: 'HighLatency',
        state: 'OPEN',
        source: 'alertmanager',
      },
      attempt: { index: 2, name: 'restart carts', action: 'webhook', value: 'restart' },
      links: { problemEvent: 'sockshop/p1' },
    });
    expect(outcome).toEqual({
      kind: 'done',
      detail: `webhook restart (${server.url}/jobs/restart) answered 202`,
      execution: {
        executor: 'webhook',
        target: `restart (${server.url}/jobs/restart)`,
        tries: 1,
        responseCode: 202,
        message: `webhook restart (${server.url}/jobs/restart) answered 202`,
      },
    });
  });

  it('with waitForCallback, sends where to call back and waits until clock + callbackTimeout', async () => {
    const server = await serve(status(200));
    const spec: WebhookSpec = {
      allowedHosts: [server.host],
      method: 'PUT',
      waitForCallback: true,
      callbackTimeout: '15m',
    };
    const outcome = await webhookAction().run(context(spec, `${server.url}/hooks/drain`));

    const request = server.seen[0] as Seen;
    expect(request.method).toBe('PUT');
    const body = JSON.parse(request.body) as Record<string, unknown>;
    expect(body['callbackUrl']).toBe(
      'http://rebound.rebound-system.svc:8080/v1/actions/sockshop~p1~2~6a1c3f0e2d4b/finished',
    );
    expect(body['actionId']).toBe(ACTION_ID);
    expect(outcome).toMatchObject({
      kind: 'waiting',
      deadline: new Date(NOW.getTime() + 15 * 60_000),
      execution: { executor: 'webhook', tries: 1, responseCode: 200 },
    });
    expect(outcome.detail).toContain('2026-11-22T12:15:00.000Z');
  });

  it('sends no callbackUrl when the action does not wait, even with a callback base', async () => {
    const server = await serve(status(204));
    await webhookAction().run(context({ allowedHosts: [server.host] }, `${server.url}/hooks`));
    expect(JSON.parse((server.seen[0] as Seen).body)).not.toHaveProperty('callbackUrl');
  });

  it('adds the headers of the Secret, read from the problem’s namespace', async () => {
    const server = await serve(status(200));
    const reader = secrets({ 'sockshop/runbook': { token: TOKEN, 'header.X-Api-Key': 'key-9d8c7b6a5f' } });
    const spec: WebhookSpec = { allowedHosts: [server.host], secretRef: { name: 'runbook' } };
    const outcome = await webhookAction({ secrets: reader }).run(context(spec, `${server.url}/hooks`));
    expect(reader.reads).toEqual(['sockshop/runbook']);
    const headers = (server.seen[0] as Seen).headers;
    expect(headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(headers['x-api-key']).toBe('key-9d8c7b6a5f');
    expect(JSON.stringify(outcome)).not.toContain(TOKEN);
  });

  it('throws SecretNotFound (not retryable) when the Secret is missing, calling nothing', async () => {
    const server = await serve(status(200));
    const spec: WebhookSpec = { allowedHosts: [server.host], secretRef: { name: 'gone' } };
    const error = await webhookAction()
      .run(context(spec, `${server.url}/hooks`))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReboundError);
    expect(error).toMatchObject({
      code: 'SecretNotFound',
      reason: 'SecretNotFound',
      retryable: false,
      message: 'webhook Secret sockshop/gone does not exist',
    });
    expect(server.seen).toEqual([]);
  });

  it('fails with the response code and tries after a 5xx outlasts the retries', async () => {
    // Retry-After: 0 keeps the backoff out of the test.
    const server = await serve(status(500, '', { 'Retry-After': '0' }));
    const spec: WebhookSpec = { allowedHosts: [server.host], retries: 1, timeout: '2s' };
    const outcome = await webhookAction().run(context(spec, `${server.url}/hooks/restart`));
    expect(server.seen).toHaveLength(2);
    expect(outcome).toMatchObject({
      kind: 'failed',
      reason: 'WebhookUnavailable',
      execution: { executor: 'webhook', target: `${server.url}/hooks/restart`, tries: 2, responseCode: 500 },
    });
    expect(outcome.detail).toMatch(/unavailable after 2 tries/);
  });

  it('fails at once on a 4xx, without retrying', async () => {
    const server = await serve(status(403));
    const outcome = await webhookAction().run(
      context({ allowedHosts: [server.host], retries: 3 }, `${server.url}/hooks`),
    );
    expect(server.seen).toHaveLength(1);
    expect(outcome).toMatchObject({
      kind: 'failed',
      reason: 'WebhookRejected',
      execution: { tries: 1, responseCode: 403 },
    });
  });

  it('fails without a response code when the endpoint does not answer in time', async () => {
    const server = await serve(() => undefined);
    const outcome = await webhookAction().run(
      context({ allowedHosts: [server.host], retries: 0, timeout: '50ms' }, `${server.url}/hooks`),
    );
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'WebhookUnavailable', execution: { tries: 1 } });
    expect(outcome.execution).not.toHaveProperty('responseCode');
  });

  it('never puts the query string in the target or the detail', async () => {
    const server = await serve(status(200));
    const secretQuery = 'token=q-secret-71c2e4';
    const outcome = await webhookAction().run(
      context({ allowedHosts: [server.host] }, `${server.url}/hooks/restart?${secretQuery}`),
    );
    expect((server.seen[0] as Seen).path).toBe(`/hooks/restart?${secretQuery}`);
    expect(outcome.execution?.target).toBe(`${server.url}/hooks/restart`);
    expect(JSON.stringify(outcome)).not.toContain('q-secret-71c2e4');
  });

  it('refuses a URL with userinfo before calling it, without quoting the password', async () => {
    const server = await serve(status(200));
    const error = await webhookAction()
      .run(context({ allowedHosts: [server.host] }, `http://ops:pw-5e6f7a8b@${server.host}/hooks`))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'WebhookHostNotAllowed', retryable: false });
    expect(String((error as Error).message)).not.toContain('pw-5e6f7a8b');
    expect(server.seen).toEqual([]);
  });

  it('throws the refusal (not retryable) when the value no longer resolves', async () => {
    const error = await webhookAction()
      .run(context({ allowedHosts: ['runbooks.example.com'] }, 'missing'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReboundError);
    expect(error).toMatchObject({ code: 'WebhookNotConfigured', retryable: false });
  });
});

describe('WebhookAction.check', () => {
  const action = (value: string): RemediationAction => ({ name: 'call the runbook', action: 'webhook', value });
  const HOST = 'runbooks.example.com';

  it('accepts an allowed webhook', () => {
    expect(webhookAction().check(action(`https://${HOST}/r`), scope({ allowedHosts: [HOST] }))).toEqual({ ok: true });
  });

  it('refuses waitForCallback when there is no callback URL', () => {
    const check = webhookAction({ callbackBaseUrl: () => undefined }).check(
      action(`https://${HOST}/r`),
      scope({ allowedHosts: [HOST], waitForCallback: true }),
    );
    expect(check).toMatchObject({
      ok: false,
      reason: 'WebhookNotConfigured',
      message: expect.stringMatching(/waitForCallback needs/) as unknown,
    });
  });

  it('accepts a webhook that does not wait, with no callback URL', () => {
    expect(
      webhookAction({ callbackBaseUrl: () => undefined }).check(
        action(`https://${HOST}/r`),
        scope({ allowedHosts: [HOST] }),
      ),
    ).toEqual({ ok: true });
  });

  it('passes on what resolveWebhook refuses', () => {
    expect(webhookAction().check(action(`https://${HOST}/r`), scope(undefined))).toMatchObject({
      ok: false,
      reason: 'WebhookNotConfigured',
    });
    expect(
      webhookAction().check(action('https://elsewhere.example.com/r'), scope({ allowedHosts: [HOST] })),
    ).toMatchObject({ ok: false, reason: 'WebhookHostNotAllowed' });
  });
});
