// Leases (coordination.k8s.io/v1) used as claims: one named Lease per thing that only one holder may
// have at a time. Every write is decided by the API server, never by a cache: create fails with 409
// when the Lease exists, replace and delete carry the resourceVersion read and fail with 409 when
// someone wrote in between. A claim has no expiry: it is released, or taken over once its holder is
// known to be finished (the caller decides that).
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { SharedConnection } from './connection.ts';
import type { RequestOptions } from './connection.ts';
import { classifyKubeError, isAlreadyExists, isConflict, isNotFound } from './errors.ts';

export interface StoredClaim {
  holder: string;
  resourceVersion: string;
}

export interface ClaimWrite {
  holder: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Outcomes the API server decided; any other failure is thrown, classified. */
export interface ClaimStore {
  get(name: string): Promise<StoredClaim | undefined>;
  /** `taken`: the Lease already exists (someone else got there first). */
  create(name: string, claim: ClaimWrite): Promise<'created' | 'taken'>;
  /** Replaces the holder if the Lease is still at `resourceVersion`; `moved`: it changed or is gone. */
  replace(name: string, claim: ClaimWrite, resourceVersion: string): Promise<'replaced' | 'moved'>;
  /** Deletes the Lease if it is still at `resourceVersion`; `moved`: it changed or is already gone. */
  remove(name: string, resourceVersion: string): Promise<'removed' | 'moved'>;
}

export function kubeClaimStore(kc: KubeConfig, namespace: string, connection = new SharedConnection(kc)): ClaimStore {
  const api = kc.makeApiClient(CoordinationV1Api);
  // One pooled connection: a storm claims (and is refused) a Lease per waiting problem.
  const pooled = (): Promise<RequestOptions> => connection.options();
  const body = (name: string, claim: ClaimWrite, resourceVersion?: string): V1Lease => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace,
      ...(claim.labels ? { labels: claim.labels } : {}),
      ...(claim.annotations ? { annotations: claim.annotations } : {}),
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    spec: { holderIdentity: claim.holder, acquireTime: new V1MicroTime(Date.now()) },
  });
  return {
    async get(name) {
      try {
        const lease = await api.readNamespacedLease({ namespace, name }, await pooled());
        return { holder: lease.spec?.holderIdentity ?? '', resourceVersion: lease.metadata?.resourceVersion ?? '' };
      } catch (err) {
        const e = classifyKubeError(err, `read lease ${namespace}/${name}`);
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    async create(name, claim) {
      try {
        await api.createNamespacedLease({ namespace, body: body(name, claim) }, await pooled());
        return 'created';
      } catch (err) {
        const e = classifyKubeError(err, `create lease ${namespace}/${name}`);
        if (isAlreadyExists(e)) return 'taken';
        throw e;
      }
    },
    async replace(name, claim, resourceVersion) {
      try {
        await api.replaceNamespacedLease({ namespace, name, body: body(name, claim, resourceVersion) }, await pooled());
        return 'replaced';
      } catch (err) {
        const e = classifyKubeError(err, `replace lease ${namespace}/${name}`);
        if (isConflict(e) || isNotFound(e)) return 'moved';
        throw e;
      }
    },
    async remove(name, resourceVersion) {
      try {
        await api.deleteNamespacedLease(
          { namespace, name, body: { preconditions: { resourceVersion } } },
          await pooled(),
        );
        return 'removed';
      } catch (err) {
        const e = classifyKubeError(err, `delete lease ${namespace}/${name}`);
        if (isConflict(e) || isNotFound(e)) return 'moved';
        throw e;
      }
    },
  };
}
