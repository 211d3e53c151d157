// The loop's StageRepository over the Git store: commits carry DESIGN.md's trailers, and charts are
// materialised from the exact commit that was pushed, so Helm applies what the audit trail shows.
import * as fs from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import git from 'isomorphic-git';
import { ReboundError } from '../../errors.ts';
import type { GitStore } from '../../gitstore/store.ts';
import type { CommitOutcome, CommitRequest, StageRepository } from './ports.ts';

/** Materialising a chart is bounded: a chart is a handful of small files. */
const MAX_MATERIALIZED_FILES = 2_000;

export class GitStageRepository implements StageRepository {
  private readonly store: GitStore;

  constructor(store: GitStore) {
    this.store = store;
  }

  async commitAction(request: CommitRequest): Promise<CommitOutcome> {
    const [action, ...value] = request.actionLabel.split(' ');
    const result = await this.store.commitEdit(request.branch, {
      path: request.path,
      edit: request.edit,
      message: request.subject,
      trailers: {
        problem: { namespace: request.problem.namespace, name: request.problem.name, uid: request.problem.uid },
        attempt: request.attempt,
        action: { action: action ?? '', value: value.join(' ') },
      },
      ...(request.problem.created ? { since: request.problem.created } : {}),
    });
    switch (result.status) {
      case 'committed':
        return { kind: 'committed', sha: result.sha };
      case 'alreadyCommitted':
        return { kind: 'already-committed', sha: result.sha };
      case 'noChange':
        return { kind: 'no-change', sha: result.head, reason: result.reason };
    }
  }

  async readFileAt(commit: string, path: string): Promise<string | undefined> {
    return (await this.store.readFileAt(commit, path))?.text;
  }

  async materialize(commit: string, paths: readonly string[], dir: string): Promise<void> {
    let written = 0;
    const write = async (path: string, oid: string): Promise<void> => {
      if (++written > MAX_MATERIALIZED_FILES) {
        throw new ReboundError(`more than ${MAX_MATERIALIZED_FILES} files under ${paths.join(', ')} at ${commit}`, { code: 'ChartTooLarge', reason: 'ApplyFailed', retryable: false });
      }
      const target = confined(dir, path);
      const { blob } = await git.readBlob({ fs, gitdir: this.store.dir, oid });
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, blob);
    };
    const walk = async (path: string, treeOid: string): Promise<void> => {
      const { tree } = await git.readTree({ fs, gitdir: this.store.dir, oid: treeOid });
      for (const entry of tree) {
        const child = `${path}/${entry.path}`;
        if (entry.type === 'tree') await walk(child, entry.oid);
        else if (entry.type === 'blob') await write(child, entry.oid);
      }
    };
    for (const path of paths) {
      const found = await resolvePath(this.store.dir, commit, path);
      if (!found) {
        throw new ReboundError(`${path} does not exist at ${commit.slice(0, 12)}`, { code: 'ChartNotFound', reason: 'ApplyFailed', retryable: false });
      }
      if (found.type === 'tree') await walk(path, found.oid);
      else await write(path, found.oid);
    }
  }
}

async function resolvePath(gitdir: string, commit: string, path: string): Promise<{ type: 'tree' | 'blob'; oid: string } | undefined> {
  const { commit: parsed } = await git.readCommit({ fs, gitdir, oid: commit });
  let current: { type: 'tree' | 'blob'; oid: string } = { type: 'tree', oid: parsed.tree };
  for (const segment of path.split('/').filter((s) => s.length > 0)) {
    if (current.type !== 'tree') return undefined;
    const { tree } = await git.readTree({ fs, gitdir, oid: current.oid });
    const entry = tree.find((e) => e.path === segment);
    if (!entry || (entry.type !== 'tree' && entry.type !== 'blob')) return undefined;
    current = { type: entry.type, oid: entry.oid };
  }
  return current;
}

/** A repository path under `dir`, refusing anything that would land outside it. */
export function confined(dir: string, path: string): string {
  const target = normalize(join(dir, path));
  if (!target.startsWith(normalize(dir) + sep)) {
    throw new ReboundError(`path ${JSON.stringify(path)} leaves the work directory`, { code: 'PathOutsideRepository', reason: 'ApplyFailed', retryable: false });
  }
  return target;
}
