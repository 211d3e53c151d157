// `rebound version`: the package's version, and the Git revision and source it was built from. An
// image carries the revision in build-info.json (written by the Dockerfile next to package.json, from
// the same values as its OCI labels); a checkout or an npm install has none and says "unknown".
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Command } from './command.ts';

export interface BuildInfo {
  version: string;
  revision: string;
  source: string;
}

const HELP = `Usage: rebound version [--json]

Prints the version, the Git revision and the source repository this copy was built from (the same
values as the image's org.opencontainers.image.* labels).
`;

/** The package root: this file is <root>/src/cli/commands/version.ts or <root>/dist/cli/commands/version.js. */
const PACKAGE_ROOT = new URL('../../../', import.meta.url);

async function readJson(name: string): Promise<Record<string, unknown> | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(new URL(name, PACKAGE_ROOT), 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** Build facts win over package.json (they are what the labels say); missing facts are "unknown". */
export function buildInfo(
  pkg: Record<string, unknown> | undefined,
  build: Record<string, unknown> | undefined,
): BuildInfo {
  const repository = pkg?.['repository'];
  const repositoryUrl =
    typeof repository === 'object' && repository !== null ? (repository as Record<string, unknown>)['url'] : repository;
  return {
    version: text(build?.['version']) ?? text(pkg?.['version']) ?? 'unknown',
    revision: text(build?.['revision']) ?? 'unknown',
    source: text(build?.['source']) ?? text(repositoryUrl) ?? 'unknown',
  };
}

export function formatBuildInfo(info: BuildInfo): string {
  return `rebound ${info.version}\nrevision: ${info.revision}\nsource: ${info.source}\n`;
}

export const command: Command = {
  summary: 'Print the version, Git revision and source',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const info = buildInfo(await readJson('package.json'), await readJson('build-info.json'));
    process.stdout.write(values.json ? JSON.stringify(info) + '\n' : formatBuildInfo(info));
    return 0;
  },
};
