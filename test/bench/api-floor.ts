// The API server's floor for a storm: the writes any correct remediation of a service must make on the
// way to its first action, made by a bare client with no logic between them, on the same API server
// as the storms. Beside the native git CLI's rate, it shows what part of a storm's time the API
// server alone takes on this machine.
import { AppsV1Api, CoordinationV1Api, CoreV1Api, V1MicroTime } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, KINDS } from '../../src/api/index.ts';
import type { ProblemEventStatus } from '../../src/api/index.ts';
import { SharedConnection } from '../../src/kube/connection.ts';
import { reboundClients } from '../../src/kube/index.ts';
import { benchDeployment, inChains } from './bench-repo.ts';

export interface ApiFloor {
  /** From the first creation to the last scale. */
  seconds: number;
  writesPerService: number;
}

/**
 * Per service, in `concurrency` chains: create its ProblemEvent (as the storm's alerts do), claim its
 * turn (a Lease), write the status once (`status`, as a storm wrote it) and scale its Deployment.
 * No reads, no watches, no Events, no Git: a lower bound for the storm's API work.
 */
export async function apiFloor(
  kc: KubeConfig,
  options: { namespace: string; services: number; concurrency: number; status: ProblemEventStatus },
): Promise<ApiFloor> {
  const { namespace, services } = options;
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const leases = kc.makeApiClient(CoordinationV1Api);
  const clients = reboundClients(kc);
  // One pooled connection, as the controller's calls use.
  const connection = new SharedConnection(kc);
  const name = (i: number): string => `floor-${String(i).padStart(4, '0')}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await inChains(services, options.concurrency, (i) =>
    apps.createNamespacedDeployment({
      namespace,
      body: benchDeployment(name(i)),
    }),
  );
  const t0 = performance.now();
  await inChains(services, options.concurrency, async (i) => {
    await clients.problemEvents.create({
      apiVersion: API_VERSION,
      kind: KINDS.ProblemEvent,
      metadata: { name: name(i), namespace },
      spec: {
        project: 'floor',
        stage: 'production',
        service: name(i),
        problemTitle: 'Response time degradation',
        state: 'OPEN',
        source: 'bench',
      },
    });
    const now = new V1MicroTime(Date.now());
    await leases.createNamespacedLease(
      {
        namespace,
        body: {
          metadata: { name: `turn-${name(i)}` },
          spec: {
            holderIdentity: `${namespace}/${name(i)}`,
            leaseDurationSeconds: 3_600,
            acquireTime: now,
            renewTime: now,
          },
        },
      },
      await connection.options(),
    );
    await clients.problemEvents.patchStatus(namespace, name(i), options.status);
    await apps.patchNamespacedDeploymentScale(
      { name: name(i), namespace, body: { spec: { replicas: 2 } }, fieldManager: 'floor' },
      await connection.mergePatch(),
    );
  });
  return { seconds: (performance.now() - t0) / 1000, writesPerService: 4 };
}
