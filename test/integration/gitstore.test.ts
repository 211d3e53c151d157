// The Git store against a real `git http-backend` with Basic auth, and a person pushing with the
// native git CLI at the worst moments.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReboundError } from '../../src/errors.ts';
import { openStore, parseReboundTrailers, watchBranches } from '../../src/gitstore/index.ts';
import type { BranchChange, FileEdit, GitStore, StoreLogger } from '../../src/gitstore/index.ts';
import { runGit, startGitServer } from '../harness/git-server.ts';
import type { GitServer } from '../harness/git-server.ts';
import { keptnSeed } from '../harness/keptn-repo.ts';

let server: GitServer;
let work: string;
let repoCount = 0;
const author = { name: 'Rebound', email: 'rebound@example.invalid' };

beforeAll(async () => {
  server = await startGitServer({ username: 'rebound-bot', password: 'pa55-w0rd-xyz' });
  work = await mkdtemp(join(tmpdir(), 'rebound-gitstore-test-'));
});

afterAll(async () => {
  await server.stop();
  await rm(work, { recursive: true, force: true });
});

interface Fixture {
  url: string;
  gitDir: string;
  store: GitStore;
  logs: string[];
  /** Calls of the store's onPushRetry hook (rebound_git_push_retries_total in production). */
  pushRetries: () => number;
  /** A person's clone of the stage branch, pushing with the native CLI. */
  person: { dir: string; push(path: string, from: RegExp, to: string, message: string): Promise<void> };
}

async function fixture(services: string[] = ['carts', 'orders']): Promise<Fixture> {
  repoCount += 1;
  const name = `repo-${repoCount}`;
  const { url, dir: gitDir } = await server.createRepo(name, keptnSeed({ services, examplesDir: null }));
  const logs: string[] = [];
  let retries = 0;
  const logger: StoreLogger = {
    debug: (fields, message) => void logs.push(JSON.stringify({ ...fields, message })),
    info: (fields, message) => void logs.push(JSON.stringify({ ...fields, message })),
    warn: (fields, message) => void logs.push(JSON.stringify({ ...fields, message })),
  };
  const store = await openStore({
    dir: join(work, `${name}-store`),
    url,
    auth: { username: server.username, token: server.password },
    author,
    logger,
    backoffMs: 5,
    onPushRetry: () => void (retries += 1),
  });
  const personDir = join(work, `${name}-person`);
  const authed = new URL(url);
  authed.username = server.username;
  authed.password = server.password;
  await runGit(['clone', '--quiet', '--branch', 'production', authed.toString(), personDir]);
  const personEnv = {
    GIT_AUTHOR_NAME: 'Person',
    GIT_AUTHOR_EMAIL: 'p@example.invalid',
    GIT_COMMITTER_NAME: 'Person',
    GIT_COMMITTER_EMAIL: 'p@example.invalid',
  };
  const person = {
    dir: personDir,
    async push(path: string, from: RegExp, to: string, message: string): Promise<void> {
      await runGit(['pull', '--quiet', '--ff-only', 'origin', 'production'], { cwd: personDir, env: personEnv });
      const file = join(personDir, path);
      await writeFile(file, (await readFile(file, 'utf8')).replace(from, to));
      await runGit(['commit', '--quiet', '-am', message], { cwd: personDir, env: personEnv });
      await runGit(['push', '--quiet', 'origin', 'production'], { cwd: personDir, env: personEnv });
    },
  };
  return { url, gitDir, store, logs, person, pushRetries: () => retries };
}

const show = (gitDir: string, spec: string): Promise<string> => runGit(['show', spec], { env: { GIT_DIR: gitDir } });
const revList = async (gitDir: string, range: string): Promise<string[]> =>
  (await runGit(['rev-list', range], { env: { GIT_DIR: gitDir } })).split('\n').filter(Boolean);

function setReplicas(n: number): FileEdit['edit'] {
  return (text) => {
    const current = /^replicaCount: (\d+)/m.exec(text)?.[1];
    if (current === String(n)) return { unchanged: `replicaCount is already ${n}` };
    return {
      text: text.replace(/^replicaCount: \d+/m, `replicaCount: ${n}`),
      summary: `replicaCount ${current ?? '?'} -> ${n}`,
    };
  };
}

function scaleEdit(service: string, n: number, uid: string, attempt = 1, since?: Date): FileEdit {
  return {
    path: `${service}/values.yaml`,
    edit: setReplicas(n),
    message: `rebound: scale ${service} in production to ${n} replicas`,
    trailers: {
      problem: { namespace: 'sockshop', name: `${service}-latency`, uid },
      attempt,
      action: { action: 'scale', value: String(n) },
    },
    ...(since === undefined ? {} : { since }),
  };
}

describe('GitStore against git http-backend', () => {
  it('reads, commits with trailers and pushes with credentials; a quiet step is one request', async () => {
    const { gitDir, store, logs } = await fixture();
    const before = await store.readFile('production', 'carts/values.yaml');
    expect(before?.text).toMatch(/^replicaCount: 1$/m);
    expect(await store.readFile('production', 'carts/missing.yaml')).toBeUndefined();

    const first = await store.commitEdit('production', scaleEdit('carts', 2, 'uid-1'));
    expect(first).toMatchObject({ status: 'committed', pushed: true, attemptsNeeded: 1 });
    const sha = 'sha' in first ? first.sha : '';
    expect((await runGit(['rev-parse', 'production'], { env: { GIT_DIR: gitDir } })).trim()).toBe(sha);

    const message = await runGit(['log', '-1', '--format=%an <%ae>%n%B', 'production'], { env: { GIT_DIR: gitDir } });
    expect(
      message.startsWith('Rebound <rebound@example.invalid>\nrebound: scale carts in production to 2 replicas\n\n'),
    ).toBe(true);
    expect(parseReboundTrailers(message.split('\n').slice(1).join('\n'))).toEqual({
      problem: { namespace: 'sockshop', name: 'carts-latency', uid: 'uid-1' },
      attempt: 1,
      action: { action: 'scale', value: '2' },
    });
    // The commit's diff is that one line, and the file is otherwise byte for byte the same.
    const diff = await runGit(['diff', '--unified=0', `${sha}~1`, sha], { env: { GIT_DIR: gitDir } });
    expect(diff.split('\n').filter((l) => /^[-+][^-+]/.test(l))).toEqual(['-replicaCount: 1', '+replicaCount: 2']);
    expect(await show(gitDir, 'production:carts/values.yaml')).toBe(
      before?.text.replace('replicaCount: 1', 'replicaCount: 2'),
    );

    server.resetStats();
    await store.commitEdit('production', scaleEdit('orders', 3, 'uid-2'));
    expect(server.stats().requests).toBe(1);
    expect(server.stats().byKind['git-receive-pack']).toBe(1);
    expect(store.stats().lastPushBytes).toBeLessThan(4096);
    expect(logs.join('\n')).not.toContain(server.password);
    await runGit(['fsck', '--strict', '--no-dangling'], { env: { GIT_DIR: gitDir } });
    store.close();
  });

  it('fails with a clear, secret-free error on a wrong password', async () => {
    const { url } = await fixture();
    const logs: string[] = [];
    const log = (fields: object, message: string): void => void logs.push(JSON.stringify({ fields, message }));
    const store = await openStore({
      dir: join(work, 'bad-auth'),
      url,
      auth: { username: 'rebound-bot', password: 'not-the-password' },
      author,
      logger: { debug: log, info: log, warn: log },
    });
    const error = await store.readFile('production', 'carts/values.yaml').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ReboundError);
    const rebound = error as ReboundError;
    expect(rebound).toMatchObject({ code: 'GitAuthFailed', reason: 'GitAuthFailed', retryable: false });
    expect(rebound.message).toMatch(/refused the credentials/);
    const everything = `${rebound.message} ${rebound.stack ?? ''} ${JSON.stringify(rebound)} ${logs.join('')}`;
    expect(everything).not.toContain('not-the-password');
    expect(everything).not.toContain(Buffer.from('rebound-bot:not-the-password').toString('base64'));
    store.close();
  });

  it('refuses URLs with credentials in them', async () => {
    await expect(
      openStore({ dir: join(work, 'url-creds'), url: `http://u:secret@127.0.0.1:1/x.git`, author }),
    ).rejects.toMatchObject({ code: 'InvalidGitUrl' });
  });

  it('a person pushing during a step: both changes land, nothing is force-pushed', async () => {
    const { gitDir, store, person, logs, pushRetries } = await fixture();
    await store.head('production');
    let calls = 0;
    const result = await store.commitEdit('production', {
      ...scaleEdit('carts', 4, 'uid-race'),
      edit: async (text) => {
        calls += 1;
        // Between the store's read and its push, a person changes another line of the same file.
        if (calls === 1)
          await person.push(
            'carts/values.yaml',
            /EnablePromotion: true/,
            'EnablePromotion: false',
            'turn the promotion off',
          );
        return setReplicas(4)(text);
      },
    });
    expect(result).toMatchObject({ status: 'committed', attemptsNeeded: 2 });
    expect(calls).toBe(2);
    const values = await show(gitDir, 'production:carts/values.yaml');
    expect(values).toMatch(/^replicaCount: 4$/m);
    expect(values).toMatch(/EnablePromotion: false/);
    // The person's commit is an ancestor of the head: it was built upon, not overwritten.
    const personHead = (await runGit(['rev-parse', 'HEAD'], { cwd: person.dir })).trim();
    await runGit(['merge-base', '--is-ancestor', personHead, 'production'], { env: { GIT_DIR: gitDir } });
    expect(store.stats().rejectedPushes).toBe(1);
    expect(pushRetries()).toBe(1);
    expect(logs.some((l) => l.includes('push rejected'))).toBe(true);
    await runGit(['fsck', '--strict', '--no-dangling'], { env: { GIT_DIR: gitDir } });
  });

  it('a person pushing between steps: the stale head is noticed by the push and the step redone', async () => {
    const { gitDir, store, person } = await fixture();
    await store.commitEdit('production', scaleEdit('carts', 2, 'uid-a'));
    await person.push('orders/values.yaml', /^replicaCount: 1/m, 'replicaCount: 5', 'orders to 5');
    const result = await store.commitEdit('production', scaleEdit('carts', 3, 'uid-b'));
    expect(result).toMatchObject({ status: 'committed', attemptsNeeded: 2 });
    expect(await show(gitDir, 'production:orders/values.yaml')).toMatch(/^replicaCount: 5$/m);
    expect(await show(gitDir, 'production:carts/values.yaml')).toMatch(/^replicaCount: 3$/m);
  });

  it('commits nothing, with the reason, when the new head already has the wanted value', async () => {
    const { gitDir, store, person } = await fixture();
    const startHead = await store.head('production');
    let calls = 0;
    const result = await store.commitEdit('production', {
      ...scaleEdit('carts', 2, 'uid-same'),
      edit: async (text) => {
        calls += 1;
        if (calls === 1)
          await person.push('carts/values.yaml', /^replicaCount: 1/m, 'replicaCount: 2', 'person scales carts to 2');
        return setReplicas(2)(text);
      },
    });
    expect(result).toEqual({
      status: 'noChange',
      reason: 'replicaCount is already 2',
      head: expect.any(String) as string,
    });
    const commits = await revList(gitDir, `${startHead}..production`);
    expect(commits).toHaveLength(1);
    expect(await runGit(['log', '-1', '--format=%an', 'production'], { env: { GIT_DIR: gitDir } })).toBe('Person\n');
  });

  it('never commits the same problem uid and attempt twice, also from a fresh store after a restart', async () => {
    const { url, gitDir, store, person } = await fixture();
    const since = new Date(Date.now() - 60_000);
    const first = await store.commitEdit('production', scaleEdit('carts', 2, 'uid-idem', 1, since));
    const again = await store.commitEdit('production', scaleEdit('carts', 5, 'uid-idem', 1, since));
    expect(first.status).toBe('committed');
    expect(again).toEqual({ status: 'alreadyCommitted', sha: 'sha' in first ? first.sha : '' });
    expect(await show(gitDir, 'production:carts/values.yaml')).toMatch(/^replicaCount: 2$/m);

    // Someone commits on top; then the controller restarts with an empty store (a shallow clone
    // whose history starts after our commit): the search deepens back to `since` and finds it.
    await person.push('orders/values.yaml', /^replicaCount: 1/m, 'replicaCount: 3', 'orders to 3');
    const fresh = await openStore({
      dir: join(work, `fresh-${repoCount}`),
      url,
      auth: { username: server.username, password: server.password },
      author,
    });
    expect(await fresh.findCommitByTrailers('production', { uid: 'uid-idem', attempt: 1 }, since)).toBe(
      'sha' in first ? first.sha : '',
    );
    expect(await fresh.commitEdit('production', scaleEdit('carts', 5, 'uid-idem', 1, since))).toMatchObject({
      status: 'alreadyCommitted',
    });
    // A new attempt of the same problem is a new step.
    expect(await fresh.commitEdit('production', scaleEdit('carts', 5, 'uid-idem', 2, since))).toMatchObject({
      status: 'committed',
    });
    expect(await show(gitDir, 'production:carts/values.yaml')).toMatch(/^replicaCount: 5$/m);
    fresh.close();
    // The first store remembers the steps it walked past; it still sees what another replica
    // committed on top since, and commits nothing twice.
    expect(await store.commitEdit('production', scaleEdit('carts', 7, 'uid-idem', 2, since))).toMatchObject({
      status: 'alreadyCommitted',
    });
    expect(await store.commitEdit('production', scaleEdit('carts', 7, 'uid-idem', 1, since))).toMatchObject({
      status: 'alreadyCommitted',
    });
    expect(await show(gitDir, 'production:carts/values.yaml')).toMatch(/^replicaCount: 5$/m);
  });

  it('batches several edits for one branch into one push, one commit per edit', async () => {
    const { gitDir, store } = await fixture(['carts', 'orders', 'payment', 'shipping']);
    const startHead = await store.head('production');
    server.resetStats();
    const results = await store.commitEdits('production', [
      scaleEdit('carts', 2, 'storm-1'),
      scaleEdit('orders', 3, 'storm-2'),
      scaleEdit('payment', 1, 'storm-3'), // already 1: nothing to do
      scaleEdit('shipping', 4, 'storm-4'),
      scaleEdit('carts', 9, 'storm-1'), // a duplicate delivery of storm-1 in the same batch
      { ...scaleEdit('nosuch', 2, 'storm-5') },
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'committed',
      'committed',
      'noChange',
      'committed',
      'alreadyCommitted',
      'failed',
    ]);
    const failed = results[5];
    expect(failed?.status === 'failed' ? failed.error.code : '').toBe('GitFileNotFound');
    expect(server.stats().byKind['git-receive-pack']).toBe(1);
    expect(server.stats().requests).toBe(1);
    const commits = await revList(gitDir, `${startHead}..production`);
    expect(commits).toHaveLength(3);
    expect(commits[0]).toBe(results[3]?.status === 'committed' ? results[3].sha : '');
    for (const [service, n] of [
      ['carts', 2],
      ['orders', 3],
      ['payment', 1],
      ['shipping', 4],
    ] as const) {
      expect(await show(gitDir, `production:${service}/values.yaml`)).toMatch(new RegExp(`^replicaCount: ${n}$`, 'm'));
    }
    await runGit(['fsck', '--strict', '--no-dangling'], { env: { GIT_DIR: gitDir } });
  });

  it('keeps the server repository clean (git fsck) over many steps, nested paths and person pushes', async () => {
    const { gitDir, store, person } = await fixture(['carts', 'orders']);
    for (let i = 0; i < 40; i += 1) {
      if (i % 10 === 5)
        await person.push('orders/chart/Chart.yaml', /^version: .*/m, `version: 0.1.${i}`, `chart ${i}`);
      const edit: FileEdit =
        i % 3 === 0
          ? {
              path: 'carts/chart/templates/deployment.yaml',
              edit: (t) => ({ text: `${t}# step ${i}\n`, summary: `step ${i}` }),
              message: `nested ${i}`,
            }
          : scaleEdit(i % 2 === 0 ? 'carts' : 'orders', 2 + (i % 5), `uid-many-${i}`);
      const result = await store.commitEdit('production', edit);
      expect(['committed', 'noChange']).toContain(result.status);
    }
    await runGit(['fsck', '--strict', '--no-dangling', '--full'], { env: { GIT_DIR: gitDir } });
    expect(await show(gitDir, 'production:carts/chart/templates/deployment.yaml')).toContain('# step 39\n');
    expect(await show(gitDir, 'production:orders/chart/Chart.yaml')).toMatch(/^version: 0\.1\.35$/m);
    // Native git can clone the result and sees the same files.
    const clone = join(work, `verify-${repoCount}`);
    const authed = new URL(server.url);
    authed.username = server.username;
    authed.password = server.password;
    await runGit(['clone', '--quiet', '--branch', 'production', `${authed.toString()}repo-${repoCount}.git`, clone]);
    expect(await readFile(join(clone, 'carts', 'chart', 'templates', 'deployment.yaml'), 'utf8')).toContain(
      '# step 39\n',
    );
  });

  it('watches stage branches: a pushed policy change is reported with its path', async () => {
    const { store, person } = await fixture(['carts']);
    const changes: BranchChange[] = [];
    const watcher = watchBranches({
      store,
      branches: ['production', 'staging'],
      schedule: '1h',
      onChange: (c) => void changes.push(c),
    });
    await watcher.pollNow();
    await person.push('carts/remediation.yaml', /value: "\+1"/, 'value: "+2"', 'bigger first step');
    await watcher.pollNow();
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ branch: 'production', changedPaths: ['carts/remediation.yaml'] });
    expect((await store.readFile('production', 'carts/remediation.yaml'))?.text).toContain('value: "+2"');
    // A quiet poll of both stages is one request.
    server.resetStats();
    expect(await watcher.pollNow()).toEqual([]);
    expect(server.stats().requests).toBe(1);
    watcher.stop();
  });

  it('serialises concurrent calls on one store, and batches edits that arrive during a push into the next one', async () => {
    const { gitDir, store } = await fixture(['carts', 'orders', 'payment']);
    const startHead = await store.head('production');
    const results = await Promise.all([
      store.commitEdit('production', scaleEdit('carts', 2, 'c-1')),
      store.readFile('production', 'orders/values.yaml'),
      store.commitEdit('production', scaleEdit('orders', 3, 'c-2')),
      store.commitEdit('production', scaleEdit('payment', 4, 'c-3')),
      store.commitEdit('production', scaleEdit('carts', 2, 'c-1')),
    ]);
    expect(results.map((r) => (r !== undefined && 'status' in r ? r.status : 'read'))).toEqual([
      'committed',
      'read',
      'committed',
      'committed',
      'alreadyCommitted',
    ]);
    expect(await revList(gitDir, `${startHead}..production`)).toHaveLength(3);
    expect(store.stats().rejectedPushes).toBe(0);
    // The first edit goes out alone at once; the three that arrived meanwhile share the next push.
    expect(store.stats().pushes).toBe(2);
  });

  it('reopens a persistent store after a restart without fetching what it already has', async () => {
    const { url, gitDir, store } = await fixture(['carts']);
    await store.commitEdit('production', scaleEdit('carts', 2, 'uid-before-restart'));
    store.close();
    const reopened = await openStore({
      dir: store.dir,
      url,
      auth: { username: server.username, password: server.password },
      author,
    });
    const result = await reopened.commitEdit('production', scaleEdit('carts', 3, 'uid-after-restart'));
    expect(result.status).toBe('committed');
    expect(reopened.stats().fetches).toBe(0);
    expect(await show(gitDir, 'production:carts/values.yaml')).toMatch(/^replicaCount: 3$/m);
    reopened.close();
  });

  it('reads at the head last seen without a request, and sees a newer head once it synced', async () => {
    const { store, person } = await fixture(['carts']);
    server.resetStats();
    const first = await store.readFileAtKnownHead('production', 'carts/values.yaml');
    expect(first?.text).toMatch(/^replicaCount: 1$/m);
    const afterFirst = server.stats().requests;
    expect(afterFirst).toBeGreaterThan(0); // the first read of a branch asks the server
    await store.readFileAtKnownHead('production', 'carts/values.yaml');
    expect(server.stats().requests).toBe(afterFirst);

    await person.push('carts/values.yaml', /replicaCount: 1/, 'replicaCount: 5', 'a person scales up');
    expect((await store.readFileAtKnownHead('production', 'carts/values.yaml'))?.text).toMatch(/^replicaCount: 1$/m);
    await store.head('production'); // what the Project poll does
    expect((await store.readFileAtKnownHead('production', 'carts/values.yaml'))?.text).toMatch(/^replicaCount: 5$/m);
    store.close();
  });

  it('lists every file under a folder at a commit, for materialising a chart', async () => {
    const { gitDir, store } = await fixture(['carts']);
    const head = await store.head('production');
    const files = await store.filesAt(head, 'carts');
    const expected = (await runGit(['ls-tree', '-r', '--name-only', head, 'carts'], { env: { GIT_DIR: gitDir } }))
      .trim()
      .split('\n');
    expect([...(files?.keys() ?? [])].sort()).toEqual(expected.sort());
    expect(files?.get('carts/values.yaml')?.toString('utf8')).toBe(await show(gitDir, `${head}:carts/values.yaml`));
    expect([...((await store.filesAt(head, 'carts/values.yaml'))?.keys() ?? [])]).toEqual(['carts/values.yaml']);
    expect(await store.filesAt(head, 'carts/no-such-dir')).toBeUndefined();
    await expect(store.filesAt(head, 'carts', 1)).rejects.toThrow(/more than 1 files/);
    store.close();
  });

  it('pathHistory: who changed a file since a commit, newest first; a re-assert is its own step', async () => {
    const { gitDir, store, person } = await fixture(['carts']);
    const ours = await store.commitEdit('production', scaleEdit('carts', 2, 'uid-h'));
    const oursSha = 'sha' in ours ? ours.sha : '';
    const base = (await runGit(['rev-parse', `${oursSha}~1`], { env: { GIT_DIR: gitDir } })).trim();
    // The next deploy resets the replicas; an unrelated file changes too.
    await person.push('carts/values.yaml', /^replicaCount: 2$/m, 'replicaCount: 1', 'deploy carts 0.2.0');
    const pushed = (await runGit(['rev-parse', 'production'], { env: { GIT_DIR: gitDir } })).trim();
    await person.push('carts/remediation.yaml', /$/, '\n', 'touch the policy');
    const history = await store.pathHistory('production', oursSha, 'carts/values.yaml');
    expect(history.found).toBe(true);
    expect(history.base).toBe(base);
    expect(history.head).not.toBe(pushed);
    expect(history.changes).toEqual([{ sha: pushed, parent: oursSha, author: 'Person <p@example.invalid>' }]);

    // The re-assert answers the push: a step of its own, not the attempt's commit found again.
    const reassert: FileEdit = {
      ...scaleEdit('carts', 2, 'uid-h'),
      trailers: { ...scaleEdit('carts', 2, 'uid-h').trailers!, notes: { reasserts: pushed } },
    };
    const again = await store.commitEdit('production', reassert);
    expect(again.status).toBe('committed');
    expect(await store.commitEdit('production', reassert)).toMatchObject({ status: 'alreadyCommitted' });
    const after = await store.pathHistory('production', oursSha, 'carts/values.yaml');
    expect(after.changes[0]?.trailers?.notes?.reasserts).toBe(pushed);
    expect(after.changes[0]?.author).toBe('Rebound <rebound@example.invalid>');
    expect(await show(gitDir, 'production:carts/values.yaml')).toMatch(/^replicaCount: 2$/m);
    store.close();
  });

  it('reports a branch that does not exist as a non-retryable error', async () => {
    const { store } = await fixture(['carts']);
    await expect(store.head('no-such-stage')).rejects.toMatchObject({ code: 'GitBranchNotFound', retryable: false });
  });
});
