// The e2e files' cluster. They run two at a time, and each runs `rebound controller`, which watches
// every namespace and takes the leader Lease: so each worker (a lane, VITEST_POOL_ID 1..maxWorkers,
// never two files at once) has a cluster of its own, started by the global set-up.
import { inject } from 'vitest';
import type { ProvidedCluster } from './global-setup.ts';

/** The cluster of the lane this file runs in; only in the e2e project. */
export function laneCluster(): ProvidedCluster {
  const lanes = inject('lanes') as ProvidedCluster[] | undefined;
  const lane = Number(process.env.VITEST_POOL_ID ?? '1');
  const cluster = lanes?.[lane - 1];
  if (!cluster)
    throw new Error(
      `no cluster for lane ${String(lane)}: the e2e project's global set-up started ${String(lanes?.length ?? 0)} (files that run the controller belong to E2E in vitest.config.ts)`,
    );
  return cluster;
}
