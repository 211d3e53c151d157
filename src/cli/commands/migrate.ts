// `rebound migrate --repo PATH [--name NAME] [--json]`
//
// Reads a Keptn project's configuration repository (shipyard.yaml on the default branch, every
// stage branch) and prints the Project resource to apply, followed by a report as YAML comments: every
// stage, remediation task, remediation action, SLO and SLI file, what Rebound will do with it, and
// what behaves differently from Keptn, each at `branch:file:line`. The output can be piped to
// `kubectl apply -f -` as it is. Nothing is written: branches are read from Git's object store.
//
// Exit codes: 0 the repository can be used as it is, 1 some file has errors, 2 bad input.
import { realpath, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { posix } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { DNS1123_LABEL_PATTERN } from '../../api/index.ts';
import { errorMessage } from '../../errors.ts';
import type { Command } from './command.ts';
import { migrationReport } from './migrate-report.ts';
import type { Finding, MigrationReport } from './migrate-report.ts';
import { branchTree, git, listBranches } from './validate-git.ts';
import { directoryTree, TOO_LARGE } from './validate-tree.ts';
import type { ConfigTree } from './validate-tree.ts';

const USAGE = `Usage: rebound migrate --repo PATH [--name NAME] [--json]

Reads a Keptn project's configuration repository at PATH (shipyard.yaml on the default branch, one
branch per stage; a plain directory stands for every branch) and prints the Project resource to
apply, then a report as YAML comments: every remediation, SLO and SLI file, what Rebound will do with
it, and what behaves differently from Keptn ("DIFFERS"), each with branch:file:line.

  rebound migrate --repo ./sockshop-config | kubectl apply -n sockshop -f -

Options:
  --name NAME  the Keptn project's name (default: the directory's name)
  --json       print {"project": {...}, "findings": [{"file","line","message","differs","error"}]}

Exit status: 0 usable as it is, 1 some file has errors, 2 bad input.`;

class MigrateInputError extends Error {}

const dnsLabel = new RegExp(DNS1123_LABEL_PATTERN);

export const command: Command = {
  summary: 'read a Keptn project repository (all stage branches): the Project to apply and what changes',
  async run(argv) {
    let args: { repo: string; name: string | undefined; json: boolean } | 'help';
    try {
      const { values } = parseArgs({
        args: argv,
        options: {
          repo: { type: 'string' },
          name: { type: 'string' },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
        },
        strict: true,
        allowPositionals: false,
      });
      if (values.help) args = 'help';
      else if (!values.repo) throw new MigrateInputError('missing --repo');
      else args = { repo: values.repo, name: values.name, json: values.json };
    } catch (err) {
      process.stderr.write(`rebound migrate: ${errorMessage(err)}\n\n${USAGE}\n`);
      return 2;
    }
    if (args === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    let report: MigrationReport;
    try {
      report = await migrate(args.repo, args.name);
    } catch (err) {
      if (err instanceof MigrateInputError) {
        process.stderr.write(`rebound migrate: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    process.stdout.write(args.json ? `${JSON.stringify(report)}\n` : render(report, args.repo));
    return report.findings.some((f) => f.error === true) ? 1 : 0;
  },
};

/** Everything `rebound migrate` does, minus printing. Exported for tests. */
export async function migrate(repo: string, name: string | undefined): Promise<MigrationReport> {
  const info = await stat(repo).catch(() => undefined);
  if (!info?.isDirectory()) throw new MigrateInputError(`${repo} is not a directory`);
  const project = name ?? basename(resolve(repo));
  if (!dnsLabel.test(project) || project.length > 63) {
    throw new MigrateInputError(
      `project name "${project}" must be a DNS-1123 label (lower-case letters, digits, "-"); give one with --name`,
    );
  }
  if (!(await isRepositoryRoot(repo))) {
    // A checkout without history, or an examples/ directory: one tree stands for every branch.
    const files = await readAll(directoryTree(repo));
    return migrationReport({
      project,
      gitUrl: undefined,
      defaultBranch: 'main',
      defaultFiles: files,
      stageFiles: () => files,
      prefix: () => '',
    });
  }
  const branches = await listBranches(repo);
  const byName = new Map(branches.map((b) => [b.name, b.ref]));
  const defaultBranch =
    ['main', 'master'].find((b) => byName.has(b)) ?? (await currentBranch(repo)) ?? branches[0]?.name;
  if (defaultBranch === undefined) throw new MigrateInputError(`${repo} has no branches`);
  const trees = new Map<string, ReadonlyMap<string, string>>();
  for (const branch of branches) trees.set(branch.name, await readAll(branchTree(repo, branch.name, branch.ref)));
  const gitUrl = (await gitOutput(repo, ['remote', 'get-url', 'origin']).catch(() => undefined))?.trim() || undefined;
  return migrationReport({
    project,
    gitUrl: gitUrl !== undefined && /^https?:\/\/[^\s]+$/.test(gitUrl) ? stripCredentials(gitUrl) : undefined,
    defaultBranch,
    defaultFiles: trees.get(defaultBranch) ?? new Map(),
    stageFiles: (branch) => trees.get(branch),
    prefix: (branch) => `${branch}:`,
  });
}

/** Every Keptn file of a tree, and the values.yaml of each service directory that has one. */
async function readAll(tree: ConfigTree): Promise<Map<string, string>> {
  const paths = await tree.keptnFiles();
  const serviceDirs = new Set(paths.map((p) => posix.dirname(p)).filter((d) => d !== '.'));
  const texts = await tree.read([...paths, ...[...serviceDirs].map((d) => `${d}/values.yaml`)]);
  const files = new Map<string, string>();
  for (const [path, text] of texts) if (text !== TOO_LARGE) files.set(path, text);
  return files;
}

function render(report: MigrationReport, repo: string): string {
  const lines = [
    `# Rebound Project for the Keptn project "${report.project.metadata.name ?? ''}", read from ${repo} by rebound migrate.`,
    `# Create the Secret ${report.project.spec.git.secretRef?.name ?? ''} (username, token) in the same namespace first.`,
    stringify(report.project).trimEnd(),
    '#',
    "# Report: what Rebound does with each file; DIFFERS marks behaviour other than Keptn's, ERROR what must be fixed.",
    ...report.findings.map(renderFinding),
  ];
  return `${lines.join('\n')}\n`;
}

function renderFinding(f: Finding): string {
  const mark = f.error ? 'ERROR: ' : f.differs ? 'DIFFERS: ' : '';
  return `# ${f.file}:${String(f.line)}: ${mark}${f.message}`.replace(/\n/g, ' ');
}

/** A remote URL without user:password@ (the Project's Secret holds credentials). */
function stripCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

/** PATH is a repository's top level or a bare repository (not merely a directory inside one). */
async function isRepositoryRoot(repo: string): Promise<boolean> {
  const here = await realpath(repo);
  const top = (await gitOutput(repo, ['rev-parse', '--show-toplevel']).catch(() => undefined))?.trim();
  if (top) return (await realpath(top)) === here;
  const bare = (
    await gitOutput(repo, ['rev-parse', '--is-bare-repository', '--absolute-git-dir']).catch(() => undefined)
  )
    ?.trim()
    .split('\n');
  return bare?.[0] === 'true' && bare[1] !== undefined && (await realpath(bare[1])) === here;
}

async function currentBranch(repo: string): Promise<string | undefined> {
  const out = await gitOutput(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => undefined);
  return out?.trim() || undefined;
}

async function gitOutput(repo: string, args: readonly string[]): Promise<string> {
  return (await git(repo, args)).toString('utf8');
}
