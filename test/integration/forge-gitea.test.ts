// The forge client and the Git store against a real Gitea (with its own PostgreSQL) on loopback:
// commit statuses as Gitea shows them on the commit, a proposal branch pushed over HTTP by the store,
// its pull request opened (once), commented, updated, merged by a person and read back merged; a
// closed one read back closed; a bad token refused without a retry.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReboundError } from '../../src/errors.ts';
import { createForge } from '../../src/forge/index.ts';
import type { Forge } from '../../src/forge/index.ts';
import { openStore } from '../../src/gitstore/index.ts';
import type { FileEdit, GitStore } from '../../src/gitstore/index.ts';
import { startGitea } from '../harness/gitea.ts';
import type { LocalGitea } from '../harness/gitea.ts';

let gitea: LocalGitea;
let work: string;
let forge: Forge;
let store: GitStore;
let repository: string;

const VALUES = 'replicaCount: 1\nimage: carts:1.0 # pinned\n';

beforeAll(async () => {
  gitea = await startGitea();
  work = await mkdtemp(join(tmpdir(), 'rebound-forge-test-'));
  const cloneUrl = await gitea.createRepository('shop');
  repository = `${gitea.user}/shop`;
  // The stage branch with a values file, as a person would have set it up.
  const created = await gitea.api('POST', `/repos/${repository}/contents/carts/values.yaml`, {
    content: Buffer.from(VALUES).toString('base64'),
    branch: 'main',
    new_branch: 'production',
    message: 'carts: first values',
  });
  expect(created.status).toBe(201);
  forge = createForge({ type: 'gitea', url: gitea.url, repository, token: gitea.token, allowedHosts: [gitea.host] });
  store = await openStore({
    dir: join(work, 'store'),
    url: cloneUrl,
    auth: { username: gitea.user, token: gitea.token },
    author: { name: 'Rebound', email: 'rebound@example.invalid' },
  });
}, 240_000);

afterAll(async () => {
  store?.close();
  await gitea?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function head(branch: string): Promise<string> {
  const found = await gitea.api<{ commit: { id: string } }>('GET', `/repos/${repository}/branches/${branch}`);
  expect(found.status).toBe(200);
  return found.json.commit.id;
}

function scaleTo(replicas: number, attempt: number): FileEdit {
  return {
    path: 'carts/values.yaml',
    edit: (text) => ({
      text: text.replace(/replicaCount: \d+/, `replicaCount: ${String(replicas)}`),
      summary: 'scale',
    }),
    message: `rebound: scale carts in production to ${String(replicas)} replicas`,
    trailers: {
      problem: { namespace: 'sockshop', name: 'slow-carts', uid: 'uid-1' },
      attempt,
      action: { action: 'scale', value: String(replicas) },
    },
  };
}

describe('Gitea', () => {
  it('shows the commit statuses Rebound posts, the newest as the combined state', async () => {
    const sha = await head('production');
    await forge.setCommitStatus({
      sha,
      state: 'pending',
      context: 'rebound/production',
      description: 'slow carts: attempt 1 (scale 2) is being applied and evaluated',
      targetUrl: 'https://rebound.example/problems/sockshop/slow-carts',
    });
    await forge.setCommitStatus({
      sha,
      state: 'failure',
      context: 'rebound/production',
      description: 'slow carts: attempt 1 (scale 2) evaluated fail with score 0%, escalating',
      targetUrl: 'https://rebound.example/problems/sockshop/slow-carts',
    });
    const listed = await gitea.api<{ status: string; context: string; description: string; target_url: string }[]>(
      'GET',
      `/repos/${repository}/commits/${sha}/statuses?sort=oldest`,
    );
    expect(listed.json.map((s) => [s.status, s.context])).toEqual([
      ['pending', 'rebound/production'],
      ['failure', 'rebound/production'],
    ]);
    expect(listed.json[1]?.description).toBe(
      'slow carts: attempt 1 (scale 2) evaluated fail with score 0%, escalating',
    );
    expect(listed.json[1]?.target_url).toBe('https://rebound.example/problems/sockshop/slow-carts');
    const combined = await gitea.api<{ state: string }>('GET', `/repos/${repository}/commits/${sha}/status`);
    expect(combined.json.state).toBe('failure');
  });

  it('takes a proposal branch pushed over HTTP, and its pull request through to a person merging it', async () => {
    const before = await head('production');
    const pushed = await store.commitEditToNewBranch('production', 'rebound/slow-carts/1', scaleTo(2, 1));
    expect(pushed.status).toBe('committed');
    const sha = 'sha' in pushed ? pushed.sha : '';
    expect(await head('rebound/slow-carts/1')).toBe(sha);
    expect(await head('production')).toBe(before);
    // Pushed again (a retry after a crash): the proposal's earlier commit is found by its trailers.
    expect(await store.commitEditToNewBranch('production', 'rebound/slow-carts/1', scaleTo(2, 1))).toMatchObject({
      status: 'alreadyCommitted',
      sha,
    });

    const draft = { head: 'rebound/slow-carts/1', base: 'production', title: 'rebound: scale carts', body: 'the plan' };
    const opened = await forge.openPullRequest(draft);
    expect(opened).toMatchObject({ state: 'open', headCommit: sha });
    expect(opened.url).toBe(`${gitea.url}/${repository}/pulls/${String(opened.number)}`);
    expect((await forge.openPullRequest(draft)).number).toBe(opened.number);

    await forge.comment(opened.number, 'Rebound proposes attempt 1');
    const comments = await gitea.api<{ body: string }[]>(
      'GET',
      `/repos/${repository}/issues/${String(opened.number)}/comments`,
    );
    expect(comments.json.map((c) => c.body)).toEqual(['Rebound proposes attempt 1']);
    await forge.updatePullRequest(opened.number, { title: 'rebound: scale carts to 2' });
    const read = await gitea.api<{ title: string; body: string }>(
      'GET',
      `/repos/${repository}/pulls/${String(opened.number)}`,
    );
    expect([read.json.title, read.json.body]).toEqual(['rebound: scale carts to 2', 'the plan']);

    // A person merges it.
    const merge = await gitea.api('POST', `/repos/${repository}/pulls/${String(opened.number)}/merge`, { Do: 'merge' });
    expect(merge.status).toBe(200);
    const merged = await forge.pullRequest(opened.number);
    expect(merged.state).toBe('merged');
    expect(merged.mergedBy).toBe(gitea.user);
    expect(merged.mergeCommit).toBe(await head('production'));
  });

  it('closes a pull request unmerged (as Rebound does when it is no longer needed) and reads it as closed', async () => {
    await store.commitEditToNewBranch('production', 'rebound/slow-carts/2', scaleTo(3, 2));
    const opened = await forge.openPullRequest({
      head: 'rebound/slow-carts/2',
      base: 'production',
      title: 'rebound: scale carts to 3',
      body: 'plan',
    });
    expect((await forge.pullRequest(opened.number)).state).toBe('open');
    await forge.updatePullRequest(opened.number, { state: 'closed' });
    const read = await forge.pullRequest(opened.number);
    expect(read.state).toBe('closed');
    expect(read.mergeCommit).toBeUndefined();
  });

  it('refuses a bad token as unauthorized, not to be retried, without the token in the message', async () => {
    const token = 'not-a-real-token-0123456789';
    const bad = createForge({ type: 'gitea', url: gitea.url, repository, token, allowedHosts: [gitea.host] });
    const err = await bad
      .setCommitStatus({ sha: await head('production'), state: 'pending', context: 'rebound', description: 'x' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ReboundError);
    expect((err as ReboundError).code).toBe('ForgeUnauthorized');
    expect((err as ReboundError).retryable).toBe(false);
    expect((err as ReboundError).message).not.toContain(token);
  });
});
