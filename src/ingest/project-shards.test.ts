import { describe, expect, it } from 'vitest';
import type { Project } from '../api/index.ts';
import { ProjectShards } from './project-shards.ts';

function project(name: string, shard?: string): Project {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Project',
    metadata: { name, ...(shard ? { labels: { 'rebound.dev/shard': shard } } : {}) },
    spec: { git: { url: 'http://git/x.git' } },
  };
}

describe('ProjectShards', () => {
  it('reads the shard label once per project for a burst, and again after the TTL', async () => {
    let now = 0;
    const reads: string[] = [];
    const stored = new Map([
      ['shop', project('shop', 'eu')],
      ['plain', project('plain')],
    ]);
    const shards = new ProjectShards({
      getProject: (name) => {
        reads.push(name);
        return Promise.resolve(stored.get(name));
      },
      ttlMs: 1_000,
      now: () => now,
    });
    expect(
      await Promise.all([
        shards.shardOf('shop'),
        shards.shardOf('shop'),
        shards.shardOf('plain'),
        shards.shardOf('missing'),
      ]),
    ).toEqual(['eu', 'eu', undefined, undefined]);
    expect(reads).toEqual(['shop', 'plain', 'missing']);
    stored.set('shop', project('shop', 'us'));
    now = 999;
    expect(await shards.shardOf('shop')).toBe('eu');
    now = 1_000;
    expect(await shards.shardOf('shop')).toBe('us');
  });

  it('passes a failed read on and remembers nothing from it', async () => {
    let fail = true;
    const shards = new ProjectShards({
      getProject: () => (fail ? Promise.reject(new Error('API down')) : Promise.resolve(project('shop', 'eu'))),
    });
    await expect(shards.shardOf('shop')).rejects.toThrow('API down');
    fail = false;
    expect(await shards.shardOf('shop')).toBe('eu');
  });
});
