// What `rebound validate` checks, over any tree of files: a checkout directory, or one branch of a
// Git repository. Every Keptn file is parsed on its own, then the files of each directory are
// checked together (warnings).
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { checkServiceFiles } from '../../formats/consistency.ts';
import { sliLocationOf } from '../../formats/sli.ts';
import type { ServiceFiles } from '../../formats/consistency.ts';
import { checkKeptnFile, detectKeptnFile, KEPTN_FILE_NAMES, keptnFileKindOfPath } from '../../formats/detect.ts';
import type { KeptnFileKind } from '../../formats/detect.ts';
import { MAX_FILE_BYTES } from '../../formats/yaml.ts';
import type { Diagnostic } from '../../formats/yaml.ts';

export interface FileReport {
  /** As printed: relative to the validated root with `/` separators, prefixed `<branch>:` for a branch. */
  path: string;
  kind: KeptnFileKind;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

/** Marks a file larger than any Keptn file should be; it is reported, never parsed. */
export const TOO_LARGE = Symbol('too large');

export interface ConfigTree {
  /** Printed before each path (`production:` for a branch, empty for a directory). */
  readonly prefix: string;
  /** Every file whose name is a Keptn file name, `/`-separated, relative to the root. */
  keptnFiles(): Promise<string[]>;
  /** Reads `paths`; a missing file is absent from the result. */
  read(paths: readonly string[]): Promise<Map<string, string | typeof TOO_LARGE>>;
}

/** Directories that never hold configuration. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set(['.git', 'node_modules']);

export async function validateTree(tree: ConfigTree): Promise<FileReport[]> {
  const paths = (await tree.keptnFiles())
    .filter((p) => !p.split('/').some((segment) => SKIPPED_DIRS.has(segment)))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // values.yaml beside a remediation file is read too: the toggled flags are checked against it.
  const valuesPaths = paths
    .filter((p) => keptnFileKindOfPath(p) === 'remediation')
    .map((p) => posix.join(posix.dirname(p), 'values.yaml'));
  const texts = await tree.read([...paths, ...valuesPaths]);
  const reports: FileReport[] = [];
  const byDirectory = new Map<string, ServiceFiles>();
  const sliRank = new Map<string, number>();
  for (const path of paths) {
    const kind = keptnFileKindOfPath(path);
    const text = texts.get(path);
    if (!kind || text === undefined) continue;
    const display = tree.prefix + path;
    if (text === TOO_LARGE) {
      reports.push({
        path: display,
        kind,
        errors: [
          { file: display, line: 1, column: 1, message: `file is larger than the ${MAX_FILE_BYTES}-byte limit` },
        ],
        warnings: [],
      });
      continue;
    }
    const report = checkFile(display, kind, text);
    if (!path.endsWith('.yaml')) {
      // Keptn and Rebound read `<name>.yaml` only: a `.yml` file is valid but never used.
      report.warnings.unshift({
        file: display,
        line: 1,
        column: 1,
        message: `Rebound reads ${KEPTN_FILE_NAMES[kind]}, not ${posix.basename(path)}: rename the file`,
      });
    }
    reports.push(report);
    if (kind !== 'shipyard') {
      // An SLI file in <service>/prometheus/ or <service>/dynatrace/ belongs to <service>, after one beside slo.yaml.
      const sli = kind === 'sli' ? sliLocationOf(path) : undefined;
      const dir = sli?.dir ?? posix.dirname(path);
      const files = byDirectory.get(dir) ?? {};
      if (sli === undefined || sliRank.get(dir) === undefined || sli.rank < (sliRank.get(dir) ?? 0)) {
        files[kind] = { path: display, text };
        if (sli) sliRank.set(dir, sli.rank);
      }
      const values = texts.get(posix.join(dir, 'values.yaml'));
      if (typeof values === 'string')
        files.values = { path: tree.prefix + posix.join(dir, 'values.yaml'), text: values };
      byDirectory.set(dir, files);
    }
  }
  for (const files of byDirectory.values()) {
    for (const warning of checkServiceFiles(files))
      reports.find((r) => r.path === warning.file)?.warnings.push(warning);
  }
  return reports;
}

/**
 * Validates one file (recognised by name, else by content) or every Keptn file under a directory.
 * Symbolic links are not followed: a checkout's configuration is its own files.
 */
export async function validatePath(root: string): Promise<FileReport[]> {
  const info = await lstat(root);
  if (info.isDirectory()) return validateTree(directoryTree(root));
  const text = await readFile(root, 'utf8');
  const kind = detectKeptnFile(root, text);
  return kind ? [checkFile(root, kind, text)] : [];
}

export function directoryTree(root: string): ConfigTree {
  return {
    prefix: '',
    keptnFiles: () => keptnFilesUnder(root, ''),
    async read(paths) {
      const texts = new Map<string, string | typeof TOO_LARGE>();
      for (const path of paths) {
        const full = join(root, ...path.split('/'));
        const info = await lstat(full).catch(() => undefined);
        if (!info?.isFile()) continue;
        texts.set(path, info.size > MAX_FILE_BYTES ? TOO_LARGE : await readFile(full, 'utf8'));
      }
      return texts;
    },
  };
}

async function keptnFilesUnder(root: string, dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(join(root, dir), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) found.push(...(await keptnFilesUnder(root, path)));
    } else if (entry.isFile() && keptnFileKindOfPath(entry.name)) {
      found.push(path);
    }
  }
  return found;
}

function checkFile(display: string, kind: KeptnFileKind, text: string): FileReport {
  return { path: display, kind, ...checkKeptnFile(kind, display, text) };
}
