// Vitest global set-up for the integration and e2e projects: real clusters (etcd + kube-apiserver
// with RBAC, kube-controller-manager, kube-scheduler and KWOK nodes, so workloads roll out) with the
// CRDs from crds/ installed and Established. The integration project gets one, through
// `inject('cluster')`; each test uses its own fresh namespace. The e2e project runs `rebound
// controller`, which watches every namespace and takes the leader Lease, so no two of its files may
// share a cluster: it gets one per worker (a lane), through `laneCluster()` (lane.ts).
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
    /** The e2e project's clusters, one per worker: lane N (VITEST_POOL_ID) uses lanes[N - 1]. */
    lanes: ProvidedCluster[];
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

  const lanes = project.name === 'e2e' ? Math.max(1, project.config.maxWorkers) : 1;
  const started = await Promise.allSettled(Array.from({ length: lanes }, () => startProjectCluster()));
  const clusters = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stopAll = async (): Promise<void> => {
    await Promise.all(clusters.map((c) => c.stop()));
  };
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  for (const cluster of clusters)
    console.log(
      `[harness] kube-apiserver ready at ${cluster.server} in ${String(cluster.startupMs)} ms (CRDs established, ${String(cluster.nodes.length)} simulated nodes Ready)`,
    );
  const provided = clusters.map((cluster): ProvidedCluster => ({
    server: cluster.server,
    kubeconfigPath: cluster.kubeconfigPath,
    controllerKubeconfigPath: cluster.controllerKubeconfigPath,
    adminToken: cluster.adminToken,
    controllerToken: cluster.controllerToken,
    controllerServiceAccount: cluster.controllerServiceAccount,
    caData: cluster.caData,
  }));
  if (project.name === 'e2e') project.provide('lanes', provided);
  else if (provided[0]) project.provide('cluster', provided[0]);
  return stopAll;
}

/** One cluster with the CRDs and the admission policy that vouches for an Approval's user. */
async function startProjectCluster(): Promise<LocalCluster> {
  const cluster: LocalCluster = await startCluster({ crdsDir, workloads: { nodes: 2 } });
  try {
    await kubectl(cluster.kubeconfigPath, [
      'apply',
      '--server-side',
      '--field-manager=rebound-harness',
      '-f',
      approvalPolicy,
    ]);
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
