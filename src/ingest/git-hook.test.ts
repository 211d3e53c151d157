// The Git push hook mounted on the ingest server, over real HTTP on loopback: signed pushes reach the
// callback, everything else is refused before it.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GitPushEvent } from '../gitstore/hooks.ts';
import { GIT_HOOK_PATH, gitHookRoute } from './git-hook.ts';
import { startIngestServer } from './server.ts';
import type { RunningIngestServer } from './server.ts';
import type { ProblemSink } from './store.ts';

const SECRET = 'git-hook-secret-5e1f';

// The git hook never stores problems; a sink that refuses proves it is never reached.
const refusingSink: ProblemSink = { store: () => Promise.reject(new Error('the git hook must not store problems')) };

const push = {
  ref: 'refs/heads/production',
  after: '3f1c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a',
  repository: { clone_url: 'http://127.0.0.1:3000/rebound/sockshop.git' },
};

describe('POST /hooks/git', () => {
  let server: RunningIngestServer;
  const pushes: GitPushEvent[] = [];

  beforeAll(async () => {
    server = await startIngestServer({
      address: '127.0.0.1:0',
      tokens: () => ['unrelated-bearer-token'],
      sink: refusingSink,
      routes: [gitHookRoute({ secret: () => SECRET, onPush: (event) => pushes.push(event) })],
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const send = (body: string, headers: Record<string, string>): Promise<Response> =>
    fetch(`${server.url}${GIT_HOOK_PATH}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
    });

  it('accepts a GitHub push signed with the secret, without a bearer token', async () => {
    const body = JSON.stringify(push);
    const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    const response = await send(body, { 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': signature });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({
      accepted: 1,
      provider: 'github',
      ref: 'refs/heads/production',
      branch: 'production',
    });
    expect(pushes).toEqual([
      {
        provider: 'github',
        repoUrl: push.repository.clone_url,
        ref: push.ref,
        branch: 'production',
        after: push.after,
      },
    ]);
  });

  it.each<{ name: string; headers: Record<string, string>; status: number; error: RegExp }>([
    {
      name: 'a wrong signature',
      headers: { 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` },
      status: 401,
      error: /signature does not match/,
    },
    {
      name: 'no signature at all',
      headers: { 'X-GitHub-Event': 'push' },
      status: 401,
      error: /no X-Hub-Signature-256/,
    },
    {
      name: 'a signed event that is not a push',
      headers: {
        'X-GitHub-Event': 'issues',
        'X-Hub-Signature-256': `sha256=${createHmac('sha256', SECRET).update(JSON.stringify(push)).digest('hex')}`,
      },
      status: 400,
      error: /not a push event/,
    },
  ])('refuses $name ($status)', async ({ headers, status, error }) => {
    const before = pushes.length;
    const response = await send(JSON.stringify(push), headers);
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: string }).error).toMatch(error);
    expect(pushes).toHaveLength(before);
  });
});

describe('onResponse', () => {
  it('reports each answered request with a bounded route label', async () => {
    const seen: { route: string; status: number }[] = [];
    const server = await startIngestServer({
      address: '127.0.0.1:0',
      tokens: () => ['t0k3n'],
      sink: refusingSink,
      onResponse: ({ route, status, seconds }) => {
        expect(seconds).toBeGreaterThanOrEqual(0);
        seen.push({ route, status });
      },
    });
    try {
      await (await fetch(`${server.url}/v1/alertmanager`, { method: 'POST' })).text();
      await (await fetch(`${server.url}/some/random/path/123`, { method: 'POST' })).text();
    } finally {
      await server.close();
    }
    expect(seen).toEqual([
      { route: '/v1/alertmanager', status: 401 },
      { route: 'unknown', status: 404 },
    ]);
  });
});
