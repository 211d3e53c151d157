// The Unleash client against a real Unleash 8.2 (with its own PostgreSQL) on loopback: the state is
// checked through Unleash's admin API after every call, and its event log holds one switch per change.
// (That no request is sent when nothing changes is proven in src/actions/unleash.test.ts.)
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type UnleashSettings, setUnleashFeature } from '../../src/actions/unleash.ts';
import { ReboundError } from '../../src/errors.ts';
import {
  type LocalUnleash,
  createUnleashFeature,
  startUnleash,
  unleashAdminApi,
  unleashFeatureStates,
} from '../harness/unleash.ts';

let unleash: LocalUnleash;

async function createFeature(): Promise<string> {
  const name = `rebound-${randomBytes(4).toString('hex')}`;
  await createUnleashFeature(unleash, name);
  return name;
}

/** How many times the flag was switched in an environment, from Unleash's event log. */
async function switches(feature: string): Promise<number> {
  const body = await unleashAdminApi<{ events: { type: string }[] }>(unleash, `/api/admin/events/${feature}`);
  return body.events.filter(
    (e) => e.type === 'feature-environment-enabled' || e.type === 'feature-environment-disabled',
  ).length;
}

async function rejection(promise: Promise<unknown>): Promise<ReboundError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ReboundError)) throw new Error(`expected a ReboundError, got ${String(err)}`);
  return err;
}

const ROOT_ROLES = { editor: 2, viewer: 3 } as const;

/** A personal access token of a new user with Unleash's Editor or Viewer root role. */
async function personalAccessToken(role: keyof typeof ROOT_ROLES): Promise<string> {
  const username = `${role}-${randomBytes(4).toString('hex')}`;
  const password = `Rb1!${randomBytes(12).toString('hex')}`;
  await unleashAdminApi(unleash, '/api/admin/user-admin', {
    method: 'POST',
    body: { username, email: `${username}@example.com`, rootRole: ROOT_ROLES[role], password, sendEmail: false },
  });
  // PATs are made by the user, in a session.
  const login = await fetch(`${unleash.url}/auth/simple/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
    signal: AbortSignal.timeout(10_000),
  });
  expect(login.status).toBe(200);
  // express-session sends the headers (the cookie) and all but the last byte of the body, saves the
  // session to PostgreSQL, and only then ends the body: a request made on the headers alone may
  // reach Unleash before the session exists, and is answered 401. The whole body means it is saved.
  await login.text();
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const res = await fetch(`${unleash.url}/api/admin/user/tokens`, {
    method: 'POST',
    headers: { Cookie: cookie, 'Content-Type': 'application/json' },
    body: JSON.stringify({ description: 'rebound', expiresAt: new Date(Date.now() + 86_400_000).toISOString() }),
    signal: AbortSignal.timeout(10_000),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { secret: string }).secret;
}

function settings(overrides: Partial<UnleashSettings> = {}): UnleashSettings {
  return { url: unleash.url, token: unleash.adminToken, environment: 'production', ...overrides };
}

beforeAll(async () => {
  unleash = await startUnleash();
  console.log(
    `[unleash] PostgreSQL ready in ${String(unleash.startupMs.postgres)} ms, Unleash (migrations included) in ${String(unleash.startupMs.unleash)} ms at ${unleash.url}`,
  );
});

afterAll(async () => {
  await unleash?.stop();
});

describe('setUnleashFeature against Unleash 8.2', () => {
  it('ships the development and production environments', async () => {
    const body = await unleashAdminApi<{ environments: { name: string; enabled: boolean }[] }>(
      unleash,
      '/api/admin/environments',
    );
    expect(body.environments.filter((e) => e.enabled).map((e) => e.name)).toEqual(['development', 'production']);
  });

  it('enables and disables a flag in one environment, once, with or without /api in the URL', async () => {
    const feature = await createFeature();
    expect(await unleashFeatureStates(unleash, feature)).toEqual({ development: false, production: false });

    const on = await setUnleashFeature(settings({ url: `${unleash.url}/api` }), feature, true);
    expect(on).toMatchObject({ feature, enabled: true, previous: false, changed: true });
    expect(await unleashFeatureStates(unleash, feature)).toEqual({ development: false, production: true });

    const again = await setUnleashFeature(settings({ url: `${unleash.url}/` }), feature, true);
    expect(again).toMatchObject({ enabled: true, previous: true, changed: false });
    expect(again.detail).toContain('already enabled');
    expect(await switches(feature)).toBe(1);

    const off = await setUnleashFeature(settings({ url: `${unleash.url}/api/` }), feature, false);
    expect(off).toMatchObject({ enabled: false, previous: true, changed: true });
    expect(await unleashFeatureStates(unleash, feature)).toEqual({ development: false, production: false });

    const offAgain = await setUnleashFeature(settings(), feature, false);
    expect(offAgain).toMatchObject({ previous: false, changed: false });
    expect(await switches(feature)).toBe(2);
  });

  it('UnleashUnauthorized for a token Unleash does not know (401), and for one not made for the admin API (403)', async () => {
    const feature = await createFeature();
    const wrongToken = `*:*.${randomBytes(24).toString('hex')}`;
    const unknown = await rejection(setUnleashFeature(settings({ token: wrongToken }), feature, true));
    expect(unknown).toMatchObject({ reason: 'UnleashUnauthorized', retryable: false });
    expect(unknown.message).toContain('401');
    expect(unknown.message).not.toContain(wrongToken.slice(4));

    const backend = await unleashAdminApi<{ secret: string }>(unleash, '/api/admin/api-tokens', {
      method: 'POST',
      body: { tokenName: 'rebound-backend', type: 'backend', environment: 'production', projects: ['*'] },
    });
    const forbidden = await rejection(setUnleashFeature(settings({ token: backend.secret }), feature, true));
    expect(forbidden).toMatchObject({ reason: 'UnleashUnauthorized', retryable: false });
    expect(forbidden.message).toContain('403');
    expect(forbidden.message).not.toContain(backend.secret.split('.')[1]);
    expect(await unleashFeatureStates(unleash, feature)).toEqual({ development: false, production: false });
  });

  it("works with an Editor's personal access token; a Viewer's may read but not switch", async () => {
    const feature = await createFeature();
    const viewer = await rejection(
      setUnleashFeature(settings({ token: await personalAccessToken('viewer') }), feature, true),
    );
    expect(viewer).toMatchObject({ reason: 'UnleashUnauthorized', retryable: false });
    expect(viewer.message).toContain('turning on');
    expect(viewer.message).toContain('UPDATE_FEATURE_ENVIRONMENT');
    expect(await unleashFeatureStates(unleash, feature)).toEqual({ development: false, production: false });

    const editor = await setUnleashFeature(settings({ token: await personalAccessToken('editor') }), feature, true);
    expect(editor).toMatchObject({ previous: false, changed: true });
    expect(await unleashFeatureStates(unleash, feature)).toEqual({ development: false, production: true });
  });

  it('UnleashFeatureNotFound naming the feature, project and environment when one of them is missing', async () => {
    const feature = await createFeature();
    const cases: [string, Partial<UnleashSettings>][] = [
      ['no-such-flag', {}],
      [feature, { project: 'no-such-project' }],
      [feature, { environment: 'staging' }],
    ];
    for (const [name, overrides] of cases) {
      const err = await rejection(setUnleashFeature(settings(overrides), name, true));
      expect(err).toMatchObject({ reason: 'UnleashFeatureNotFound', retryable: false });
      expect(err.message).toContain(
        `feature "${name}" in project "${overrides.project ?? 'default'}", environment "${overrides.environment ?? 'production'}"`,
      );
    }
  });

  // Last: it stops the server.
  it('UnleashUnavailable, retryable, once Unleash is stopped', async () => {
    const feature = await createFeature();
    await unleash.stop();
    const err = await rejection(setUnleashFeature(settings({ timeoutMs: 5_000 }), feature, true));
    expect(err).toMatchObject({ reason: 'UnleashUnavailable', retryable: true });
    expect(err.message).toContain(unleash.url);
  });
});
