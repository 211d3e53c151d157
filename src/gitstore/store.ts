// The Git store: one persistent object store per Project (a bare directory, no work tree), read and
// written at the object level.
//
// Why not isomorphic-git's porcelain (`commit`, `push`): ../../docs/gitstore.md has the numbers. Its
// commit rebuilds every tree (O(files)), its push walks the whole history and both full trees and sends
// them without deltas. A remediation step touches one file, so this store reads and writes only that
// blob, the trees on its path and the commit, sends exactly those objects (deltified against what the
// server has) to receive-pack with the old tip as the expected value, and fetches only when the tip
// moved. isomorphic-git does the fetching (pack negotiation, shallow clones, pack indexing) and the
// object reads.
import * as fs from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';
import git from 'isomorphic-git';
import { ReboundError } from '../errors.ts';
import { sleep, systemClock } from '../runtime/clock.ts';
import { GroupCommitter } from './batch.ts';
import { DEFAULT_FETCH_LIMITS, DEFAULT_MAX_FILE_BYTES, FETCH_TOO_LARGE, FileTooLargeError } from './limits.ts';
import type { FetchLimits } from './limits.ts';
import { Mutex } from './lock.ts';
import { ObjectCache } from './object-cache.ts';
import { ObjectSizes } from './object-size.ts';
import {
  TREE_MODE,
  findTreeEntry,
  TreeEntryFinder,
  makeObject,
  parseCommit,
  parseTree,
  serializeCommit,
  withEntryOid,
} from './objects.ts';
import type { GitObject, ParsedCommit, TreeEntry } from './objects.ts';
import { SMALL_ZLIB, buildPack } from './pack.ts';
import type { PackEntry } from './pack.ts';
import { GitRemote, ZERO_OID } from './remote.ts';
import type { GitCredentials } from './remote.ts';
import { formatCommitMessage, parseReboundTrailers, stepId, trailersStepId } from './trailers.ts';
import type { ReboundTrailers, StepKey } from './trailers.ts';
import { StepIndex } from './step-index.ts';
import type { WalkedCommit } from './step-index.ts';

export interface StoreLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface StoreOptions {
  /** Directory of the local object store (created if missing); it survives restarts. */
  dir: string;
  /** http(s) URL of the repository, without credentials. */
  url: string;
  auth?: GitCredentials;
  /** Author and committer of Rebound's commits (the Project's `spec.git.author`). */
  author: { name: string; email: string };
  logger?: StoreLogger;
  /** Push attempts before giving up on a branch others keep moving, or a server that keeps failing
   * in transit (connection dropped, 5xx). Default 5. */
  maxAttempts?: number;
  /** First backoff after a rejected push; doubles each time (with jitter), capped at 2 s. Default 25 ms. */
  backoffMs?: number;
  /** Commits searched for an earlier copy of a step when the edit gives no `since`. Default 200. */
  idempotencyDepth?: number;
  /** Clock for commit timestamps (tests). */
  now?: () => Date;
  /** Largest file read or edited, checked from the object's header before reading it. Default 1 MiB. */
  maxFileBytes?: number;
  /** Largest chart (all its files) `filesAt` reads. Default 32 MiB. */
  maxTreeBytes?: number;
  /** What one fetch may bring in (wire size, inflated size of each object). */
  fetchLimits?: Partial<FetchLimits>;
  /** Called for each push redone after the server refused it or it failed in transit (a metric). */
  onPushRetry?: () => void;
}

/** The edit of one file: text in and text out, so it can be re-applied on a newer head. */
export type EditOutcome = { text: string; summary: string } | { unchanged: string };

export interface FileEdit {
  /** Path inside the branch, e.g. `carts/values.yaml`. */
  path: string;
  /** Should be pure (it may run more than once); may be async. */
  edit: (text: string) => EditOutcome | Promise<EditOutcome>;
  /** The commit's subject line, or a function of the edit's summary. */
  message: string | ((summary: string) => string);
  body?: string;
  trailers?: ReboundTrailers;
  /** Oldest time an earlier commit of this step can have (the problem's creation): bounds the
   * idempotency search, and lets it deepen a shallow history back to that time if needed. */
  since?: Date;
}

export type EditResult =
  | { status: 'committed'; sha: string; summary: string; pushed: true; attemptsNeeded: number }
  /** The step was committed before (found by its trailers): nothing new was committed. */
  | { status: 'alreadyCommitted'; sha: string }
  /** The branch already has what the edit wants. */
  | { status: 'noChange'; reason: string; head: string }
  | { status: 'failed'; error: ReboundError };

export interface FileAtCommit {
  text: string;
  commit: string;
  /** Blob id: cheap change detection for watchers. */
  blob: string;
}

/** A commit that changed a file (GitStore.pathHistory). */
export interface PathChange {
  sha: string;
  /** Its first parent (absent for a root commit). */
  parent?: string;
  /** `Name <email>` of the commit's author. */
  author: string;
  /** Rebound's trailers; absent for a person's or a pipeline's commit. */
  trailers?: ReboundTrailers;
}

export interface PathHistory {
  head: string;
  /** The first parent of `since`: the file as it was before Rebound's commit. */
  base?: string;
  found: boolean;
  changes: PathChange[];
}

export interface StoreStats {
  fetches: number;
  pushes: number;
  rejectedPushes: number;
  /** Pushes that failed in transit (connection dropped, 5xx) and were redone. */
  failedPushes: number;
  /** Size of the last push request body (commands and pack). */
  lastPushBytes: number;
}

const REMOTE = 'origin';
const OBJECT_CACHE_LIMIT = 512;
/** Objects the cache may hold in all: a few root trees of a 1,000-service repository and their paths. */
const OBJECT_CACHE_BYTES = 4 * 1024 * 1024;
const COMMIT_CACHE_LIMIT = 4096;
/** How far back a look-up for a step since a time walks at most. */
const SINCE_WALK_LIMIT = 10_000;

export async function openStore(options: StoreOptions): Promise<GitStore> {
  const store = new GitStore(options);
  await store.init();
  return store;
}

export class GitStore {
  readonly dir: string;
  private readonly remote: GitRemote;
  private readonly options: StoreOptions;
  /** The object store and the caches: held for local reads and writes, never across a push. */
  private readonly lock = new Mutex();
  /** One push at a time per branch (a second one would only be refused). */
  private readonly pushLocks = new Map<string, Mutex>();
  /** Edits that arrive while a push to their branch is in flight go out together in the next one. */
  private readonly batcher = new GroupCommitter<FileEdit, EditResult>({
    flush: (branch, edits) => this.commitEdits(branch, edits),
  });
  /** What we last saw at the server for each branch (also stored as refs/remotes/origin/<branch>). */
  private readonly tips = new Map<string, string>();
  private readonly objects = new ObjectCache({ maxObjects: OBJECT_CACHE_LIMIT, maxBytes: OBJECT_CACHE_BYTES });
  private readonly commits = new Map<string, ParsedCommit & { trailers: ReboundTrailers | undefined }>();
  /** isomorphic-git's cache (pack indexes and whole packs it read): renewed after each fetch, so the
   * packs of past fetches are not held for the life of the process. */
  private isoCache: object = {};
  private readonly madeDirs = new Set<string>();
  private readonly sizes: ObjectSizes;
  private shallow = new Set<string>();
  /** The Rebound steps each branch's history holds, so a storm's commits do not each walk it all. */
  private readonly stepIndex = new StepIndex();
  /** Large trees' entries by name (a storm's commits all go through the same root tree). */
  private readonly trees = new TreeEntryFinder();
  private counters: StoreStats = { fetches: 0, pushes: 0, rejectedPushes: 0, failedPushes: 0, lastPushBytes: 0 };

  constructor(options: StoreOptions) {
    this.options = options;
    this.dir = options.dir;
    this.remote = new GitRemote(options.url, options.auth, { ...DEFAULT_FETCH_LIMITS, ...options.fetchLimits });
    this.sizes = new ObjectSizes(options.dir);
  }

  get url(): string {
    return this.remote.url;
  }

  /** @internal use openStore */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    if (!fs.existsSync(join(this.dir, 'HEAD'))) await git.init({ fs, gitdir: this.dir, bare: true });
    // isomorphic-git's fetch needs the remote's refspec in the config; the URL never has credentials.
    await git.addRemote({ fs, gitdir: this.dir, remote: REMOTE, url: this.remote.url, force: true });
    await this.loadShallow();
  }

  stats(): StoreStats {
    return { ...this.counters };
  }

  close(): void {
    this.remote.close();
  }

  /** The branch's head at the server, fetched into the store if it moved. One request when it did not. */
  async head(branch: string): Promise<string> {
    return this.lock.run(() => this.sync(branch));
  }

  /**
   * The heads of several branches from one ref listing (one request), each fetched if it moved. A
   * branch missing at the server maps to a GitBranchNotFound error instead of failing the others.
   */
  async heads(branches: readonly string[]): Promise<Map<string, string | ReboundError>> {
    return this.lock.run(async () => {
      const refs = await this.remote.listRefs('git-upload-pack');
      const out = new Map<string, string | ReboundError>();
      for (const branch of branches) {
        const tip = refs.get(`refs/heads/${branch}`);
        if (tip === undefined) {
          out.set(branch, this.branchNotFound(branch));
          continue;
        }
        await this.catchUp(branch, tip);
        out.set(branch, tip);
      }
      return out;
    });
  }

  /**
   * The file at the head last seen for `branch`, without asking the server (the first read of a
   * branch does). For the remediation step's hot path: newer heads arrive through the Project's poll
   * or a push webhook, and a push from an older head is refused and redone on the new one anyway.
   */
  async readFileAtKnownHead(branch: string, path: string): Promise<FileAtCommit | undefined> {
    return this.lock.run(async () => {
      const commit = this.tips.get(branch) ?? (await this.sync(branch));
      return this.readAt(commit, path);
    });
  }

  /** The file at the branch's current head, or undefined when the path does not exist there. */
  async readFile(branch: string, path: string): Promise<FileAtCommit | undefined> {
    return this.lock.run(async () => {
      const commit = await this.sync(branch);
      return this.readAt(commit, path);
    });
  }

  /** The file at a commit already in the store (no network). */
  async readFileAt(commit: string, path: string): Promise<FileAtCommit | undefined> {
    return this.lock.run(() => this.readAt(commit, path));
  }

  /**
   * Every file under `path` (a file or a folder) at a commit already in the store, keyed by its full
   * path; undefined when the path does not exist there. Bounded: a chart is a handful of files.
   */
  async filesAt(commit: string, path: string, maxFiles = 2_000): Promise<Map<string, Buffer> | undefined> {
    return this.lock.run(async () => {
      const parts = path.split('/').filter((p) => p !== '');
      let oid = (await this.commit(commit)).tree;
      let mode = TREE_MODE;
      for (const part of parts) {
        if (mode !== TREE_MODE) return undefined;
        const entry = findTreeEntry((await this.object(oid)).content, part);
        if (entry === undefined) return undefined;
        ({ oid, mode } = entry);
      }
      const files = new Map<string, Buffer>();
      const maxBytes = this.options.maxTreeBytes ?? 32 * 1024 * 1024;
      let bytes = 0;
      const add = async (filePath: string, blobOid: string): Promise<void> => {
        if (files.size >= maxFiles) {
          throw new ReboundError(`more than ${maxFiles} files under ${path} at ${commit.slice(0, 12)}`, {
            code: 'TooManyFiles',
            reason: 'ApplyFailed',
            retryable: false,
          });
        }
        const size = await this.sizeOf(blobOid);
        bytes += size;
        if (bytes > maxBytes)
          throw new FileTooLargeError({ path: filePath, commit, size, limit: maxBytes - (bytes - size) });
        files.set(filePath, (await this.object(blobOid)).content);
      };
      const walk = async (prefix: string, treeOid: string): Promise<void> => {
        for (const entry of parseTree((await this.object(treeOid)).content)) {
          const child = `${prefix}/${entry.name}`;
          if (entry.mode === TREE_MODE) await walk(child, entry.oid);
          else await add(child, entry.oid);
        }
      };
      const base = parts.join('/');
      if (mode === TREE_MODE) await walk(base, oid);
      else await add(base, oid);
      return files;
    });
  }

  /** Files that differ between two commits in the store (added, removed or changed). */
  async changedPaths(oldCommit: string | undefined, newCommit: string): Promise<string[]> {
    return this.lock.run(async () => {
      const newTree = (await this.commit(newCommit)).tree;
      const oldTree = oldCommit === undefined ? undefined : (await this.commit(oldCommit)).tree;
      const out: string[] = [];
      await this.diffTrees(oldTree, newTree, '', out);
      return out.sort();
    });
  }

  /**
   * The commits after `since` on the first-parent line down from `tip` (both in the store) that
   * changed `path`, newest first, with their parent and author: who changed a file since Rebound's
   * commit. Bounded to `maxCommits` commits walked; stops at `since`.
   */
  async fileHistory(
    tip: string,
    since: string,
    path: string,
    maxCommits = 500,
  ): Promise<{ sha: string; parent: string; author: string; subject: string }[]> {
    return this.lock.run(async () => {
      const { changes } = await this.walkPathChanges(tip, since, path, maxCommits);
      return changes.flatMap(({ sha, parent, author, subject }) =>
        parent === undefined ? [] : [{ sha, parent, author, subject }],
      );
    });
  }

  /**
   * Whether `descendant` is `ancestor` or a later commit whose history holds it (a person pushed on
   * top of Rebound's commit). `descendant` is fetched from `branch` when the store lacks it; a
   * shallow history is deepened once, back to `committed` (when `ancestor` was made; default: its
   * commit time). Bounded to `maxCommits` commits.
   */
  async contains(
    branch: string,
    ancestor: string,
    descendant: string,
    committed?: Date,
    maxCommits = 10_000,
  ): Promise<boolean> {
    if (ancestor === descendant) return true;
    return this.lock.run(async () => {
      if (!(await this.hasObject(descendant))) await this.sync(branch);
      if (!(await this.hasObject(descendant))) return false;
      const made =
        committed?.getTime() ??
        ((await this.hasObject(ancestor)) ? (await this.commit(ancestor)).time * 1000 : undefined);
      // A minute of slack: commit times are whole seconds, and `committed` is taken after the push.
      const since = made === undefined ? undefined : new Date(made - 60_000);
      let deepened = false;
      const seen = new Set<string>();
      const queue = [descendant];
      while (queue.length > 0 && seen.size < maxCommits) {
        const oid = queue.shift() ?? '';
        if (seen.has(oid)) continue;
        seen.add(oid);
        if (oid === ancestor) return true;
        if (this.shallow.has(oid)) {
          if (deepened || since === undefined) continue;
          deepened = true;
          await this.fetch(branch, since);
          if (this.shallow.has(oid)) continue;
        }
        queue.push(...(await this.commit(oid)).parents);
      }
      return false;
    });
  }

  /**
   * The branch's head, fetched, and the commits after `since` on its first-parent line that changed
   * `path`, newest first, each with its author and Rebound trailers (holds: who set a value back).
   * `found` is false when `since` is not within `maxCommits` of the head (history rewritten).
   */
  async pathHistory(branch: string, since: string, path: string, maxCommits = 500): Promise<PathHistory> {
    return this.lock.run(async () => {
      const head = await this.sync(branch);
      const base = (await this.hasObject(since)) ? (await this.commit(since)).parents[0] : undefined;
      const walked = await this.walkPathChanges(head, since, path, maxCommits);
      const changes = walked.changes.map(({ subject: _s, parent, ...change }) => ({
        ...change,
        ...(parent ? { parent } : {}),
      }));
      return { head, found: walked.found, changes, ...(base ? { base } : {}) };
    });
  }

  /** fileHistory and pathHistory's walk, under the lock: down the first parents from `tip` to `since`. */
  private async walkPathChanges(
    tip: string,
    since: string,
    path: string,
    maxCommits: number,
  ): Promise<{
    found: boolean;
    changes: (Omit<PathChange, 'parent'> & { parent: string | undefined; subject: string })[];
  }> {
    const changes: (Omit<PathChange, 'parent'> & { parent: string | undefined; subject: string })[] = [];
    let oid: string | undefined = tip;
    for (let seen = 0; oid !== undefined && seen < maxCommits; seen += 1) {
      if (oid === since) return { found: true, changes };
      if (this.shallow.has(oid)) break;
      const commit = await this.commit(oid);
      const parent = commit.parents[0];
      const blob = (await this.readAt(oid, path))?.blob;
      const before = parent === undefined ? undefined : (await this.readAt(parent, path))?.blob;
      if (blob !== before)
        changes.push({
          sha: oid,
          parent,
          author: commit.author ?? '',
          subject: commit.message.split('\n')[0] ?? '',
          ...(commit.trailers ? { trailers: commit.trailers } : {}),
        });
      oid = parent;
    }
    return { found: false, changes };
  }

  /** The commit of an earlier step with the same problem uid and attempt on the branch, if any. */
  async findCommitByTrailers(branch: string, key: StepKey, since?: Date): Promise<string | undefined> {
    return this.lock.run(async () => {
      const tip = await this.sync(branch);
      return this.findStep(branch, tip, key, since);
    });
  }

  /**
   * Commits one edit and pushes it. Edits for the same branch that arrive while a push is in flight
   * are committed together (one commit each, with its own trailers) and pushed in one request.
   */
  async commitEdit(branch: string, edit: FileEdit): Promise<Exclude<EditResult, { status: 'failed' }>> {
    const result = await this.batcher.submit(branch, edit);
    if (result.status === 'failed') throw result.error;
    return result;
  }

  /**
   * Commits each edit (one commit per edit, in order) on top of the branch's head and pushes them all
   * in one request.
   *
   * The push itself is the freshness check: it names the head the edits were made on, and the server
   * refuses it if the branch has moved since. So a step in a quiet repository costs one request, and
   * a step that raced a person's push fetches the new head, re-applies every edit there (an edit that
   * is no longer needed commits nothing) and retries with bounded backoff. Results that push nothing
   * (already committed, no change) are only returned once the head they were decided on is confirmed.
   */
  async commitEdits(branch: string, edits: readonly FileEdit[]): Promise<EditResult[]> {
    let pushLock = this.pushLocks.get(branch);
    if (!pushLock) {
      pushLock = new Mutex();
      this.pushLocks.set(branch, pushLock);
    }
    return pushLock.run(() => this.pushEdits(branch, edits));
  }

  /**
   * Commits one edit made on `base`'s head to the branch `proposal` (a merge-mode approval's
   * proposal branch): created by the push itself (the server refuses it if the branch appeared
   * meanwhile), or, when it exists already, committed on its head like any edit (so a retry finds
   * its earlier commit by the trailers). `base` itself is never changed.
   */
  async commitEditToNewBranch(
    base: string,
    proposal: string,
    edit: FileEdit,
  ): Promise<Exclude<EditResult, { status: 'failed' }>> {
    let pushLock = this.pushLocks.get(proposal);
    if (!pushLock) {
      pushLock = new Mutex();
      this.pushLocks.set(proposal, pushLock);
    }
    const created = await pushLock.run(async () => {
      const refs = await this.remote.listRefs('git-receive-pack');
      if (refs.has(`refs/heads/${proposal}`)) return undefined;
      const baseTip = refs.get(`refs/heads/${base}`);
      if (baseTip === undefined) throw this.branchNotFound(base);
      const plan = await this.lock.run(async () => {
        await this.catchUp(base, baseTip);
        return this.prepare(base, baseTip, [edit]);
      });
      const [pending] = plan.results;
      if (pending === undefined || plan.entries.length === 0) return pending?.result;
      const outcome = await this.remote
        .receivePack([{ ref: `refs/heads/${proposal}`, old: ZERO_OID, new: plan.tip }], buildPack(plan.entries))
        .catch((err: unknown) => {
          throw this.remote.classify(err, `pushing to ${proposal}`);
        });
      if (!outcome.ok) return undefined; // created meanwhile: commit on its head below
      this.counters.pushes += 1;
      await this.lock.run(async () => {
        await Promise.all(plan.entries.map(({ object }) => this.writeLoose(object)));
        await this.setTip(proposal, plan.tip);
      });
      this.options.logger?.info({ branch: proposal, base, commit: plan.tip }, 'pushed proposal branch');
      return finish(pending, 1);
    });
    if (created === undefined) return this.commitEdit(proposal, edit);
    if (created.status === 'failed') throw created.error;
    return created;
  }

  /** commitEdits with the branch's push lock held; the store lock only around local work. */
  private async pushEdits(branch: string, edits: readonly FileEdit[]): Promise<EditResult[]> {
    const maxAttempts = Math.max(1, this.options.maxAttempts ?? 5);
    const ref = `refs/heads/${branch}`;
    let base = this.tips.get(branch);
    let confirmed = base === undefined;
    base ??= await this.lock.run(() => this.sync(branch, 'git-receive-pack'));
    for (let attempt = 1; ; attempt += 1) {
      const onBase: string = base;
      const plan = await this.lock.run(() => this.prepare(branch, onBase, edits));
      if (plan.entries.length === 0) {
        if (!confirmed) {
          const head = await this.lock.run(() => this.sync(branch, 'git-receive-pack'));
          confirmed = true;
          if (head !== base) {
            base = head;
            attempt -= 1;
            continue;
          }
        }
        return plan.results.map((r) => finish(r, attempt));
      }
      const pack = buildPack(plan.entries);
      this.counters.pushes += 1;
      this.counters.lastPushBytes = pack.length + 110;
      // Written before the push, as `git commit` does before `git push`: a push whose answer is lost
      // may have landed, and the store must then hold the objects the server's new head names.
      await this.lock.run(() => Promise.all(plan.entries.map(({ object }) => this.writeLoose(object))));
      // Only the network here: reads of the store (policies, charts) go on meanwhile.
      let outcome: Awaited<ReturnType<GitRemote['receivePack']>>;
      try {
        outcome = await this.remote.receivePack([{ ref, old: base, new: plan.tip }], pack);
      } catch (err) {
        const error = this.remote.classify(err, `pushing to ${branch}`);
        // A dropped connection or a 5xx: the push may or may not have landed. Redo it on the server's
        // head: if it landed, the trailers find every step there and nothing is committed twice.
        if (!isTransient(error) || attempt >= maxAttempts) throw error;
        this.counters.failedPushes += 1;
        this.options.onPushRetry?.();
        this.options.logger?.warn(
          { branch, attempt, commits: plan.results.length, err: error.message },
          'push failed in transit, retrying on the head the server has',
        );
        await sleep(systemClock, backoff(attempt, this.options.backoffMs ?? 25));
        base = await this.syncForRetry(branch, attempt, maxAttempts);
        confirmed = true;
        continue;
      }
      if (outcome.ok) {
        const pushedOn: string = base;
        await this.lock.run(async () => {
          // A poll during the push may have seen our commit, or a newer one: never move the tip back.
          if (this.tips.get(branch) === pushedOn) await this.setTip(branch, plan.tip);
        });
        const commits = plan.results.filter((r) => r.result.status === 'committed').length;
        this.options.logger?.info(
          { branch, commit: plan.tip, commits, attempts: attempt },
          'pushed remediation commit',
        );
        return plan.results.map((r) => finish(r, attempt));
      }
      this.counters.rejectedPushes += 1;
      this.options.onPushRetry?.();
      this.options.logger?.info(
        { branch, attempt, rejected: outcome.rejected },
        'push rejected, the branch moved: retrying on the new head',
      );
      if (attempt >= maxAttempts) {
        throw new ReboundError(
          `push to ${branch} was rejected ${attempt} times (${outcome.rejected}); the branch keeps moving`,
          {
            code: 'GitPushConflict',
            reason: 'PushRejected',
            retryable: true,
          },
        );
      }
      // A head we had confirmed just now lost a race: back off before trying again. A head we only
      // remembered was simply stale: retry at once on the fresh one.
      if (confirmed) await sleep(systemClock, backoff(attempt, this.options.backoffMs ?? 25));
      base = await this.syncForRetry(branch, attempt, maxAttempts);
      confirmed = true;
    }
  }

  /** The server's head before a retry; a read that fails in transit is itself retried while attempts last. */
  private async syncForRetry(branch: string, attempt: number, maxAttempts: number): Promise<string> {
    for (let tries = attempt; ; tries += 1) {
      try {
        return await this.lock.run(() => this.sync(branch, 'git-receive-pack'));
      } catch (err) {
        if (!(err instanceof ReboundError) || !isTransient(err) || tries >= maxAttempts) throw err;
        await sleep(systemClock, backoff(tries, this.options.backoffMs ?? 25));
      }
    }
  }

  // ---- internals (called with the lock held) ----

  /** Builds the commits for `edits` on `base` in memory. */
  private async prepare(
    branch: string,
    base: string,
    edits: readonly FileEdit[],
  ): Promise<{ tip: string; entries: PackEntry[]; results: PendingResult[] }> {
    let tip = base;
    const entries: PackEntry[] = [];
    const results: PendingResult[] = [];
    const now = Math.floor((this.options.now?.() ?? new Date()).getTime() / 1000);
    for (const edit of edits) {
      try {
        const key = stepKey(edit);
        if (key !== undefined) {
          // Within this batch first (an alert storm may carry duplicates), then the branch's history.
          const found = committedInBatch(results, key) ?? (await this.findStep(branch, base, key, edit.since));
          if (found !== undefined) {
            results.push({ key, result: { status: 'alreadyCommitted', sha: found } });
            continue;
          }
        }
        const parent = await this.commit(tip);
        const located = await this.locate(parent.tree, edit.path, tip);
        if (located.blob === undefined) {
          throw new ReboundError(`${edit.path} does not exist on branch ${branch}`, {
            code: 'GitFileNotFound',
            reason: 'CommitFailed',
            retryable: false,
          });
        }
        const outcome = await edit.edit(located.blob.content.toString('utf8'));
        if ('unchanged' in outcome) {
          results.push({ key, result: { status: 'noChange', reason: outcome.unchanged, head: tip } });
          continue;
        }
        const blob = makeObject('blob', Buffer.from(outcome.text, 'utf8'));
        if (blob.oid === located.blob.oid) {
          results.push({
            key,
            result: { status: 'noChange', reason: `${edit.path} already has this content`, head: tip },
          });
          continue;
        }
        const newTree = this.rewritePath(located, blob, entries);
        const subject = typeof edit.message === 'function' ? edit.message(outcome.summary) : edit.message;
        const who = { name: this.options.author.name, email: this.options.author.email, timestamp: now };
        const message = formatCommitMessage(subject, edit.trailers, edit.body);
        const commit = makeObject(
          'commit',
          serializeCommit({ tree: newTree.oid, parents: [tip], author: who, committer: who, message }),
        );
        entries.unshift({ object: commit });
        this.remember(commit);
        tip = commit.oid;
        results.push({
          key,
          result: { status: 'committed', sha: commit.oid, summary: outcome.summary, pushed: true, attemptsNeeded: 0 },
        });
      } catch (err) {
        // One bad edit (a missing file, an edit function that throws) must not sink the batch.
        const error =
          err instanceof ReboundError
            ? err
            : new ReboundError(`editing ${edit.path}: ${err instanceof Error ? err.message : String(err)}`, {
                code: 'EditFailed',
                reason: 'CommitFailed',
                retryable: false,
                cause: err,
              });
        results.push({ key: stepKey(edit), result: { status: 'failed', error } });
      }
    }
    return { tip, entries, results };
  }

  /** The trees from the root down to the file's directory, and the file's blob (`at` names the
   * commit in errors). A blob over the file size limit is refused before it is read. */
  private async locate(rootTree: string, path: string, at: string): Promise<Located> {
    const parts = path.split('/').filter((p) => p !== '');
    const fileName = parts.pop();
    if (fileName === undefined)
      throw new ReboundError('an empty path cannot be edited', {
        code: 'InvalidPath',
        reason: 'CommitFailed',
        retryable: false,
      });
    const chain: Located['chain'] = [];
    let tree = await this.object(rootTree);
    for (const part of parts) {
      const entry = this.trees.find(tree, part);
      if (entry === undefined || entry.mode !== TREE_MODE) return { chain, blob: undefined };
      chain.push({ tree, oidOffset: entry.oidOffset });
      tree = await this.object(entry.oid);
    }
    const entry = this.trees.find(tree, fileName);
    if (entry === undefined || entry.mode === TREE_MODE) return { chain, blob: undefined };
    chain.push({ tree, oidOffset: entry.oidOffset });
    const limit = this.options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    const size = await this.sizeOf(entry.oid);
    if (size > limit) throw new FileTooLargeError({ path: parts.concat(fileName).join('/'), commit: at, size, limit });
    return { chain, blob: await this.object(entry.oid) };
  }

  /** An object's size from its header alone (cached objects: their length). */
  private async sizeOf(oid: string): Promise<number> {
    const cached = this.objects.peek(oid);
    if (cached !== undefined) return cached.content.length;
    const header = await this.sizes.header(oid);
    if (header === undefined) throw new Error(`object ${oid} is not in the store`);
    return header.size;
  }

  /** New trees from the file up to the root; adds them (deltified against the old ones) to `entries`. */
  private rewritePath(located: Located, blob: GitObject, entries: PackEntry[]): GitObject {
    if (located.blob === undefined) throw new Error('rewritePath needs an existing file');
    const added: PackEntry[] = [{ object: blob, base: located.blob }];
    this.remember(blob);
    let child = blob;
    for (let i = located.chain.length - 1; i >= 0; i -= 1) {
      const level = located.chain[i];
      if (level === undefined) continue;
      child = makeObject('tree', withEntryOid(level.tree.content, level.oidOffset, child.oid));
      this.trees.inherit(level.tree.oid, child.oid);
      added.push({ object: child, base: level.tree });
      this.remember(child);
    }
    // Commit first, then the root tree down to the blob: the order Git itself writes.
    entries.unshift(...added.reverse());
    return child;
  }

  private async readAt(commitOid: string, path: string): Promise<FileAtCommit | undefined> {
    const located = await this.locate((await this.commit(commitOid)).tree, path, commitOid);
    if (located.blob === undefined) return undefined;
    return { text: located.blob.content.toString('utf8'), commit: commitOid, blob: located.blob.oid };
  }

  private async diffTrees(
    oldOid: string | undefined,
    newOid: string | undefined,
    prefix: string,
    out: string[],
  ): Promise<void> {
    if (oldOid === newOid) return;
    const oldEntries = oldOid === undefined ? [] : parseTree((await this.object(oldOid)).content);
    const newEntries = newOid === undefined ? [] : parseTree((await this.object(newOid)).content);
    const byName = new Map<string, { old?: TreeEntry; new?: TreeEntry }>();
    for (const e of oldEntries) byName.set(e.name, { old: e });
    for (const e of newEntries) byName.set(e.name, { ...byName.get(e.name), new: e });
    for (const [name, pair] of byName) {
      if (pair.old?.oid === pair.new?.oid && pair.old?.mode === pair.new?.mode) continue;
      const path = `${prefix}${name}`;
      const oldTree = pair.old?.mode === TREE_MODE ? pair.old.oid : undefined;
      const newTree = pair.new?.mode === TREE_MODE ? pair.new.oid : undefined;
      if (oldTree !== undefined || newTree !== undefined) await this.diffTrees(oldTree, newTree, `${path}/`, out);
      if (
        (pair.old !== undefined && pair.old.mode !== TREE_MODE) ||
        (pair.new !== undefined && pair.new.mode !== TREE_MODE)
      )
        out.push(path);
    }
  }

  /** Reads the server's tip of `branch` (one request) and fetches it if the store does not have it. */
  private async sync(
    branch: string,
    service: 'git-upload-pack' | 'git-receive-pack' = 'git-upload-pack',
  ): Promise<string> {
    const refs = await this.remote.listRefs(service);
    const tip = refs.get(`refs/heads/${branch}`);
    if (tip === undefined) throw this.branchNotFound(branch);
    await this.catchUp(branch, tip);
    return tip;
  }

  /** Makes the store hold `tip` for `branch`, fetching only if it does not have it yet. */
  private async catchUp(branch: string, tip: string): Promise<void> {
    if (this.tips.get(branch) === tip) return;
    if (!(await this.hasObject(tip))) await this.fetch(branch);
    await this.setTip(branch, tip);
  }

  private branchNotFound(branch: string): ReboundError {
    return new ReboundError(`branch ${branch} does not exist at ${this.remote.url}`, {
      code: 'GitBranchNotFound',
      reason: 'BranchNotFound',
      retryable: false,
    });
  }

  private async fetch(branch: string, since?: Date): Promise<void> {
    const known = this.tips.has(branch) || (await this.localRef(branch)) !== undefined;
    const started = Date.now();
    // The first fetch of a branch is shallow: history is only read back as far as a step needs.
    const depth = since !== undefined ? { since } : known ? {} : { depth: 1 };
    try {
      await this.fetchOnce(branch, depth);
    } catch (err) {
      // A too-large file in the history between our tip and the new one (pushed, then reverted)
      // would block this branch for good: the new tip alone may well be fine.
      if (!(err instanceof ReboundError && err.code === FETCH_TOO_LARGE) || 'depth' in depth) throw err;
      this.options.logger?.warn(
        { branch, err: err.message },
        'fetch refused by its size limit, fetching the tip alone',
      );
      await this.fetchOnce(branch, { depth: 1 });
    }
    await this.loadShallow();
    this.options.logger?.debug({ branch, ms: Date.now() - started, deepen: since !== undefined }, 'fetched branch');
  }

  private async fetchOnce(branch: string, depth: { since?: Date; depth?: number }): Promise<void> {
    this.counters.fetches += 1;
    try {
      await git.fetch({
        fs,
        http: this.remote.httpClient(),
        gitdir: this.dir,
        url: this.remote.url,
        remote: REMOTE,
        ref: branch,
        singleBranch: true,
        tags: false,
        ...depth,
        cache: this.isoCache,
      });
    } catch (err) {
      const classified = this.remote.classify(err, `fetching ${branch}`);
      if (classified.code === FETCH_TOO_LARGE) {
        throw new ReboundError(`fetching ${branch} from ${this.remote.url}: ${classified.message}`, {
          code: FETCH_TOO_LARGE,
          ...(classified.reason ? { reason: classified.reason } : {}),
          retryable: false,
          cause: err,
        });
      }
      throw classified;
    } finally {
      // The packs this fetch wrote or read are not kept for the life of the process.
      this.isoCache = {};
    }
  }

  private async findStep(
    branch: string,
    tip: string,
    key: StepKey,
    since: Date | undefined,
  ): Promise<string | undefined> {
    const limit = since === undefined ? (this.options.idempotencyDepth ?? 200) : SINCE_WALK_LIMIT;
    const sinceSeconds = since === undefined ? undefined : Math.floor(since.getTime() / 1000);
    if (sinceSeconds !== undefined) {
      const indexedHead = this.stepIndex.head(branch);
      const added = indexedHead === undefined ? undefined : await this.commitsDownTo(tip, indexedHead, limit);
      if (added !== undefined) {
        const answer = this.stepIndex.lookup(branch, tip, added, key, sinceSeconds);
        if ('found' in answer) return answer.found;
        if ('absent' in answer) return undefined;
      }
    }
    const wanted = stepId(key);
    let deepened = false;
    const walked: WalkedCommit[] = [];
    let oid: string | undefined = tip;
    for (let seen = 0; oid !== undefined && seen < limit; seen += 1) {
      const commit = await this.commit(oid);
      const step = trailersStepId(commit.trailers);
      if (step === wanted) return oid;
      walked.push({ oid, time: commit.time, step });
      if (sinceSeconds !== undefined && commit.time < sinceSeconds) {
        this.stepIndex.record(branch, tip, walked, commit.time);
        return undefined;
      }
      if (this.shallow.has(oid)) {
        // The store's history ends here but the step may be older: deepen back to `since`, once.
        if (sinceSeconds === undefined || deepened || since === undefined) return undefined;
        deepened = true;
        await this.fetch(branch, since);
        if (this.shallow.has(oid)) return undefined;
      }
      oid = commit.parents[0];
    }
    // The whole history, back to its first commit: nothing older to look through.
    if (oid === undefined && sinceSeconds !== undefined)
      this.stepIndex.record(branch, tip, walked, Number.NEGATIVE_INFINITY);
    return undefined;
  }

  /** The first-parent commits from `tip` down to `head` (not included), newest first; undefined when
   * `head` is not among the first `limit` (history rewritten) or the store's history ends before it. */
  private async commitsDownTo(tip: string, head: string, limit: number): Promise<WalkedCommit[] | undefined> {
    const commits: WalkedCommit[] = [];
    for (let oid: string | undefined = tip; oid !== head;) {
      if (oid === undefined || commits.length >= limit || this.shallow.has(oid)) return undefined;
      const commit = await this.commit(oid);
      commits.push({ oid, time: commit.time, step: trailersStepId(commit.trailers) });
      oid = commit.parents[0];
    }
    return commits;
  }

  private async commit(oid: string): Promise<ParsedCommit & { trailers: ReboundTrailers | undefined }> {
    const cached = this.commits.get(oid);
    if (cached !== undefined) return cached;
    const object = await this.object(oid);
    if (object.type !== 'commit') throw new Error(`${oid} is a ${object.type}, not a commit`);
    const parsed = parseCommit(object.content);
    const info = { ...parsed, trailers: parseReboundTrailers(parsed.message) };
    this.commits.set(oid, info);
    if (this.commits.size > COMMIT_CACHE_LIMIT) this.commits.delete(this.commits.keys().next().value ?? '');
    return info;
  }

  private async object(oid: string): Promise<GitObject> {
    const cached = this.objects.get(oid);
    if (cached !== undefined) return cached;
    const { type, object } = await git.readObject({
      fs,
      gitdir: this.dir,
      oid,
      format: 'content',
      cache: this.isoCache,
    });
    if (!(object instanceof Uint8Array)) throw new Error(`object ${oid} could not be read`);
    const result: GitObject = {
      type: type as GitObject['type'],
      oid,
      content: Buffer.from(object.buffer, object.byteOffset, object.byteLength),
    };
    this.remember(result);
    return result;
  }

  private remember(object: GitObject): void {
    this.objects.set(object);
  }

  private async hasObject(oid: string): Promise<boolean> {
    if (this.objects.has(oid) || this.commits.has(oid)) return true;
    try {
      await git.readObject({ fs, gitdir: this.dir, oid, format: 'content', cache: this.isoCache });
      return true;
    } catch {
      return false;
    }
  }

  /** Stores an object as a loose object, the way Git does (zlib of `type size\0content`). */
  private async writeLoose(object: GitObject): Promise<void> {
    const dir = join(this.dir, 'objects', object.oid.slice(0, 2));
    if (!this.madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    const data = deflateSync(
      Buffer.concat([Buffer.from(`${object.type} ${object.content.length}\0`), object.content]),
      SMALL_ZLIB,
    );
    try {
      await writeFile(join(dir, object.oid.slice(2)), data, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }

  private async setTip(branch: string, oid: string): Promise<void> {
    if (this.tips.get(branch) === oid) return;
    // Written as Git does (a temporary file renamed over the ref), so a crash never leaves half a ref.
    const path = join(this.dir, 'refs', 'remotes', REMOTE, ...branch.split('/'));
    const dir = dirname(path);
    if (!this.madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    await writeFile(`${path}.lock`, `${oid}\n`);
    await rename(`${path}.lock`, path);
    this.tips.set(branch, oid);
  }

  private async localRef(branch: string): Promise<string | undefined> {
    try {
      return await git.resolveRef({ fs, gitdir: this.dir, ref: `refs/remotes/${REMOTE}/${branch}` });
    } catch {
      return undefined;
    }
  }

  private async loadShallow(): Promise<void> {
    try {
      const text = await readFile(join(this.dir, 'shallow'), 'utf8');
      this.shallow = new Set(text.split('\n').filter((l) => /^[0-9a-f]{40}$/.test(l)));
    } catch {
      this.shallow = new Set();
    }
  }
}

interface Located {
  /** Each tree from the root down to the file's directory, with where the next entry's id sits. */
  chain: { tree: GitObject; oidOffset: number }[];
  blob: GitObject | undefined;
}

interface PendingResult {
  key: StepKey | undefined;
  result: EditResult;
}

function stepKey(edit: FileEdit): StepKey | undefined {
  if (edit.trailers === undefined) return undefined;
  const { problem, attempt, notes } = edit.trailers;
  return { uid: problem.uid, attempt, ...(notes?.reasserts ? { reasserts: notes.reasserts } : {}) };
}

function committedInBatch(results: readonly PendingResult[], key: StepKey): string | undefined {
  for (const { key: other, result } of results) {
    if (other?.uid === key.uid && other.attempt === key.attempt && other.reasserts === key.reasserts && 'sha' in result)
      return result.sha;
  }
  return undefined;
}

function finish({ result }: PendingResult, attempts: number): EditResult {
  return result.status === 'committed' ? { ...result, attemptsNeeded: attempts } : result;
}

/** A failure of the connection or the server, not of the request: worth the same request again. */
function isTransient(err: ReboundError): boolean {
  return err.retryable && (err.code === 'GitUnreachable' || err.code === 'GitServerError');
}

function backoff(attempt: number, baseMs: number): number {
  const ceiling = Math.min(2000, baseMs * 2 ** (attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
