import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summaryLine } from './validate.ts';
import { validatePath } from './validate-tree.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(REPO, 'bin', 'rebound.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function rebound(args: string[], cwd = REPO): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'validate', ...args], { cwd }, (err, stdout, stderr) => {
      const code = err && typeof err.code === 'number' ? err.code : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;

async function put(path: string, text: string): Promise<void> {
  await mkdir(dirname(join(dir, path)), { recursive: true });
  await writeFile(join(dir, path), text);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rebound-validate-'));
  await put('shipyard.yaml', 'stages:\n  - name: dev\n  - name: Production\n');
  await put(
    'carts/remediation.yaml',
    'remediations:\n- name: slow\n  actions:\n  - action: scaling\n    value: lots\n',
  );
  await put(
    'carts/slo.yaml',
    'objectives:\n  - sli: rt\n    pass:\n      - criteria: ["<<600"]\ntotal_score:\n  pass: "90%"\n',
  );
  await put('carts/prometheus/sli.yaml', 'indicators:\n  rt: up\n');
  await put('carts/values.yaml', 'not: [valid\n'); // not a Keptn file: never read
  await put('.git/remediation.yaml', 'garbage: [\n');
  await put('node_modules/x/shipyard.yaml', 'garbage: [\n');
  await symlink(join(dir, 'carts'), join(dir, 'loop'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('rebound validate', () => {
  it('passes the examples with a one-line summary', async () => {
    const run = await rebound(['examples']);
    expect(run).toEqual({
      code: 0,
      stdout: 'validated 10 files: shipyard.yaml 3, remediation.yaml 3, slo.yaml 2, sli.yaml 2: no errors\n',
      stderr: '',
    });
  });

  it('prints every error relative to PATH, skips .git, node_modules and symlinks, and exits 1', async () => {
    const run = await rebound([dir]);
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n')).toEqual([
      'carts/remediation.yaml:5:12: scaling value "lots" must be N, +N or -N (replicas, e.g. "2" or "+1")',
      'carts/slo.yaml:4:20: could not parse criteria target value in "<<600"',
      'shipyard.yaml:3:11: stage name "Production" must be a DNS-1123 label: lower-case letters, digits and "-", at most 63 characters',
      'validated 4 files: shipyard.yaml 1, remediation.yaml 1, slo.yaml 1, sli.yaml 1: 3 errors in 3 files',
      '',
    ]);
  });

  it("validates one file given by path, recognising it by content when the name is not Keptn's", async () => {
    await put(
      'policy.yaml',
      'apiVersion: spec.keptn.sh/0.1.4\nkind: Remediation\nspec:\n  remediations:\n    - problemType: x\n      actionsOnOpen:\n        - {action: featuretoggle, value: "A:yes"}\n',
    );
    const run = await rebound([join(dir, 'policy.yaml')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `${join(dir, 'policy.yaml')}:7:42: featuretoggle value "A:yes" must be Flag:on or Flag:off`,
    );
  });

  it('prints warnings, including how the files of a directory fit together, without failing', async () => {
    const clean = await mkdtemp(join(tmpdir(), 'rebound-warn-'));
    await mkdir(join(clean, 'carts'));
    await writeFile(
      join(clean, 'carts', 'slo.yaml'),
      'objectives:\n  - sli: rt\n    pass:\n      - criteria: ["<600"]\ntotal_score:\n  pass: "90%"\n',
    );
    await writeFile(join(clean, 'carts', 'sli.yaml'), 'indicators:\n  throughput: up\n');
    await writeFile(
      join(clean, 'carts', 'remediation.yml'),
      'remediations:\n- name: slow\n  actions:\n  - {action: scaling, value: +1}\n',
    );
    const run = await rebound([clean]);
    await rm(clean, { recursive: true });
    expect(run).toEqual({
      code: 0,
      stdout: [
        'carts/remediation.yml:1:1: warning: Rebound reads remediation.yaml, not remediation.yml: rename the file',
        'carts/slo.yaml:2:10: warning: indicator "rt" has no query in carts/sli.yaml: this objective will fail with "no value received"',
        'validated 3 files: remediation.yaml 1, slo.yaml 1, sli.yaml 1: no errors, 2 warnings',
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('prints JSON with --json', async () => {
    const run = await rebound(['--json', join(REPO, 'examples', 'keptn-0.6')]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      files: [
        { path: 'carts/remediation.yaml', kind: 'remediation', errors: [], warnings: [] },
        { path: 'shipyard.yaml', kind: 'shipyard', errors: [], warnings: [] },
      ],
      errors: 0,
      warnings: 0,
    });
  });

  it.each([
    [[], /expected exactly one PATH/],
    [['a', 'b'], /expected exactly one PATH/],
    [['--frobnicate', 'examples'], /Unknown option '--frobnicate'/],
    [['does-not-exist'], /does-not-exist: no such file or directory/],
  ])('exits 2 on usage errors: %j', async (args, message) => {
    const run = await rebound(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('exits 1 when PATH holds no Keptn file', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'rebound-empty-'));
    const run = await rebound([empty]);
    await rm(empty, { recursive: true });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no shipyard\.yaml, remediation\.yaml, slo\.yaml, sli\.yaml found in/);
  });
});

describe('validatePath', () => {
  it('reports files in sorted path order with their kinds', async () => {
    const reports = await validatePath(dir);
    expect(reports.map((r) => [r.path, r.kind])).toEqual([
      ['carts/prometheus/sli.yaml', 'sli'],
      ['carts/remediation.yaml', 'remediation'],
      ['carts/slo.yaml', 'slo'],
      ['shipyard.yaml', 'shipyard'],
    ]);
  });

  it("checks an slo.yaml against the SLI file Keptn's Prometheus provider read, and prefers the one beside it", async () => {
    const tree = await mkdtemp(join(tmpdir(), 'rebound-sli-'));
    const slo =
      'spec_version: "1.0"\nobjectives:\n  - sli: response_time_p95\n  - sli: error_rate\ntotal_score:\n  pass: "90%"\n';
    await mkdir(join(tree, 'carts', 'prometheus'), { recursive: true });
    await writeFile(join(tree, 'carts', 'slo.yaml'), slo);
    await writeFile(join(tree, 'carts', 'prometheus', 'sli.yaml'), 'indicators:\n  response_time_p95: latency\n');
    const warningsOf = async (): Promise<string[]> =>
      (await validatePath(tree)).flatMap((r) => r.warnings.map((w) => `${w.file}:${w.line}: ${w.message}`));
    expect(await warningsOf()).toEqual([
      'carts/slo.yaml:4: indicator "error_rate" has no query in carts/prometheus/sli.yaml: this objective will fail with "no value received"',
    ]);
    await writeFile(join(tree, 'carts', 'sli.yaml'), 'indicators:\n  response_time_p95: a\n  error_rate: b\n');
    expect(await warningsOf()).toEqual([]);
    await rm(tree, { recursive: true });
  });

  it('summarises counts per file kind, errors and warnings', () => {
    const w = { file: 'a', line: 1, column: 1, message: 'w' };
    expect(summaryLine([{ path: 'slo.yaml', kind: 'slo', errors: [], warnings: [w, w] }], 0, 2)).toBe(
      'validated 1 file: slo.yaml 1: no errors, 2 warnings',
    );
  });
});
