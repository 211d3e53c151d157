// `rebound validate PATH`: checks every Keptn file of a configuration repository checkout
// (shipyard.yaml, remediation.yaml, slo.yaml, sli.yaml anywhere in the tree) and prints each
// problem as `file:line:column: message`, paths relative to PATH. With --branch or --all-branches,
// PATH is a Git repository and the files are read from those branches (`branch:path:line:column`).
// Exit 0 when clean, 1 on any error, 2 on a usage error.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { KEPTN_FILE_KINDS, KEPTN_FILE_NAMES } from '../../formats/detect.ts';
import { formatDiagnostic } from '../../formats/yaml.ts';
import type { Command } from './command.ts';
import { branchTree, listBranches, listFiles } from './validate-git.ts';
import { checkProjectApply } from './validate-project.ts';
import type { BranchFiles, ProjectReport } from './validate-project.ts';
import { TOO_LARGE } from './validate-tree.ts';
import { validatePath, validateTree } from './validate-tree.ts';
import type { FileReport } from './validate-tree.ts';

export type { FileReport } from './validate-tree.ts';

const USAGE = `Usage: rebound validate [--json] [--branch NAME ... | --all-branches] [--project FILE] PATH

Checks shipyard.yaml, remediation.yaml, slo.yaml and sli.yaml files under PATH (a checkout of a
Keptn-layout configuration repository, or one file) and prints every error as file:line:column: message.

Options:
  --branch NAME   read the files of branch NAME of the Git repository at PATH instead of the
                  checked-out files (repeatable; remote-tracking branches count)
  --all-branches  the same for every branch
  --project FILE  also check the Project manifest FILE's stages against the branches of the Git
                  repository at PATH: each stage's branch exists, apply is a known applier
                  (helm, kubernetes, flux, argocd, none), apply: helm finds <service>/chart/Chart.yaml,
                  apply: flux names in gitops.objects Kustomizations the branch defines; a
                  Remediation in FILE that sets values (file, keys) finds its file on its stage's
                  branch, and each key path leads into one YAML document of it
  --json          print {"files":[{"path","kind","errors","warnings"}],"errors":N,"warnings":N}
  -h, --help      show this help

Exit status: 0 no errors, 1 errors found, 2 usage error.`;

class UsageError extends Error {}

export const command: Command = {
  summary: 'check the Keptn files of a configuration repository checkout',
  async run(argv) {
    let options: Options;
    try {
      options = parseOptions(argv);
    } catch (err) {
      if (!(err instanceof UsageError) && !(err instanceof TypeError)) throw err;
      process.stderr.write(`rebound validate: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (options.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    let reports: FileReport[];
    let project: ProjectReport | undefined;
    try {
      reports = await collectReports(options);
      if (options.project !== undefined) project = await checkProject(options.project, options.path);
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`rebound validate: ${err.message}\n`);
        return 2;
      }
      if (isNodeError(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) {
        process.stderr.write(`rebound validate: ${err.path ?? options.path}: no such file or directory\n`);
        return 2;
      }
      throw err;
    }
    const all: { errors: unknown[]; warnings: unknown[] }[] = project ? [...reports, project] : reports;
    const errors = all.reduce((n, r) => n + r.errors.length, 0);
    const warnings = all.reduce((n, r) => n + r.warnings.length, 0);
    if (options.json) {
      const body = project ? { files: reports, project, errors, warnings } : { files: reports, errors, warnings };
      process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    } else {
      for (const report of project ? [...reports, project] : reports) {
        for (const d of report.errors) process.stdout.write(`${formatDiagnostic(d)}\n`);
        for (const d of report.warnings)
          process.stdout.write(`${formatDiagnostic({ ...d, message: `warning: ${d.message}` })}\n`);
      }
    }
    if (reports.length === 0) {
      process.stderr.write(
        `rebound validate: no ${KEPTN_FILE_KINDS.map((k) => KEPTN_FILE_NAMES[k]).join(', ')} found in ${options.path}\n`,
      );
      return 1;
    }
    if (!options.json) {
      const fileErrors = reports.reduce((n, r) => n + r.errors.length, 0);
      const fileWarnings = reports.reduce((n, r) => n + r.warnings.length, 0);
      process.stdout.write(`${summaryLine(reports, fileErrors, fileWarnings)}\n`);
      if (project) process.stdout.write(`${projectLine(project)}\n`);
    }
    return errors > 0 ? 1 : 0;
  },
};

interface Options {
  path: string;
  json: boolean;
  help: boolean;
  branches: string[];
  allBranches: boolean;
  project?: string;
}

function parseOptions(argv: string[]): Options {
  const parsed = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      branch: { type: 'string', multiple: true, default: [] },
      'all-branches': { type: 'boolean', default: false },
      project: { type: 'string' },
    },
  });
  const { json, help, branch: branches } = parsed.values;
  const allBranches = parsed.values['all-branches'];
  if (help) return { path: '.', json, help, branches, allBranches };
  if (parsed.positionals.length !== 1) throw new UsageError('expected exactly one PATH');
  if (allBranches && branches.length > 0) throw new UsageError('use either --branch or --all-branches');
  const project = parsed.values.project;
  return { path: parsed.positionals[0] ?? '.', json, help, branches, allBranches, ...(project ? { project } : {}) };
}

async function collectReports(options: Options): Promise<FileReport[]> {
  if (!options.allBranches && options.branches.length === 0) return validatePath(options.path);
  const known = await listBranches(options.path);
  const selected = options.allBranches
    ? known
    : options.branches.map((name) => {
        const branch = known.find((b) => b.name === name);
        if (!branch)
          throw new UsageError(
            `${options.path} has no branch "${name}" (branches: ${known.map((b) => b.name).join(', ') || 'none'})`,
          );
        return branch;
      });
  const reports: FileReport[] = [];
  for (const { name, ref } of selected) reports.push(...(await validateTree(branchTree(options.path, name, ref))));
  return reports;
}

/** The Project's stages against the branches of the repository at `repo` (read from Git, nothing checked out). */
async function checkProject(file: string, repo: string): Promise<ProjectReport> {
  const text = await readFile(file, 'utf8');
  const known = await listBranches(repo).catch((err: unknown) => {
    throw new UsageError(
      `--project needs PATH to be a Git repository: ${err instanceof Error ? err.message : String(err)}`,
    );
  });
  return checkProjectApply(file, text, repo, async (name): Promise<BranchFiles | undefined> => {
    const branch = known.find((b) => b.name === name);
    if (!branch) return undefined;
    const tree = branchTree(repo, name, branch.ref);
    return {
      paths: await listFiles(repo, branch.ref),
      async read(paths) {
        const texts = new Map<string, string>();
        for (const [path, text] of await tree.read(paths)) if (text !== TOO_LARGE) texts.set(path, text);
        return texts;
      },
    };
  });
}

/** `project sockshop.yaml: no errors` or `project sockshop.yaml: 2 errors, 1 warning`. */
export function projectLine(report: ProjectReport): string {
  const outcome = report.errors.length === 0 ? 'no errors' : plural(report.errors.length, 'error');
  const warned = report.warnings.length === 0 ? '' : `, ${plural(report.warnings.length, 'warning')}`;
  return `project ${report.path}: ${outcome}${warned}`;
}

/** `validated 5 files: shipyard.yaml 1, remediation.yaml 2, slo.yaml 1, sli.yaml 1: no errors`. */
export function summaryLine(reports: readonly FileReport[], errors: number, warnings: number): string {
  const counts = KEPTN_FILE_KINDS.map((kind) => [kind, reports.filter((r) => r.kind === kind).length] as const)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${KEPTN_FILE_NAMES[kind]} ${n}`);
  const failing = reports.filter((r) => r.errors.length > 0).length;
  const outcome = errors === 0 ? 'no errors' : `${plural(errors, 'error')} in ${plural(failing, 'file')}`;
  const warned = warnings === 0 ? '' : `, ${plural(warnings, 'warning')}`;
  return `validated ${plural(reports.length, 'file')}: ${counts.join(', ')}: ${outcome}${warned}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function isNodeError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && 'code' in err;
}
