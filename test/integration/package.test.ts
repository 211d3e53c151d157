// How people get the CLI without the sources: `npm pack` of a copy of the package's files (prepack
// compiles dist/ there, never in this checkout, whose bin/rebound.js would then prefer a stale dist/),
// the tarball installed into an empty directory, and `rebound` and `kubectl rebound` run from it.
// Also the checkout's own bin/ as a kubectl plugin directory.
import { cp, mkdtemp, mkdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../harness/process.ts';
import { toolPath } from '../harness/tools.ts';
import { REPO_ROOT } from '../harness/world.ts';

const EXAMPLE = join(REPO_ROOT, 'examples', 'fulltour');
let work: string;
let installed: string;
let tarball: string;

/** PATH with `dirs` first, then this Node.js (the bins' `#!/usr/bin/env node`), then the rest. */
const pathWith = (...dirs: string[]): string =>
  [...dirs, dirname(process.execPath), process.env['PATH'] ?? ''].join(delimiter);

function run(
  command: string,
  args: readonly string[],
  path: string,
  cwd = work,
): Promise<{ stdout: string; stderr: string }> {
  return runCommand(command, args, {
    cwd,
    env: { ...process.env, PATH: path, NPM_CONFIG_UPDATE_NOTIFIER: 'false' },
    timeoutMs: 300_000,
  });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'rebound-pack-'));
  const source = join(work, 'source');
  await mkdir(source);
  for (const entry of [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'README.md',
    'src',
    'bin',
    'crds',
  ]) {
    await cp(join(REPO_ROOT, entry), join(source, entry), { recursive: true });
  }
  // prepack's tsc and its types come from this checkout's dev dependencies.
  await symlink(join(REPO_ROOT, 'node_modules'), join(source, 'node_modules'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], pathWith(), source);
  tarball = join(work, (JSON.parse(stdout) as { filename: string }[])[0]?.filename ?? '');
  installed = join(work, 'installed');
  await mkdir(installed);
  await run(
    'npm',
    ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefix', installed, tarball],
    pathWith(),
    installed,
  );
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('packs the compiled CLI, its bins and the CRDs, and no sources or tests', async () => {
    const { stdout } = await runCommand('tar', ['-tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean);
    expect(files).toEqual(
      expect.arrayContaining([
        'package/bin/rebound.js',
        'package/bin/kubectl-rebound',
        'package/dist/cli/main.js',
        'package/crds/rebound.dev_problemevents.yaml',
        'package/package.json',
      ]),
    );
    expect(
      files.filter(
        (f) => f.startsWith('package/src/') || (f.endsWith('.ts') && !f.endsWith('.d.ts')) || /\.test\./.test(f),
      ),
    ).toEqual([]);
  });

  it('installs into an empty directory and runs `rebound --help`, `rebound validate` and `rebound version` there', async () => {
    const bin = join(installed, 'node_modules', '.bin');
    expect((await run('rebound', ['--help'], pathWith(bin))).stdout).toMatch(/^Usage: rebound <command>/);
    expect((await run('rebound', ['validate', EXAMPLE], pathWith(bin))).stdout).toMatch(/no errors/);
    expect((await run('rebound', ['version'], pathWith(bin))).stdout).toMatch(/^rebound \d+\.\d+\.\d+\n/);
    // The check is real: a broken file fails validation from the package too.
    await expect(
      run(
        'rebound',
        ['validate', join(REPO_ROOT, 'test', 'fixtures', 'broken', 'remediation-syntax-error')],
        pathWith(bin),
      ),
    ).rejects.toThrow(/exit|code|failed/i);
  });

  it('gives kubectl the plugin: `kubectl rebound` from the installed package', async () => {
    const bin = join(installed, 'node_modules', '.bin');
    expect((await run(toolPath('kubectl'), ['rebound', '--help'], pathWith(bin))).stdout).toMatch(
      /^Usage: rebound <command>/,
    );
    expect((await run(toolPath('kubectl'), ['rebound', 'validate', EXAMPLE], pathWith(bin))).stdout).toMatch(
      /no errors/,
    );
  });
});

describe('kubectl rebound from the checkout', () => {
  it('runs with bin/ on PATH, as `kubectl plugin list` finds it', async () => {
    const bin = join(REPO_ROOT, 'bin');
    expect((await run(toolPath('kubectl'), ['plugin', 'list'], pathWith(bin))).stdout).toContain(
      join(bin, 'kubectl-rebound'),
    );
    expect((await run(toolPath('kubectl'), ['rebound', '--help'], pathWith(bin))).stdout).toMatch(
      /^Usage: rebound <command>/,
    );
    expect((await run(toolPath('kubectl'), ['rebound', 'validate', EXAMPLE], pathWith(bin))).stdout).toMatch(
      /no errors/,
    );
  });
});
