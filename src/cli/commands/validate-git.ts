// Stage branches of a Git repository as trees for `rebound validate --branch/--all-branches`: the
// files are read from Git's object store (nothing is checked out), with the `git` CLI given
// argument lists. Two `git cat-file` calls per branch: sizes first, then only the blobs small
// enough to be Keptn files.
import { spawn } from 'node:child_process';
import { ReboundError } from '../../errors.ts';
import { keptnFileKindOfPath } from '../../formats/detect.ts';
import { MAX_FILE_BYTES } from '../../formats/yaml.ts';
import { TOO_LARGE } from './validate-tree.ts';
import type { ConfigTree } from './validate-tree.ts';

/** Local branches, then remote-tracking ones not also local (a fresh clone has only the default branch locally). */
export async function listBranches(repo: string): Promise<{ name: string; ref: string }[]> {
  const out = (await git(repo, ['for-each-ref', '--format=%(refname)', 'refs/heads', 'refs/remotes'])).toString('utf8');
  const branches = new Map<string, string>();
  for (const ref of out.split('\n').filter(Boolean)) {
    if (ref.startsWith('refs/heads/')) branches.set(ref.slice('refs/heads/'.length), ref);
  }
  for (const ref of out.split('\n').filter(Boolean)) {
    const match = /^refs\/remotes\/[^/]+\/(.+)$/.exec(ref);
    if (match?.[1] && match[1] !== 'HEAD' && !branches.has(match[1])) branches.set(match[1], ref);
  }
  return [...branches]
    .map(([name, ref]) => ({ name, ref }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Every file path of `ref` (recursively, `/`-separated). */
export async function listFiles(repo: string, ref: string): Promise<string[]> {
  const out = await git(repo, ['ls-tree', '-r', '-z', '--full-tree', '--name-only', ref]);
  return out
    .toString('utf8')
    .split('\0')
    .filter((path) => path !== '');
}

export function branchTree(repo: string, branch: string, ref: string): ConfigTree {
  return {
    prefix: `${branch}:`,
    async keptnFiles() {
      return (await listFiles(repo, ref)).filter((path) => keptnFileKindOfPath(path) !== undefined);
    },
    async read(paths) {
      const texts = new Map<string, string | typeof TOO_LARGE>();
      if (paths.length === 0) return texts;
      // --batch-check prints "<name> <type> <size>" or "<object> missing" per line, in input order.
      const checks = (await git(repo, ['cat-file', '--batch-check=%(objecttype) %(objectsize)'], lines(ref, paths)))
        .toString('utf8')
        .split('\n');
      const wanted: string[] = [];
      paths.forEach((path, i) => {
        const [type, size] = (checks[i] ?? '').split(' ');
        if (type !== 'blob') return;
        if (Number(size) > MAX_FILE_BYTES) texts.set(path, TOO_LARGE);
        else wanted.push(path);
      });
      if (wanted.length === 0) return texts;
      const batch = await git(repo, ['cat-file', '--batch=%(objectsize)'], lines(ref, wanted));
      let offset = 0;
      for (const path of wanted) {
        const newline = batch.indexOf(0x0a, offset);
        const size = Number(batch.subarray(offset, newline).toString('ascii'));
        const start = newline + 1;
        texts.set(path, batch.subarray(start, start + size).toString('utf8'));
        offset = start + size + 1;
      }
      return texts;
    },
  };
}

function lines(ref: string, paths: readonly string[]): string {
  return paths.map((path) => `${ref}:${path}\n`).join('');
}

/** Runs `git -C repo ...args` with `input` on stdin; its stdout, or a ReboundError with git's first line. */
export function git(repo: string, args: readonly string[], input?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-C', repo, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (cause) => {
      reject(
        new ReboundError(`cannot run git: ${cause.message}`, {
          code: 'GitMissing',
          reason: 'InvalidSpec',
          retryable: false,
          cause,
        }),
      );
    });
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else {
        const message = Buffer.concat(err).toString('utf8').trim().split('\n')[0] ?? '';
        reject(
          new ReboundError(`git ${args[0] ?? ''} failed in ${repo}: ${message}`, {
            code: 'GitFailed',
            reason: 'InvalidSpec',
            retryable: false,
          }),
        );
      }
    });
    // git may exit before reading all of stdin (a bad ref); its exit status tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}
