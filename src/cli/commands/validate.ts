// `rebound validate PATH`: checks every Keptn file of a configuration repository checkout
// (shipyard.yaml, remediation.yaml, slo.yaml, sli.yaml anywhere in the tree) and prints each
// problem as `file:line:column: message`, paths relative to PATH. Exit 0 when clean, 1 on any
// error, 2 on a usage error.
import { lstat, readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { checkKeptnFile, detectKeptnFile, KEPTN_FILE_KINDS, KEPTN_FILE_NAMES, keptnFileKindOfPath } from '../../formats/detect.ts';
import type { KeptnFileKind } from '../../formats/detect.ts';
import { checkServiceFiles } from '../../formats/consistency.ts';
import type { ServiceFiles } from '../../formats/consistency.ts';
import { formatDiagnostic, MAX_FILE_BYTES } from '../../formats/yaml.ts';
import type { Diagnostic } from '../../formats/yaml.ts';
import type { Command } from '../main.ts';

const USAGE = `Usage: rebound validate [--json] PATH

Checks shipyard.yaml, remediation.yaml, slo.yaml and sli.yaml files under PATH (a checkout of a
Keptn-layout configuration repository, or one file) and prints every error as file:line:column: message.

Options:
  --json      print {"files":[{"path","kind","errors","warnings"}],"errors":N,"warnings":N}
  -h, --help  show this help

Exit status: 0 no errors, 1 errors found, 2 usage error.`;

/** Directories that never hold configuration. */
const SKIPPED_DIRS = new Set(['.git', 'node_modules']);

export interface FileReport {
  /** Relative to the validated root, with `/` separators. */
  path: string;
  kind: KeptnFileKind;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

export const command: Command = {
  summary: 'check the Keptn files of a configuration repository checkout',
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
      });
    } catch (err) {
      process.stderr.write(`rebound validate: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}\n`);
      return 2;
    }
    if (parsed.values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (parsed.positionals.length !== 1) {
      process.stderr.write(`rebound validate: expected exactly one PATH\n\n${USAGE}\n`);
      return 2;
    }
    const root = parsed.positionals[0] ?? '.';
    let reports: FileReport[];
    try {
      reports = await validatePath(root);
    } catch (err) {
      if (isNodeError(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) {
        process.stderr.write(`rebound validate: ${root}: no such file or directory\n`);
        return 2;
      }
      throw err;
    }
    const errors = reports.reduce((n, r) => n + r.errors.length, 0);
    const warnings = reports.reduce((n, r) => n + r.warnings.length, 0);
    if (parsed.values.json) {
      process.stdout.write(`${JSON.stringify({ files: reports, errors, warnings }, null, 2)}\n`);
    } else {
      for (const report of reports) {
        for (const d of report.errors) process.stdout.write(`${formatDiagnostic(d)}\n`);
        for (const d of report.warnings) process.stdout.write(`${formatDiagnostic({ ...d, message: `warning: ${d.message}` })}\n`);
      }
    }
    if (reports.length === 0) {
      process.stderr.write(`rebound validate: no ${KEPTN_FILE_KINDS.map((k) => KEPTN_FILE_NAMES[k]).join(', ')} found under ${root}\n`);
      return 1;
    }
    if (!parsed.values.json) process.stdout.write(`${summaryLine(reports, errors, warnings)}\n`);
    return errors > 0 ? 1 : 0;
  },
};

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

/**
 * Validates one file (recognised by name, else by content) or every Keptn file under a directory,
 * in sorted path order, then how the files of each directory fit together (warnings). Symbolic
 * links are not followed: a checkout's configuration is its own files.
 */
export async function validatePath(root: string): Promise<FileReport[]> {
  const info = await lstat(root);
  if (!info.isDirectory()) {
    const text = await readFile(root, 'utf8');
    const kind = detectKeptnFile(root, text);
    return kind ? [checkFile(root, kind, text)] : [];
  }
  const reports: FileReport[] = [];
  const byDirectory = new Map<string, ServiceFiles>();
  for (const path of await keptnFilesUnder(root)) {
    const kind = keptnFileKindOfPath(path);
    if (!kind) continue;
    const display = displayPath(root, path);
    const text = await readBounded(path);
    if (text === undefined) {
      const message = `file is larger than the ${MAX_FILE_BYTES}-byte limit`;
      reports.push({ path: display, kind, errors: [{ file: display, line: 1, column: 1, message }], warnings: [] });
      continue;
    }
    const report = checkFile(display, kind, text);
    if (!display.endsWith('.yaml')) {
      // Keptn and Rebound read `<name>.yaml` only: a `.yml` file is valid but never used.
      report.warnings.unshift({ file: display, line: 1, column: 1, message: `Rebound reads ${KEPTN_FILE_NAMES[kind]}, not ${basename(display)}: rename the file` });
    }
    reports.push(report);
    if (kind !== 'shipyard') {
      const files = byDirectory.get(dirname(path)) ?? {};
      files[kind] = { path: display, text };
      byDirectory.set(dirname(path), files);
    }
  }
  for (const [dir, files] of byDirectory) {
    if (files.remediation) {
      const valuesPath = join(dir, 'values.yaml');
      const text = await readBounded(valuesPath).catch(() => undefined);
      if (text !== undefined) files.values = { path: displayPath(root, valuesPath), text };
    }
    for (const warning of checkServiceFiles(files)) {
      reports.find((r) => r.path === warning.file)?.warnings.push(warning);
    }
  }
  return reports;
}

function displayPath(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

/** The file's text, or undefined when it is larger than any Keptn file should be. */
async function readBounded(path: string): Promise<string | undefined> {
  const size = (await lstat(path)).size;
  return size > MAX_FILE_BYTES ? undefined : readFile(path, 'utf8');
}

function checkFile(display: string, kind: KeptnFileKind, text: string): FileReport {
  return { path: display, kind, ...checkKeptnFile(kind, display, text) };
}

async function keptnFilesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) found.push(...(await keptnFilesUnder(path)));
    } else if (entry.isFile() && keptnFileKindOfPath(entry.name)) {
      found.push(path);
    }
  }
  return found;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function isNodeError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && 'code' in err;
}
