// A batched push that fails in transit, against a real `git http-backend`: the connection cut before
// Git saw the push, a 503, and the worst case, a push that landed with its answer lost. Each edit of
// the batch must end up committed exactly once (its trailers once on the branch), whether the store
// redoes the push itself or the whole batch fails and every problem in it retries later (the queue's
// backoff, as the reconciler does).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReboundError } from '../../src/errors.ts';
import { openStore, parseReboundTrailers } from '../../src/gitstore/index.ts';
import type { EditResult, FileEdit, GitStore } from '../../src/gitstore/index.ts';
import { runGit, startGitServer } from '../harness/git-server.ts';
import type { GitFault, GitServer } from '../harness/git-server.ts';
import { keptnSeed } from '../harness/keptn-repo.ts';

const SERVICES = ['carts', 'orders', 'payment', 'shipping', 'catalogue', 'users'];

let server: GitServer;
let work: string;
/** Faults the next receive-pack requests meet, in order; served normally once empty. */
let pushFaults: GitFault[] = [];
/** Every receive-pack request fails while true. */
let pushesDown = false;
let repoCount = 0;

beforeAll(async () => {
  server = await startGitServer({
    username: 'rebound-bot',
    password: 'fault-pa55-word',
    fault: (kind) => {
      if (kind !== 'git-receive-pack') return undefined;
      if (pushesDown) return 'drop';
      return pushFaults.shift();
    },
  });
  work = await mkdtemp(join(tmpdir(), 'rebound-gitstore-faults-'));
});

afterAll(async () => {
  await server.stop();
  await rm(work, { recursive: true, force: true });
});

async function fixture(maxAttempts?: number): Promise<{ gitDir: string; store: GitStore; storeDir: string }> {
  repoCount += 1;
  pushFaults = [];
  pushesDown = false;
  const name = `faults-${repoCount}`;
  const { url, dir: gitDir } = await server.createRepo(name, keptnSeed({ services: SERVICES, examplesDir: null }));
  const storeDir = join(work, `${name}-store`);
  const store = await openStore({
    dir: storeDir,
    url,
    auth: { username: server.username, token: server.password },
    author: { name: 'Rebound', email: 'rebound@example.invalid' },
    backoffMs: 5,
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });
  return { gitDir, store, storeDir };
}

const since = new Date(Date.now() - 60_000);

function scaleEdit(service: string, uid: string): FileEdit {
  return {
    path: `${service}/values.yaml`,
    edit: (text) => {
      const n = Number(/replicaCount: (\d+)/.exec(text)?.[1] ?? '0') + 1;
      return { text: text.replace(/replicaCount: \d+/, `replicaCount: ${String(n)}`), summary: `${service} to ${n}` };
    },
    message: (summary) => `rebound: scale ${summary}`,
    trailers: {
      problem: { namespace: 'sockshop', name: uid, uid },
      attempt: 1,
      action: { action: 'scale', value: '+1' },
    },
    since,
  };
}

/** `uid attempt` of every Rebound commit on the branch, newest first. */
async function stepsOnBranch(gitDir: string): Promise<string[]> {
  const log = await runGit(['log', '--format=%H%x00%B%x01', 'production'], { env: { GIT_DIR: gitDir } });
  return log
    .split('\x01')
    .map((entry) => parseReboundTrailers(entry.split('\x00')[1] ?? ''))
    .filter((t) => t !== undefined)
    .map((t) => `${t.problem.uid} ${String(t.attempt)}`);
}

const shaOf = (r: EditResult | undefined): string => (r && 'sha' in r ? r.sha : '');

describe('GitStore: a batched push that fails in transit', () => {
  it('redoes the push on the server head: dropped, 503, then landed with the answer lost, each step once', async () => {
    const { gitDir, store } = await fixture();
    pushFaults = ['drop', '503', 'drop-answer'];
    server.resetStats();
    const results = await store.commitEdits(
      'production',
      SERVICES.map((s, i) => scaleEdit(s, `uid-${String(i)}`)),
    );
    // The push that landed is found by its trailers on the retry: nothing is pushed a fourth time.
    expect(results.map((r) => r.status)).toEqual(SERVICES.map(() => 'alreadyCommitted'));
    expect(server.stats().byKind['git-receive-pack']).toBe(3);
    expect(store.stats().failedPushes).toBe(3);
    const steps = await stepsOnBranch(gitDir);
    expect([...steps].sort()).toEqual(SERVICES.map((_, i) => `uid-${String(i)} 1`).sort());
    // Each result names the commit carrying its own trailers.
    for (const [i, result] of results.entries()) {
      const message = await runGit(['log', '-1', '--format=%B', shaOf(result)], { env: { GIT_DIR: gitDir } });
      expect(parseReboundTrailers(message)?.problem.uid).toBe(`uid-${String(i)}`);
    }
    for (const service of SERVICES) {
      const values = await runGit(['show', `production:${service}/values.yaml`], { env: { GIT_DIR: gitDir } });
      expect(values).toMatch(/^replicaCount: 2$/m);
    }
    await runGit(['fsck', '--strict', '--no-dangling'], { env: { GIT_DIR: gitDir } });
    store.close();
  });

  it('fails every edit of a batch that keeps failing, retryable; their retries commit each step exactly once', async () => {
    const { gitDir, store, storeDir } = await fixture(2);
    const before = await store.head('production');
    pushesDown = true;
    // One lone edit goes out at once; the others arrive during its push and go out together next.
    const first = await Promise.allSettled(
      SERVICES.map((s, i) => store.commitEdit('production', scaleEdit(s, `b-${String(i)}`))),
    );
    for (const outcome of first) {
      expect(outcome.status).toBe('rejected');
      const err = outcome.status === 'rejected' ? (outcome.reason as unknown) : undefined;
      expect(err).toBeInstanceOf(ReboundError);
      expect(err instanceof ReboundError && err.retryable).toBe(true);
      expect(err instanceof ReboundError ? err.reason : '').toBe('GitUnreachable');
    }
    expect(await runGit(['rev-parse', 'production'], { env: { GIT_DIR: gitDir } })).toBe(`${before}\n`);

    // The server is back, but the first retried push lands with its answer lost, and the problems
    // retry from a restarted controller's fresh store as well as from this one.
    pushesDown = false;
    pushFaults = ['drop-answer'];
    const retried = await Promise.all(
      SERVICES.map((s, i) => store.commitEdit('production', scaleEdit(s, `b-${String(i)}`))),
    );
    const fresh = await openStore({
      dir: `${storeDir}-restarted`,
      url: store.url,
      auth: { username: server.username, token: server.password },
      author: { name: 'Rebound', email: 'rebound@example.invalid' },
      backoffMs: 5,
    });
    const again = await Promise.all(
      SERVICES.map((s, i) => fresh.commitEdit('production', scaleEdit(s, `b-${String(i)}`))),
    );
    expect(again.map((r) => r.status)).toEqual(SERVICES.map(() => 'alreadyCommitted'));
    expect(again.map(shaOf)).toEqual(retried.map(shaOf));
    const steps = await stepsOnBranch(gitDir);
    expect([...steps].sort()).toEqual(SERVICES.map((_, i) => `b-${String(i)} 1`).sort());
    for (const service of SERVICES) {
      const values = await runGit(['show', `production:${service}/values.yaml`], { env: { GIT_DIR: gitDir } });
      expect(values).toMatch(/^replicaCount: 2$/m);
    }
    await runGit(['fsck', '--strict', '--no-dangling'], { env: { GIT_DIR: gitDir } });
    store.close();
    fresh.close();
  });
});
