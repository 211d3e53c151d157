// The helm applier with the real helm binary against the real API server, when a helm upgrade is
// SIGKILLed mid-way (issue 14, defect 2): the release is left pending-upgrade. Left by our own
// interrupted run, the next apply rolls it back and upgrades; left by someone else's, it stalls
// with the command a person can run, and touches nothing.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HelmApplier, helmUpgradeArgs } from '../../src/apply/helm.ts';
import { REVISION_LABEL } from '../../src/apply/helm-release.ts';
import type { ApplyRequest } from '../../src/apply/types.ts';
import { runCommand } from '../harness/process.ts';
import { toolPath } from '../harness/tools.ts';

const cluster = inject('cluster');
let work: string;
let chartDir: string;
let helmHome: string;

const helmEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env['PATH'],
  HOME: helmHome,
  HELM_CACHE_HOME: join(helmHome, 'cache'),
  HELM_CONFIG_HOME: join(helmHome, 'config'),
  HELM_DATA_HOME: join(helmHome, 'data'),
});

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'rebound-helm-pending-'));
  helmHome = join(work, 'home');
  chartDir = join(work, 'chart');
  await mkdir(join(chartDir, 'templates'), { recursive: true });
  await writeFile(join(chartDir, 'Chart.yaml'), 'apiVersion: v2\nname: carts\nversion: 0.1.0\n');
  await writeFile(
    join(chartDir, 'templates', 'config.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: carts-config\ndata:\n  replicas: "{{ .Values.replicaCount }}"\n',
  );
  // A pre-upgrade hook Job: a bare API server has no controllers, so it never completes and helm
  // waits on it with the release pending-upgrade: the moment a kill leaves it that way.
  await writeFile(
    join(chartDir, 'templates', 'hook.yaml'),
    [
      '{{- if .Values.slowHook }}',
      'apiVersion: batch/v1',
      'kind: Job',
      'metadata:',
      '  name: carts-migrate-{{ .Release.Revision }}',
      '  annotations:',
      '    "helm.sh/hook": pre-upgrade',
      'spec:',
      '  template:',
      '    spec:',
      '      restartPolicy: Never',
      '      containers: [{ name: migrate, image: busybox, command: ["true"] }]',
      '{{- end }}',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function helm(args: string[]): Promise<string> {
  return runCommand(toolPath('helm'), [...args, '--kubeconfig', cluster.kubeconfigPath], {
    timeoutMs: 60_000,
    env: helmEnv(),
  }).then((r) => r.stdout);
}

async function status(release: string, namespace: string): Promise<string> {
  return (JSON.parse(await helm(['get', 'metadata', release, '-n', namespace, '-o', 'json'])) as { status: string })
    .status;
}

async function values(name: string, replicaCount: number, slowHook: boolean): Promise<string> {
  const file = join(work, `${name}.yaml`);
  await writeFile(file, `replicaCount: ${replicaCount}\nslowHook: ${slowHook}\n`);
  return file;
}

/** Starts `helm upgrade` with `args`, waits until the release is pending-upgrade, then SIGKILLs helm. */
async function killMidUpgrade(args: string[], release: string, namespace: string): Promise<void> {
  const child = spawn(toolPath('helm'), args, { env: helmEnv(), stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    for (;;) {
      if ((await status(release, namespace).catch(() => '')) === 'pending-upgrade') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

function request(namespace: string, valuesFile: string): ApplyRequest {
  return {
    project: 'sockshop',
    stage: 'production',
    service: 'carts',
    namespace,
    branch: 'production',
    commit: '0'.repeat(40),
    chartDir,
    valuesFile,
  };
}

describe('HelmApplier with a release left pending', () => {
  it('rolls back a release its own killed upgrade left pending-upgrade, then upgrades', async () => {
    const namespace = `helm-pending-${randomBytes(4).toString('hex')}`;
    const applier = new HelmApplier({
      helmPath: toolPath('helm'),
      homeDir: helmHome,
      kubeconfigPath: cluster.kubeconfigPath,
      timeoutSeconds: 60,
    });
    expect(await applier.apply(request(namespace, await values('v1', 1, false)))).toMatchObject({ helmRevision: 1 });

    // Our own upgrade, exactly as the applier runs it, killed by SIGKILL (the controller OOM-killed).
    const interrupted = helmUpgradeArgs({
      release: 'carts',
      chartDir,
      valuesFile: await values('v2', 2, true),
      namespace,
      timeoutSeconds: 60,
      kubeconfigPath: cluster.kubeconfigPath,
    });
    await killMidUpgrade([...interrupted, '--labels', `${REVISION_LABEL}=2`], 'carts', namespace);
    expect(await status('carts', namespace)).toBe('pending-upgrade');

    const result = await applier.apply(request(namespace, await values('v3', 3, false)));
    expect(await status('carts', namespace)).toBe('deployed');
    const history = JSON.parse(await helm(['history', 'carts', '-n', namespace, '-o', 'json'])) as {
      revision: number;
      status: string;
      description: string;
    }[];
    // Helm's rollback leaves the interrupted revision as it was, and makes a new one from revision 1.
    expect(history.map((h) => [h.revision, h.status])).toEqual([
      [1, 'superseded'],
      [2, 'pending-upgrade'],
      [3, 'superseded'],
      [4, 'deployed'],
    ]);
    expect(history[2]?.description).toMatch(/Rollback to 1/);
    expect(result.helmRevision).toBe(4);
    const config = JSON.parse(
      (
        await runCommand(
          toolPath('kubectl'),
          ['--kubeconfig', cluster.kubeconfigPath, 'get', 'configmap', 'carts-config', '-n', namespace, '-o', 'json'],
          { timeoutMs: 30_000 },
        )
      ).stdout,
    ) as { data: { replicas: string } };
    expect(config.data.replicas).toBe('3');
  });

  it('stalls with what to do on a release someone else left pending, and leaves it alone', async () => {
    const namespace = `helm-pending-${randomBytes(4).toString('hex')}`;
    const applier = new HelmApplier({
      helmPath: toolPath('helm'),
      homeDir: helmHome,
      kubeconfigPath: cluster.kubeconfigPath,
      timeoutSeconds: 60,
    });
    await applier.apply(request(namespace, await values('o1', 1, false)));
    // A person's upgrade (no label of ours: Helm carries our revision-1 label over), killed mid-way.
    await killMidUpgrade(
      [
        'upgrade',
        'carts',
        chartDir,
        '-n',
        namespace,
        '--values',
        await values('o2', 2, true),
        '--timeout',
        '60s',
        '--kubeconfig',
        cluster.kubeconfigPath,
      ],
      'carts',
      namespace,
    );

    const err = await applier.apply(request(namespace, await values('o3', 3, false))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HelmReleasePending', reason: 'ApplyFailed', retryable: false });
    expect((err as Error).message).toContain(
      `helm release carts in ${namespace} is pending-upgrade at revision 2, an operation Rebound did not start`,
    );
    expect((err as Error).message).toContain(`\`helm rollback carts 1 --namespace ${namespace}\``);
    expect(await status('carts', namespace)).toBe('pending-upgrade');
  });
});
