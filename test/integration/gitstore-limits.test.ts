// The Git store against a real `git http-backend` when a person pushes a huge, very compressible
// file (issue 14, defect 1): the file is refused from its size before it is read, a fetch that
// would bring in an object past the limit is refused before isomorphic-git inflates it, and once
// the file is reverted the branch reads again, also from a store reopened after a restart.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileTooLargeError, openStore } from '../../src/gitstore/index.ts';
import type { GitStore } from '../../src/gitstore/index.ts';
import { runGit, startGitServer } from '../harness/git-server.ts';
import type { GitServer } from '../harness/git-server.ts';
import { keptnSeed } from '../harness/keptn-repo.ts';

let server: GitServer;
let work: string;
let repos = 0;
const author = { name: 'Rebound', email: 'rebound@example.invalid' };
const personEnv = {
  GIT_AUTHOR_NAME: 'Person',
  GIT_AUTHOR_EMAIL: 'p@example.invalid',
  GIT_COMMITTER_NAME: 'Person',
  GIT_COMMITTER_EMAIL: 'p@example.invalid',
};
const POLICY = 'carts/remediation.yaml';

beforeAll(async () => {
  server = await startGitServer({ username: 'rebound-bot', password: 'pa55-w0rd-xyz' });
  work = await mkdtemp(join(tmpdir(), 'rebound-gitstore-limits-'));
});

afterAll(async () => {
  await server.stop();
  await rm(work, { recursive: true, force: true });
});

async function fixture(): Promise<{
  dir: string;
  open: (limits?: { maxObjectBytes: number }) => Promise<GitStore>;
  push: (bytes: number) => Promise<void>;
  revert: () => Promise<void>;
}> {
  repos += 1;
  const name = `limits-${repos}`;
  const { url } = await server.createRepo(name, keptnSeed({ services: ['carts'], examplesDir: null }));
  const clone = join(work, `${name}-person`);
  const authed = new URL(url);
  authed.username = server.username;
  authed.password = server.password;
  await runGit(['clone', '--quiet', '--branch', 'production', authed.toString(), clone]);
  const git = (args: string[]): Promise<string> => runGit(args, { cwd: clone, env: personEnv });
  const dir = join(work, `${name}-store`);
  return {
    dir,
    open: (limits) =>
      openStore({
        dir,
        url,
        auth: { username: server.username, token: server.password },
        author,
        ...(limits ? { fetchLimits: { maxObjectBytes: limits.maxObjectBytes } } : {}),
      }),
    // Comment lines: valid YAML, a few KB on the wire whatever their size.
    async push(bytes) {
      const line = '# padding that compresses very well, pushed by mistake\n';
      await writeFile(join(clone, POLICY), line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes));
      await git(['commit', '--quiet', '-am', 'a huge remediation.yaml']);
      await git(['push', '--quiet', 'origin', 'production']);
    },
    async revert() {
      await git(['revert', '--no-edit', 'HEAD']);
      await git(['push', '--quiet', 'origin', 'production']);
    },
  };
}

describe('GitStore size limits', () => {
  it('refuses a file over 1 MiB from its size, before reading it, naming the file and its size', async () => {
    const repo = await fixture();
    const store = await repo.open();
    try {
      const before = await store.readFile('production', POLICY);
      expect(before?.text).toContain('remediations');
      await repo.push(3 * 1024 * 1024);
      const read = store.readFile('production', POLICY);
      await expect(read).rejects.toBeInstanceOf(FileTooLargeError);
      await expect(read).rejects.toMatchObject({
        path: POLICY,
        size: 3 * 1024 * 1024,
        limit: 1024 * 1024,
        reason: 'FileTooLarge',
        retryable: false,
      });
      await expect(read).rejects.toThrow(`${POLICY} at `);
      // The other files of the branch still read.
      expect((await store.readFile('production', 'carts/values.yaml'))?.text).toContain('replicaCount');
    } finally {
      store.close();
    }
  });

  it('refuses a fetch that would bring in a huge object, and reads the branch again once the file is reverted, also after a restart', async () => {
    const repo = await fixture();
    const limits = { maxObjectBytes: 4 * 1024 * 1024 };
    const store = await repo.open(limits);
    try {
      const first = await store.head('production');
      await repo.push(24 * 1024 * 1024);
      const refused = store.head('production');
      await expect(refused).rejects.toMatchObject({
        code: 'GitFetchTooLarge',
        reason: 'FileTooLarge',
        retryable: false,
      });
      await expect(refused).rejects.toThrow(/object of 25165\d{3} bytes, over the 4194304-byte limit/);
      // Nothing was stored, and what was known still reads.
      expect((await store.readFileAt(first, POLICY))?.text).toContain('remediations');

      await repo.revert();
      const head = await store.head('production');
      expect(head).not.toBe(first);
      expect((await store.readFile('production', POLICY))?.text).toContain('remediations');
    } finally {
      store.close();
    }
    // A restarted controller reopens the same store: nothing left in it to trip over.
    const reopened = await repo.open(limits);
    try {
      expect((await reopened.readFile('production', POLICY))?.text).toContain('remediations');
    } finally {
      reopened.close();
    }
  });
});
