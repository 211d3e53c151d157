// Assembles a complete local world for the end-to-end tests and `make demo`: a project repository
// on the Git server, the controller's RBAC from manifests/, resources applied with kubectl, the
// service deployed with Helm, and the controller itself running as a child process with the
// ServiceAccount's token (so missing permissions fail for real).
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { GitServer } from './git-server.ts';
import { seedKeptnRepo } from './keptn-repo.ts';
import { httpOk, registerTempDir, removeTempDir, runCommand, startProcess, waitUntil } from './process.ts';
import type { ManagedProcess } from './process.ts';
import { toolPath } from './tools.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SAMPLE_CHART = join(REPO_ROOT, 'examples', 'sockshop', 'carts', 'chart');

export interface ProjectRepoSpec {
  project: string;
  service: string;
  /** Stage branches in order; remediation runs in `remediationStages`. */
  stages: string[];
  remediationStages: string[];
  /** Files of the service directory besides the chart: values.yaml, remediation.yaml, slo.yaml, sli.yaml. */
  files: Record<string, string>;
  /** shipyard.yaml as given (a Keptn example's); default: one made from `stages` and `remediationStages`. */
  shipyard?: string;
}

/** A Keptn-layout repository on the Git server: shipyard.yaml on main, the service on every stage branch. */
export async function createProjectRepo(
  git: Pick<GitServer, 'createRepo'>,
  spec: ProjectRepoSpec,
): Promise<{ url: string; dir: string }> {
  const examples = await mkdtemp(join(tmpdir(), 'rebound-project-'));
  try {
    await writeFile(join(examples, 'shipyard.yaml'), spec.shipyard ?? shipyard(spec));
    const serviceDir = join(examples, spec.service);
    await mkdir(serviceDir, { recursive: true });
    for (const [name, text] of Object.entries(spec.files)) await writeFile(join(serviceDir, name), text);
    await cp(SAMPLE_CHART, join(serviceDir, 'chart'), { recursive: true });
    return await git.createRepo(spec.project, (gitDir) =>
      seedKeptnRepo(gitDir, { project: spec.project, stages: spec.stages, examplesDir: examples }).then(
        () => undefined,
      ),
    );
  } finally {
    await rm(examples, { recursive: true, force: true });
  }
}

function shipyard(spec: ProjectRepoSpec): string {
  return stringify({
    apiVersion: 'spec.keptn.sh/0.2.2',
    kind: 'Shipyard',
    metadata: { name: `shipyard-${spec.project}` },
    spec: {
      stages: spec.stages.map((name) => ({
        name,
        sequences: [
          { name: 'delivery', tasks: [{ name: 'deployment' }] },
          ...(spec.remediationStages.includes(name)
            ? // No triggeredAfter: the controller follows the shipyard's wait, and the tests pass --evaluation-wait.
              [{ name: 'remediation', tasks: [{ name: 'get-action' }, { name: 'action' }, { name: 'evaluation' }] }]
            : []),
        ],
      })),
    },
  });
}

export function kubectl(kubeconfigPath: string, args: readonly string[], input?: string): Promise<string> {
  return runCommand(toolPath('kubectl'), ['--kubeconfig', kubeconfigPath, ...args], {
    timeoutMs: 60_000,
    ...(input === undefined ? {} : { input }),
  }).then((r) => r.stdout);
}

export interface ControllerRbacOptions {
  /**
   * Namespaces of `apply: helm` stages: the helm applier's role is bound in each, as an operator
   * would (manifests/stage-rolebinding.example.yaml). Omitted, it is bound cluster-wide, a shortcut
   * for tests that create a fresh namespace per scenario; the role's rules are the same.
   */
  helmNamespaces?: readonly string[];
}

/** The controller's namespace, ServiceAccount and RBAC, straight from manifests/. */
export async function installControllerRbac(
  adminKubeconfig: string,
  options: ControllerRbacOptions = {},
): Promise<void> {
  for (const file of ['namespace.yaml', 'serviceaccount.yaml', 'rbac.yaml']) {
    await kubectl(adminKubeconfig, [
      'apply',
      '--server-side',
      '--force-conflicts',
      '-f',
      join(REPO_ROOT, 'manifests', file),
    ]);
  }
  const roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'rebound-helm-applier' };
  const subjects = [{ kind: 'ServiceAccount', name: 'rebound-controller', namespace: 'rebound-system' }];
  if (options.helmNamespaces === undefined) {
    await applyObjects(adminKubeconfig, [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'rebound-helm-applier-everywhere' },
        roleRef,
        subjects,
      },
    ]);
    return;
  }
  for (const namespace of options.helmNamespaces) {
    await applyObjects(adminKubeconfig, [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'rebound-helm-applier', namespace },
        roleRef,
        subjects,
      },
    ]);
  }
}

/** `kubectl apply` of objects given as data. */
export async function applyObjects(kubeconfigPath: string, objects: readonly object[]): Promise<void> {
  const text = objects.map((o) => stringify(o)).join('---\n');
  await kubectl(kubeconfigPath, ['apply', '--server-side', '--force-conflicts', '-f', '-'], text);
}

/** The service's first release in a stage, as a delivery would have left it (Helm from the stage branch). */
export async function deployService(options: {
  kubeconfigPath: string;
  repoDir: string;
  branch: string;
  service: string;
  namespace: string;
}): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'rebound-deploy-'));
  try {
    await runCommand('git', [
      '--git-dir',
      options.repoDir,
      'archive',
      '--format=tar',
      '-o',
      join(work, 'tree.tar'),
      options.branch,
      options.service,
    ]);
    await runCommand('tar', ['-xf', join(work, 'tree.tar'), '-C', work]);
    await runCommand(
      toolPath('helm'),
      [
        'upgrade',
        options.service,
        join(work, options.service, 'chart'),
        '--install',
        '--namespace',
        options.namespace,
        '--create-namespace',
        '--values',
        join(work, options.service, 'values.yaml'),
        '--kubeconfig',
        options.kubeconfigPath,
      ],
      {
        env: {
          ...process.env,
          HELM_CACHE_HOME: join(work, 'helm'),
          HELM_CONFIG_HOME: join(work, 'helm'),
          HELM_DATA_HOME: join(work, 'helm'),
        },
        timeoutMs: 120_000,
      },
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface ControllerProcess {
  process: ManagedProcess;
  metricsUrl: string;
  workDir: string;
  /** Stops the controller (SIGTERM, then SIGKILL) and removes its work dir. */
  stop(): Promise<void>;
}

export interface ControllerProcessOptions {
  kubeconfigPath: string;
  prometheusUrl: string;
  metricsPort: number;
  /** Extra flags (e.g. `--namespace`, `--evaluation-wait=3s`). */
  args?: readonly string[];
  /** Keep the Git object stores between runs (a restart after a crash). */
  workDir?: string;
  name?: string;
}

/** `rebound controller` as a real child process, ready once /readyz answers. */
export async function startControllerProcess(options: ControllerProcessOptions): Promise<ControllerProcess> {
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), 'rebound-controller-')));
  registerTempDir(workDir);
  const metricsUrl = `http://127.0.0.1:${options.metricsPort}`;
  const child = await startProcess({
    name: options.name ?? 'rebound-controller',
    command: process.execPath,
    args: [
      join(REPO_ROOT, 'bin', 'rebound.js'),
      'controller',
      '--kubeconfig',
      options.kubeconfigPath,
      '--prometheus-url',
      options.prometheusUrl,
      '--helm',
      toolPath('helm'),
      '--work-dir',
      workDir,
      '--metrics-address',
      `127.0.0.1:${options.metricsPort}`,
      ...(options.args ?? []),
    ],
    keepLines: 400,
  });
  await waitUntil('rebound controller /readyz', () => httpOk(`${metricsUrl}/readyz`), {
    timeoutMs: 60_000,
    intervalMs: 100,
    process: child,
  });
  return {
    process: child,
    metricsUrl,
    workDir,
    stop: async () => {
      await child.stop(15_000);
      if (!options.workDir) await removeTempDir(workDir);
    },
  };
}
