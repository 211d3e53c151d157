// The loop's StageRepository over the Git store: commits carry docs/design.md's trailers, and charts are
// materialised from the exact commit that was pushed, so Helm applies what the audit trail shows.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { ReboundError } from '../../errors.ts';
import type { EditResult, FileEdit, GitStore } from '../../gitstore/store.ts';
import type { BranchPathHistory, CommitOutcome, CommitRequest, StageRepository } from '../../remediation/stage.ts';

/** Materialising a chart is bounded: a chart is a handful of small files. */
const MAX_MATERIALIZED_FILES = 2_000;

export class GitStageRepository implements StageRepository {
  private readonly store: GitStore;

  constructor(store: GitStore) {
    this.store = store;
  }

  async commitAction(request: CommitRequest): Promise<CommitOutcome> {
    return outcomeOf(await this.store.commitEdit(request.branch, fileEdit(request)));
  }

  async proposeAction(request: CommitRequest, proposalBranch: string): Promise<CommitOutcome> {
    return outcomeOf(await this.store.commitEditToNewBranch(request.branch, proposalBranch, fileEdit(request)));
  }

  contains(branch: string, ancestor: string, descendant: string, committed?: Date): Promise<boolean> {
    return this.store.contains(branch, ancestor, descendant, committed);
  }

  async pathHistory(branch: string, since: string, path: string): Promise<BranchPathHistory> {
    const history = await this.store.pathHistory(branch, since, path);
    return {
      head: history.head,
      found: history.found,
      ...(history.base ? { base: history.base } : {}),
      changes: history.changes.map((c) => ({
        sha: c.sha,
        ...(c.parent ? { parent: c.parent } : {}),
        author: c.author,
        ...(c.trailers
          ? {
              rebound: {
                uid: c.trailers.problem.uid,
                attempt: c.trailers.attempt,
                ...(c.trailers.notes?.reasserts ? { reasserts: c.trailers.notes.reasserts } : {}),
              },
            }
          : {}),
      })),
    };
  }

  async readFileAt(commit: string, path: string): Promise<string | undefined> {
    return (await this.store.readFileAt(commit, path))?.text;
  }

  async readFileAtHead(branch: string, path: string): Promise<{ commit: string; text: string } | undefined> {
    const file = await this.store.readFile(branch, path);
    return file ? { commit: file.commit, text: file.text } : undefined;
  }

  async readFileAtKnownHead(branch: string, path: string): Promise<{ commit: string; text: string } | undefined> {
    const file = await this.store.readFileAtKnownHead(branch, path);
    return file ? { commit: file.commit, text: file.text } : undefined;
  }

  fileHistory(
    tip: string,
    since: string,
    path: string,
  ): Promise<{ sha: string; parent: string; author: string; subject: string }[]> {
    return this.store.fileHistory(tip, since, path);
  }

  async materialize(commit: string, paths: readonly string[], dir: string): Promise<void> {
    for (const path of paths) {
      const files = await this.store.filesAt(commit, path, MAX_MATERIALIZED_FILES);
      if (!files) {
        throw new ReboundError(`${path} does not exist at ${commit.slice(0, 12)}`, {
          code: 'ChartNotFound',
          reason: 'ApplyFailed',
          retryable: false,
        });
      }
      for (const [file, content] of files) {
        const target = confined(dir, file);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, content);
      }
    }
  }
}

/** The store's edit for a commit request: the message, trailers and the window a retry searches. */
function fileEdit(request: CommitRequest): FileEdit {
  const [action, ...value] = request.actionLabel.split(' ');
  return {
    path: request.path,
    edit: request.edit,
    message: request.subject,
    trailers: {
      problem: { namespace: request.problem.namespace, name: request.problem.name, uid: request.problem.uid },
      attempt: request.attempt,
      action: { action: action ?? '', value: value.join(' ') },
      ...(request.notes ? { notes: request.notes } : {}),
    },
    ...(request.problem.created ? { since: request.problem.created } : {}),
  };
}

function outcomeOf(result: Exclude<EditResult, { status: 'failed' }>): CommitOutcome {
  switch (result.status) {
    case 'committed':
      return { kind: 'committed', sha: result.sha };
    case 'alreadyCommitted':
      return { kind: 'already-committed', sha: result.sha };
    case 'noChange':
      return { kind: 'no-change', sha: result.head, reason: result.reason };
  }
}

/** A repository path under `dir`, refusing anything that would land outside it. */
export function confined(dir: string, path: string): string {
  const target = normalize(join(dir, path));
  if (!target.startsWith(normalize(dir) + sep)) {
    throw new ReboundError(`path ${JSON.stringify(path)} leaves the work directory`, {
      code: 'PathOutsideRepository',
      reason: 'ApplyFailed',
      retryable: false,
    });
  }
  return target;
}
