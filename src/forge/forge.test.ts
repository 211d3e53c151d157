// The GitHub and GitLab clients against loopback fakes that check every request field by field
// (Gitea is tested against the real server: test/integration/forge-gitea.test.ts). Also what every
// client shares: the host allow-list, the token never in a message, errors classified once.
import { afterEach, describe, expect, it } from 'vitest';
import { ReboundError } from '../errors.ts';
import { closeFakeForges, fakeForge } from './fake-forge.test-helper.ts';
import { githubApiBase } from './github.ts';
import { createForge } from './index.ts';
import type { ForgeSettings } from './types.ts';

afterEach(closeFakeForges);

const TOKEN = 'forge-token-8d1f2c7a9e';
const SHA = 'a'.repeat(40);

function settings(type: ForgeSettings['type'], url: string, host: string, repository = 'sock/shop'): ForgeSettings {
  return { type, url, repository, token: TOKEN, allowedHosts: [host], timeoutMs: 5_000 };
}

async function rejection(promise: Promise<unknown>): Promise<ReboundError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ReboundError);
  return err as ReboundError;
}

describe('GitHub', () => {
  const pr = {
    number: 7,
    html_url: 'https://github.example/sock/shop/pull/7',
    state: 'open',
    merged: false,
    merge_commit_sha: 'b'.repeat(40),
    head: { sha: SHA },
  };

  it('posts a commit status with the API version header and the description cut at 140', async () => {
    const server = await fakeForge({ [`POST /api/v3/repos/sock/shop/statuses/${SHA}`]: { status: 201, body: {} } });
    const forge = createForge(settings('github', server.url, server.host));
    await forge.setCommitStatus({
      sha: SHA,
      state: 'failure',
      context: 'rebound/production',
      description: `evaluation failed: ${'x'.repeat(200)}`,
      targetUrl: 'https://rebound.example/problems/slow-carts',
    });
    expect(server.seen).toHaveLength(1);
    const [sent] = server.seen;
    expect(sent?.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(sent?.headers['accept']).toBe('application/vnd.github+json');
    expect(sent?.headers['x-github-api-version']).toBe('2022-11-28');
    expect(sent?.headers['content-type']).toBe('application/json');
    const body = sent?.body as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['context', 'description', 'state', 'target_url']);
    expect(body['state']).toBe('failure');
    expect(body['context']).toBe('rebound/production');
    expect(body['target_url']).toBe('https://rebound.example/problems/slow-carts');
    expect(body['description']).toHaveLength(140);
    expect(body['description']?.endsWith('…')).toBe(true);
  });

  it('opens a pull request when none is open for the branches, and reads it back', async () => {
    const server = await fakeForge({
      'GET /api/v3/repos/sock/shop/pulls?head=sock%3Arebound%2Fslow-carts%2F1&base=production&state=open': {
        status: 200,
        body: [],
      },
      'POST /api/v3/repos/sock/shop/pulls': { status: 201, body: pr },
    });
    const forge = createForge(settings('github', server.url, server.host));
    const opened = await forge.openPullRequest({
      head: 'rebound/slow-carts/1',
      base: 'production',
      title: 'rebound: scale carts',
      body: 'the plan',
    });
    expect(opened).toEqual({ number: 7, url: pr.html_url, state: 'open', headCommit: SHA });
    expect(server.seen.map((s) => s.method)).toEqual(['GET', 'POST']);
    expect(server.seen[1]?.body).toEqual({
      head: 'rebound/slow-carts/1',
      base: 'production',
      title: 'rebound: scale carts',
      body: 'the plan',
    });
  });

  it('returns the open pull request for the same branches instead of opening a second', async () => {
    const server = await fakeForge({
      'GET /api/v3/repos/sock/shop/pulls?head=sock%3Ap&base=production&state=open': { status: 200, body: [pr] },
    });
    const forge = createForge(settings('github', server.url, server.host));
    const opened = await forge.openPullRequest({ head: 'p', base: 'production', title: 't', body: 'b' });
    expect(opened.number).toBe(7);
    expect(server.seen).toHaveLength(1);
  });

  it('reads the merged state with the merge commit; an unmerged one keeps no merge commit', async () => {
    const server = await fakeForge({
      'GET /api/v3/repos/sock/shop/pulls/7': {
        status: 200,
        body: { ...pr, state: 'closed', merged: true, merged_by: { login: 'alice' } },
      },
      'GET /api/v3/repos/sock/shop/pulls/8': { status: 200, body: { ...pr, number: 8, state: 'closed' } },
    });
    const forge = createForge(settings('github', server.url, server.host));
    expect(await forge.pullRequest(7)).toEqual({
      number: 7,
      url: pr.html_url,
      state: 'merged',
      mergeCommit: 'b'.repeat(40),
      headCommit: SHA,
      mergedBy: 'alice',
    });
    expect((await forge.pullRequest(8)).state).toBe('closed');
    expect((await forge.pullRequest(8)).mergeCommit).toBeUndefined();
  });

  it('comments on the issue and updates the pull request', async () => {
    const server = await fakeForge({
      'POST /api/v3/repos/sock/shop/issues/7/comments': { status: 201, body: { id: 1 } },
      'PATCH /api/v3/repos/sock/shop/pulls/7': { status: 200, body: pr },
    });
    const forge = createForge(settings('github', server.url, server.host));
    await forge.comment(7, 'evaluated: pass');
    await forge.updatePullRequest(7, { title: 'rebound: scale carts [resolved]' });
    await forge.updatePullRequest(7, { state: 'closed' });
    expect(server.seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/api/v3/repos/sock/shop/issues/7/comments', { body: 'evaluated: pass' }],
      ['PATCH', '/api/v3/repos/sock/shop/pulls/7', { title: 'rebound: scale carts [resolved]' }],
      ['PATCH', '/api/v3/repos/sock/shop/pulls/7', { state: 'closed' }],
    ]);
  });

  it('uses api.github.com for github.com and /api/v3 for an Enterprise server', () => {
    expect(githubApiBase('https://github.com')).toBe('https://api.github.com');
    expect(githubApiBase('https://github.example.com/')).toBe('https://github.example.com/api/v3');
  });
});

describe('GitLab', () => {
  const mr = {
    iid: 3,
    web_url: 'https://gitlab.example/group/sub/shop/-/merge_requests/3',
    state: 'opened',
    sha: SHA,
    merge_commit_sha: null,
  };
  const project = '/api/v4/projects/group%2Fsub%2Fshop';

  it('posts a commit status as `failed` with the context as its name', async () => {
    const server = await fakeForge({ [`POST ${project}/statuses/${SHA}`]: { status: 201, body: {} } });
    const forge = createForge(settings('gitlab', server.url, server.host, 'group/sub/shop'));
    await forge.setCommitStatus({ sha: SHA, state: 'failure', context: 'rebound/production', description: 'fail' });
    const [sent] = server.seen;
    expect(sent?.headers['private-token']).toBe(TOKEN);
    expect(sent?.headers['authorization']).toBeUndefined();
    expect(sent?.body).toEqual({ state: 'failed', name: 'rebound/production', description: 'fail' });
  });

  it('opens a merge request, comments with a note, updates its description and reads it merged', async () => {
    const server = await fakeForge({
      [`GET ${project}/merge_requests?source_branch=rebound%2Fp%2F1&target_branch=production&state=opened`]: {
        status: 200,
        body: [],
      },
      [`POST ${project}/merge_requests`]: { status: 201, body: mr },
      [`POST ${project}/merge_requests/3/notes`]: { status: 201, body: {} },
      [`PUT ${project}/merge_requests/3`]: { status: 200, body: mr },
      [`GET ${project}/merge_requests/3`]: {
        status: 200,
        body: { ...mr, state: 'merged', merge_commit_sha: 'c'.repeat(40), merge_user: { username: 'bob' } },
      },
    });
    const forge = createForge(settings('gitlab', server.url, server.host, 'group/sub/shop'));
    const opened = await forge.openPullRequest({ head: 'rebound/p/1', base: 'production', title: 't', body: 'plan' });
    expect(opened).toEqual({ number: 3, url: mr.web_url, state: 'open', headCommit: SHA });
    await forge.comment(3, 'the plan');
    await forge.updatePullRequest(3, { body: 'new plan' });
    await forge.updatePullRequest(3, { state: 'closed' });
    expect(await forge.pullRequest(3)).toEqual({
      number: 3,
      url: mr.web_url,
      state: 'merged',
      mergeCommit: 'c'.repeat(40),
      headCommit: SHA,
      mergedBy: 'bob',
    });
    expect(server.seen.map((s) => [s.method, s.body])).toEqual([
      ['GET', undefined],
      ['POST', { source_branch: 'rebound/p/1', target_branch: 'production', title: 't', description: 'plan' }],
      ['POST', { body: 'the plan' }],
      ['PUT', { description: 'new plan' }],
      ['PUT', { state_event: 'close' }],
      ['GET', undefined],
    ]);
  });

  it('reads a closed merge request as closed', async () => {
    const server = await fakeForge({
      [`GET ${project}/merge_requests/3`]: { status: 200, body: { ...mr, state: 'closed' } },
    });
    const forge = createForge(settings('gitlab', server.url, server.host, 'group/sub/shop'));
    expect((await forge.pullRequest(3)).state).toBe('closed');
  });
});

describe('every forge', () => {
  it('refuses a host that is not allowed without calling it', async () => {
    const server = await fakeForge({});
    const forge = createForge({ ...settings('gitea', server.url, server.host), allowedHosts: ['gitea.example'] });
    const err = await rejection(forge.pullRequest(1));
    expect(err.code).toBe('ForgeHostNotAllowed');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('spec.forge.allowedHosts');
    expect(server.seen).toHaveLength(0);
  });

  it('classifies answers: 401 is not retried, 500 and 429 are, and an echoed token is scrubbed', async () => {
    const server = await fakeForge({
      'GET /api/v1/repos/sock/shop/pulls/1': { status: 401, body: { message: `bad token ${TOKEN}` } },
      'GET /api/v1/repos/sock/shop/pulls/2': { status: 500, body: { message: `token ${TOKEN} broke us` } },
      'GET /api/v1/repos/sock/shop/pulls/3': { status: 429, body: {} },
      'GET /api/v1/repos/sock/shop/pulls/4': { status: 422, body: { message: 'no' } },
    });
    const forge = createForge(settings('gitea', server.url, server.host));
    const unauthorized = await rejection(forge.pullRequest(1));
    expect([unauthorized.code, unauthorized.retryable]).toEqual(['ForgeUnauthorized', false]);
    const down = await rejection(forge.pullRequest(2));
    expect([down.code, down.retryable]).toEqual(['ForgeUnavailable', true]);
    expect((await rejection(forge.pullRequest(3))).retryable).toBe(true);
    const refused = await rejection(forge.pullRequest(4));
    expect([refused.code, refused.retryable]).toEqual(['ForgeRejected', false]);
    for (const err of [unauthorized, down]) {
      expect(err.message).not.toContain(TOKEN);
      expect(err.message).toContain('[redacted]');
    }
  });

  it('does not follow a redirect (it could carry the token elsewhere)', async () => {
    const server = await fakeForge({ 'GET /api/v1/repos/sock/shop/pulls/1': { status: 302, body: {} } });
    const forge = createForge(settings('gitea', server.url, server.host));
    expect((await rejection(forge.pullRequest(1))).code).toBe('ForgeRedirected');
    expect(server.seen).toHaveLength(1);
  });

  it('says a closed port is unavailable, to be retried', async () => {
    const server = await fakeForge({});
    await closeFakeForges();
    const forge = createForge(settings('github', server.url, server.host));
    const err = await rejection(forge.setCommitStatus({ sha: SHA, state: 'pending', context: 'c', description: 'd' }));
    expect([err.code, err.retryable]).toEqual(['ForgeUnavailable', true]);
  });

  it('refuses a repository that is not owner/name', () => {
    expect(() => createForge(settings('github', 'http://127.0.0.1:1', '127.0.0.1:1', 'just-a-name'))).toThrow(
      /owner\/name/,
    );
    expect(() => createForge(settings('gitlab', 'http://127.0.0.1:1', '127.0.0.1:1', 'just-a-name'))).toThrow(
      /group\/name/,
    );
  });
});
