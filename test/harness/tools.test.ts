import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingTools, toolPath, toolsDir } from './tools.ts';

describe('toolPath', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rebound-tools-test-'));
    await writeFile(join(dir, 'etcd'), '#!/bin/true\n');
    await chmod(join(dir, 'etcd'), 0o755);
    await writeFile(join(dir, 'helm'), 'not executable');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('finds built tools in REBOUND_TOOLS_DIR', () => {
    expect(toolPath('etcd', { REBOUND_TOOLS_DIR: dir })).toBe(join(dir, 'etcd'));
  });

  it('defaults to ~/.cache/rebound/bin', () => {
    expect(toolsDir({ HOME: '/home/x' })).toMatch(/\.cache\/rebound\/bin$/);
  });

  it('says to run make setup when a built tool is missing or not executable', () => {
    for (const name of ['kube-apiserver', 'helm'] as const) {
      expect(() => toolPath(name, { REBOUND_TOOLS_DIR: dir })).toThrow(/is not built: .* Run `make setup`/);
    }
    expect(missingTools(['etcd', 'helm', 'kube-apiserver'], { REBOUND_TOOLS_DIR: dir })).toEqual([
      'helm',
      'kube-apiserver',
    ]);
  });

  it('finds Debian tools on PATH before /usr/bin', async () => {
    await writeFile(join(dir, 'promtool'), '#!/bin/true\n');
    await chmod(join(dir, 'promtool'), 0o755);
    expect(toolPath('promtool', { PATH: dir })).toBe(join(dir, 'promtool'));
  });
});
