// Vitest global set-up for the integration project: one real cluster (etcd + kube-apiserver with
// RBAC, kube-controller-manager, kube-scheduler and a KWOK node, so workloads roll out) per test run,
// with the CRDs from crds/ installed and Established. Tests get it through `inject('cluster')`; each
// test uses its own fresh namespace.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type LocalCluster, startCluster } from './cluster.ts';
import { BUILT_TOOLS, SYSTEM_TOOLS, WORKLOAD_TOOLS, missingTools, toolsDir } from './tools.ts';
import { kubectl } from './world.ts';

/** What integration tests receive from `inject('cluster')` (plain data: it crosses into the workers). */
export type ProvidedCluster = Pick<
  LocalCluster,
  | 'server'
  | 'kubeconfigPath'
  | 'controllerKubeconfigPath'
  | 'adminToken'
  | 'controllerToken'
  | 'controllerServiceAccount'
  | 'caData'
>;

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ProvidedCluster;
  }
}

const repoRoot = join(import.meta.dirname, '..', '..');
const crdsDir = join(repoRoot, 'crds');
const approvalPolicy = join(repoRoot, 'manifests', 'approval-identity.yaml');

async function assertCrdsPresent(): Promise<void> {
  const files = (await readdir(crdsDir).catch(() => [])).filter((f) => f.endsWith('.yaml'));
  if (files.length === 0) throw new Error(`no CRDs found: ${crdsDir} has no *.yaml files`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const missing = missingTools([...BUILT_TOOLS, ...WORKLOAD_TOOLS, ...SYSTEM_TOOLS]);
  if (missing.length > 0) {
    throw new Error(
      `integration tests run against real servers, and these tools are missing: ${missing.join(', ')}. ` +
        `Run \`make setup\` (it builds ${[...BUILT_TOOLS, ...WORKLOAD_TOOLS].join(', ')} into ${toolsDir()} and installs the Debian packages).`,
    );
  }
  await assertCrdsPresent();

  const cluster: LocalCluster = await startCluster({ crdsDir, workloads: { nodes: 2 } });
  try {
    console.log(
      `[harness] kube-apiserver ready at ${cluster.server} in ${String(cluster.startupMs)} ms (CRDs established, ${String(cluster.nodes.length)} simulated nodes Ready)`,
    );
    // Installed with the CRDs: the admission policy that vouches for an Approval's user.
    await kubectl(cluster.kubeconfigPath, [
      'apply',
      '--server-side',
      '--field-manager=rebound-harness',
      '-f',
      approvalPolicy,
    ]);
    project.provide('cluster', {
      server: cluster.server,
      kubeconfigPath: cluster.kubeconfigPath,
      controllerKubeconfigPath: cluster.controllerKubeconfigPath,
      adminToken: cluster.adminToken,
      controllerToken: cluster.controllerToken,
      controllerServiceAccount: cluster.controllerServiceAccount,
      caData: cluster.caData,
    });
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return () => cluster.stop();
}
