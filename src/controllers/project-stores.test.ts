// One Git store per Project: kept across calls, opened again when the URL or credentials change, and
// released with its objects on disk when the Project is deleted.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Project } from '../api/index.ts';
import { ProjectStores } from './project-stores.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function project(name: string, url = 'http://127.0.0.1:1/repo.git'): Project {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Project',
    metadata: { name, namespace: 'team' },
    spec: { git: { url } },
  };
}

async function stores(): Promise<{ stores: ProjectStores; workDir: string }> {
  const workDir = await mkdtemp(join(tmpdir(), 'rebound-stores-'));
  dirs.push(workDir);
  return { stores: new ProjectStores({ workDir, secrets: { readSecret: () => Promise.resolve(undefined) } }), workDir };
}

describe('ProjectStores', () => {
  it('keeps one store per Project, and opens it again when the URL changes', async () => {
    const { stores: s } = await stores();
    const first = await s.storeFor(project('sockshop'));
    expect(await s.storeFor(project('sockshop'))).toBe(first);
    expect(await s.storeFor(project('sockshop', 'http://127.0.0.1:1/moved.git'))).not.toBe(first);
    s.close();
  });

  it('forgets a deleted Project: its store is closed and its objects are removed, the others stay', async () => {
    const { stores: s, workDir } = await stores();
    const gone = await s.storeFor(project('sockshop'));
    const kept = await s.storeFor(project('orders'));
    expect(existsSync(join(workDir, 'git', 'team', 'sockshop', 'HEAD'))).toBe(true);
    await s.forget('team', 'sockshop');
    expect(existsSync(join(workDir, 'git', 'team', 'sockshop'))).toBe(false);
    expect(existsSync(join(workDir, 'git', 'team', 'orders', 'HEAD'))).toBe(true);
    expect(await s.storeFor(project('orders'))).toBe(kept);
    // Created again under the same name: a new store, from scratch.
    expect(await s.storeFor(project('sockshop'))).not.toBe(gone);
    await s.forget('team', 'never-opened');
    s.close();
  });
});
