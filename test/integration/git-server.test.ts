// The loopback Git server is real `git http-backend`: native git and isomorphic-git clone and push
// through it with Basic credentials, and anything without them is refused.
import * as fs from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGit, startGitServer } from '../harness/git-server.ts';
import type { GitServer } from '../harness/git-server.ts';
import { keptnSeed, seedKeptnRepo } from '../harness/keptn-repo.ts';

let server: GitServer;
let work: string;

beforeAll(async () => {
  server = await startGitServer({ username: 'alice', password: 's3cret-pw' });
  work = await mkdtemp(join(tmpdir(), 'rebound-git-server-test-'));
});

afterAll(async () => {
  await server.stop();
  await rm(work, { recursive: true, force: true });
});

function withCredentials(url: string, password = server.password): string {
  const u = new URL(url);
  u.username = server.username;
  u.password = password;
  return u.toString();
}

describe('startGitServer', () => {
  it('refuses requests without valid Basic credentials with 401 and a challenge', async () => {
    const { url } = await server.createRepo('auth-check', keptnSeed({ services: ['carts'], examplesDir: null }));
    const anonymous = await fetch(`${url}/info/refs?service=git-upload-pack`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    await expect(runGit(['ls-remote', withCredentials(url, 'wrong')])).rejects.toThrow(/Authentication failed/);
  });

  it('serves a Keptn-layout repository that native git clones and pushes to', async () => {
    const { url, dir } = await server.createRepo(
      'native',
      keptnSeed({ services: ['carts', 'orders'], examplesDir: null }),
    );
    const checkout = join(work, 'native');
    await runGit(['clone', '--quiet', '--branch', 'production', withCredentials(url), checkout]);
    const values = await readFile(join(checkout, 'carts', 'values.yaml'), 'utf8');
    expect(values).toMatch(/^replicaCount: 1$/m);
    for (const file of [
      'remediation.yaml',
      'slo.yaml',
      'sli.yaml',
      'chart/Chart.yaml',
      'chart/templates/deployment.yaml',
    ]) {
      expect(fs.existsSync(join(checkout, 'orders', file)), file).toBe(true);
    }
    const branches = await runGit(['for-each-ref', '--format=%(refname:short)', 'refs/heads'], {
      env: { GIT_DIR: dir },
    });
    expect(branches.split('\n').filter(Boolean).sort()).toEqual(['dev', 'main', 'production', 'staging']);
    const shipyard = await runGit(['show', 'main:shipyard.yaml'], { env: { GIT_DIR: dir } });
    expect(shipyard).toContain('kind: "Shipyard"');

    await writeFile(join(checkout, 'carts', 'values.yaml'), values.replace('replicaCount: 1', 'replicaCount: 3'));
    await runGit(['commit', '--quiet', '-am', 'scale carts'], { cwd: checkout });
    server.resetStats();
    await runGit(['push', '--quiet', 'origin', 'production'], { cwd: checkout });
    expect(server.stats().byKind['git-receive-pack']).toBe(1);
    expect(server.stats().bytesReceived).toBeGreaterThan(0);
    const pushed = await runGit(['show', 'production:carts/values.yaml'], { env: { GIT_DIR: dir } });
    expect(pushed).toMatch(/^replicaCount: 3$/m);
    await runGit(['fsck', '--strict'], { env: { GIT_DIR: dir } });
  });

  it('lets isomorphic-git clone and push with credentials from onAuth', async () => {
    const { url, dir } = await server.createRepo('iso', keptnSeed({ services: ['carts'], examplesDir: null }));
    const checkout = join(work, 'iso');
    const onAuth = () => ({ username: server.username, password: server.password });
    await git.clone({ fs, http, dir: checkout, url, ref: 'staging', singleBranch: true, depth: 1, onAuth });
    await writeFile(join(checkout, 'carts', 'values.yaml'), 'replicaCount: 2\n');
    await git.add({ fs, dir: checkout, filepath: 'carts/values.yaml' });
    await git.commit({ fs, dir: checkout, message: 'scale', author: { name: 'T', email: 't@example.invalid' } });
    const result = await git.push({ fs, http, dir: checkout, ref: 'staging', onAuth });
    expect(result.ok).toBe(true);
    expect(await runGit(['show', 'staging:carts/values.yaml'], { env: { GIT_DIR: dir } })).toBe('replicaCount: 2\n');
  });

  it('seeds long histories quickly and deterministically', async () => {
    const { dir } = await server.createRepo(
      'long',
      keptnSeed({ services: 10, commits: 500, stages: ['production'], examplesDir: null }),
    );
    expect((await runGit(['rev-list', '--count', 'production'], { env: { GIT_DIR: dir } })).trim()).toBe('501');
    const again = await server.createRepo('long-again');
    const layout = await seedKeptnRepo(again.dir, {
      services: 10,
      commits: 500,
      stages: ['production'],
      examplesDir: null,
    });
    expect(layout.heads.production).toBe((await runGit(['rev-parse', 'production'], { env: { GIT_DIR: dir } })).trim());
    expect(layout.services).toHaveLength(10);
  });

  it('passes gzip-encoded request bodies to http-backend (as git sends large negotiations)', async () => {
    const { url, dir } = await server.createRepo(
      'gzip',
      keptnSeed({ services: ['carts'], stages: ['production'], examplesDir: null }),
    );
    const head = (await runGit(['rev-parse', 'production'], { env: { GIT_DIR: dir } })).trim();
    const pkt = (line: string): string => `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
    const request = `${pkt(`want ${head}\n`)}0000${pkt('done\n')}`;
    const response = await fetch(`${url}/git-upload-pack`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${server.username}:${server.password}`).toString('base64')}`,
        'Content-Type': 'application/x-git-upload-pack-request',
        'Content-Encoding': 'gzip',
      },
      body: gzipSync(request),
    });
    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.indexOf('PACK')).toBeGreaterThan(0);
  });

  it('mirrors a plain directory as one commit on main', async () => {
    const tree = join(work, 'plain');
    fs.mkdirSync(join(tree, 'carts'), { recursive: true });
    await writeFile(join(tree, 'shipyard.yaml'), 'stages: []\n');
    await writeFile(join(tree, 'carts', 'values.yaml'), 'replicaCount: 1\n');
    const { dir } = await server.createRepo('plain', tree);
    expect(await runGit(['show', 'main:carts/values.yaml'], { env: { GIT_DIR: dir } })).toBe('replicaCount: 1\n');
  });
});
