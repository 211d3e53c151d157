// `rebound validate PATH`: checks every Keptn file of a configuration repository checkout
// (shipyard.yaml, remediation.yaml, slo.yaml, sli.yaml anywhere in the tree) and prints each
// problem as `file:line:column: message`, paths relative to PATH. With --branch or --all-branches,
// PATH is a Git repository and the files are read from those branches (`branch:path:line:column`).
// Exit 0 when clean, 1 on any error, 2 on a usage error.
import { parseArgs } from 'node:util';
import { KEPTN_FILE_KINDS, KEPTN_FILE_NAMES } from '../../formats/detect.ts';
import { formatDiagnostic } from '../../formats/yaml.ts';
import type { Command } from './command.ts';
import { branchTree, listBranches } from './validate-git.ts';
import { validatePath, validateTree } from './validate-tree.ts';
import type { FileReport } from './validate-tree.ts';

export type { FileReport } from './validate-tree.ts';

const USAGE = `Usage: rebound validate [--json] [--branch NAME ... | --all-branches] PATH

Checks shipyard.yaml, remediation.yaml, slo.yaml and sli.yaml files under PATH (a checkout of a
Keptn-layout configuration repository, or one file) and prints every error as file:line:column: message.

Options:
  --branch NAME   read the files of branch NAME of the Git repository at PATH instead of the
                  checked-out files (repeatable; remote-tracking branches count)
  --all-branches  the same for every branch
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
    try {
      reports = await collectReports(options);
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`rebound validate: ${err.message}\n`);
        return 2;
      }
      if (isNodeError(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) {
        process.stderr.write(`rebound validate: ${options.path}: no such file or directory\n`);
        return 2;
      }
      throw err;
    }
    const errors = reports.reduce((n, r) => n + r.errors.length, 0);
    const warnings = reports.reduce((n, r) => n + r.warnings.length, 0);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ files: reports, errors, warnings }, null, 2)}\n`);
    } else {
      for (const report of reports) {
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
    if (!options.json) process.stdout.write(`${summaryLine(reports, errors, warnings)}\n`);
    return errors > 0 ? 1 : 0;
  },
};

interface Options {
  path: string;
  json: boolean;
  help: boolean;
  branches: string[];
  allBranches: boolean;
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
    },
  });
  const { json, help, branch: branches } = parsed.values;
  const allBranches = parsed.values['all-branches'];
  if (help) return { path: '.', json, help, branches, allBranches };
  if (parsed.positionals.length !== 1) throw new UsageError('expected exactly one PATH');
  if (allBranches && branches.length > 0) throw new UsageError('use either --branch or --all-branches');
  return { path: parsed.positionals[0] ?? '.', json, help, branches, allBranches };
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
