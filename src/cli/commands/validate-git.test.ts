import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { branchTree, listBranches } from './validate-git.ts';
import { TOO_LARGE, validateTree } from './validate-tree.ts';

const run = promisify(execFile);
const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'rebound.js');

let base: string;
let origin: string;
let clone: string;

async function git(dir: string, ...args: string[]): Promise<void> {
  await run('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args]);
}

async function commitFiles(dir: string, files: Record<string, string>, message: string): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', message);
}

async function rebound(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'validate', ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'rebound-validate-git-'));
  origin = join(base, 'origin');
  clone = join(base, 'clone');
  await mkdir(origin);
  await git(origin, 'init', '-q', '-b', 'main');
  await commitFiles(origin, { 'shipyard.yaml': 'stages:\n  - name: dev\n  - name: production\n' }, 'shipyard');
  await git(origin, 'checkout', '-q', '-b', 'dev');
  await commitFiles(
    origin,
    {
      'carts/remediation.yaml': 'remediations:\n- name: slow\n  actions:\n  - {action: scaling, value: +1}\n',
      'carts/values.yaml': 'replicaCount: 1\n',
    },
    'dev',
  );
  await git(origin, 'checkout', '-q', 'main');
  await git(origin, 'checkout', '-q', '-b', 'production');
  await commitFiles(
    origin,
    {
      'carts/remediation.yaml':
        'remediations:\n- name: slow\n  actions:\n  - {action: scaling, value: lots}\n  - {action: featuretoggle, value: "EnablePromotion:off"}\n',
      'carts/values.yaml': 'replicaCount: 1\nfeatureFlags: {}\n',
      'carts/slo.yaml': `objectives: []\ntotal_score: {pass: "${'9'.repeat(1024 * 1024)}"}\n`,
    },
    'production',
  );
  await git(origin, 'checkout', '-q', 'main');
  // A fresh clone has only main locally; dev and production are remote-tracking branches.
  await run('git', ['clone', '-q', origin, clone]);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('listBranches', () => {
  it('lists local branches and remote-tracking ones that are not also local', async () => {
    expect(await listBranches(clone)).toEqual([
      { name: 'dev', ref: 'refs/remotes/origin/dev' },
      { name: 'main', ref: 'refs/heads/main' },
      { name: 'production', ref: 'refs/remotes/origin/production' },
    ]);
  });
});

describe('branchTree', () => {
  it('reads Keptn files and their values.yaml from the object store, refusing oversized blobs', async () => {
    const tree = branchTree(clone, 'production', 'refs/remotes/origin/production');
    expect((await tree.keptnFiles()).sort()).toEqual(['carts/remediation.yaml', 'carts/slo.yaml', 'shipyard.yaml']);
    const texts = await tree.read(['carts/values.yaml', 'carts/slo.yaml', 'carts/missing.yaml', 'shipyard.yaml']);
    expect(texts).toEqual(
      new Map<string, string | typeof TOO_LARGE>([
        ['carts/slo.yaml', TOO_LARGE],
        ['carts/values.yaml', 'replicaCount: 1\nfeatureFlags: {}\n'],
        ['shipyard.yaml', 'stages:\n  - name: dev\n  - name: production\n'],
      ]),
    );
  });

  it('validates a branch with branch-prefixed paths', async () => {
    const reports = await validateTree(branchTree(clone, 'dev', 'refs/remotes/origin/dev'));
    expect(reports.map((r) => [r.path, r.errors.length])).toEqual([
      ['dev:carts/remediation.yaml', 0],
      ['dev:shipyard.yaml', 0],
    ]);
  });
});

describe('rebound validate --branch / --all-branches', () => {
  it('validates every branch and prints branch:path:line:column', async () => {
    const result = await rebound(['--all-branches', clone]);
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')).toEqual([
      'production:carts/remediation.yaml:4:30: scaling value "lots" must be N, +N or -N (replicas, e.g. "2" or "+1")',
      'production:carts/slo.yaml:1:1: file is larger than the 1048576-byte limit',
      'validated 6 files: shipyard.yaml 3, remediation.yaml 2, slo.yaml 1: 2 errors in 2 files',
      '',
    ]);
  });

  it('validates the named branches only, in a bare repository too', async () => {
    const bare = join(base, 'bare.git');
    await run('git', ['clone', '-q', '--bare', origin, bare]);
    expect(await rebound(['--branch', 'dev', '--branch', 'main', bare])).toEqual({
      code: 0,
      stdout: 'validated 3 files: shipyard.yaml 2, remediation.yaml 1: no errors\n',
      stderr: '',
    });
  });

  it('exits 2 for an unknown branch, naming the ones that exist', async () => {
    const result = await rebound(['--branch', 'staging', clone]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('has no branch "staging" (branches: dev, main, production)');
  });
});

describe('rebound validate --project', () => {
  it("checks the Project's stages against the repository's branches", async () => {
    const project = join(base, 'project.yaml');
    await writeFile(
      project,
      'apiVersion: rebound.dev/v1alpha1\nkind: Project\nmetadata:\n  name: sockshop\nspec:\n  stages:\n    - name: dev\n      apply: kubernetes\n    - name: production\n    - name: staging\n      apply: flux\n',
    );
    const result = await rebound(['--branch', 'dev', '--project', project, clone]);
    expect(result).toEqual({
      code: 1,
      stdout: [
        `${project}:9:7: stage production: apply: helm installs carts from carts/chart/Chart.yaml on branch production, which is missing (the chart must be in the repository)`,
        `${project}:10:13: stage staging: ${clone} has no branch "staging": Rebound commits to and applies from it`,
        'validated 2 files: shipyard.yaml 1, remediation.yaml 1: no errors',
        `project ${project}: 2 errors`,
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it("checks the values file and keys of the file's Remediation on its stage's branch", async () => {
    const project = join(base, 'project-remediation.yaml');
    await writeFile(
      project,
      [
        'apiVersion: rebound.dev/v1alpha1',
        'kind: Project',
        'metadata: {name: sockshop}',
        'spec:',
        '  stages: [{name: dev, apply: kubernetes}]',
        '---',
        'apiVersion: rebound.dev/v1alpha1',
        'kind: Remediation',
        'metadata: {name: carts-dev}',
        'spec:',
        '  project: sockshop',
        '  stage: dev',
        '  service: carts',
        '  remediations: []',
        '  values: {file: carts/manifests/carts.yaml, replicaCountKey: spec.replicas}',
        '',
      ].join('\n'),
    );
    const result = await rebound(['--branch', 'dev', '--project', project, clone]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `${project}:15:18: Remediation carts-dev: values file carts/manifests/carts.yaml is not on branch dev: every values action fails with ValuesFileNotFound\n`,
    );
    expect(result.stdout).toContain(`project ${project}: 1 error\n`);
  });

  it('exits 2 when PATH is no Git repository', async () => {
    const project = join(base, 'project.yaml');
    const result = await rebound(['--project', project, base]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--project needs PATH to be a Git repository');
  });
});
