// The leader-election Lease (coordination.k8s.io/v1) as a LeaseStore: reads, and writes that carry
// the resourceVersion read so concurrent candidates cannot both win (409 Conflict).
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { LeaseRecord, LeaseStore } from '../runtime/leader-election.ts';
import { classifyKubeError, isNotFound } from './errors.ts';

export interface LeaseRef {
  namespace: string;
  name: string;
}

export function kubeLeaseStore(kc: KubeConfig, ref: LeaseRef): LeaseStore {
  const api = kc.makeApiClient(CoordinationV1Api);
  const what = `lease ${ref.namespace}/${ref.name}`;
  const toLease = (record: LeaseRecord, resourceVersion?: string): V1Lease => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: ref.name, namespace: ref.namespace, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      leaseTransitions: record.leaseTransitions,
      ...(record.acquireTime ? { acquireTime: new V1MicroTime(record.acquireTime.getTime()) } : {}),
      ...(record.renewTime ? { renewTime: new V1MicroTime(record.renewTime.getTime()) } : {}),
    },
  });
  return {
    async get() {
      let lease: V1Lease;
      try {
        lease = await api.readNamespacedLease(ref);
      } catch (err) {
        const e = classifyKubeError(err, `read ${what}`);
        if (isNotFound(e)) return undefined;
        throw e;
      }
      const spec = lease.spec ?? {};
      return {
        resourceVersion: lease.metadata?.resourceVersion ?? '',
        record: {
          holderIdentity: spec.holderIdentity ?? '',
          leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
          leaseTransitions: spec.leaseTransitions ?? 0,
          acquireTime: toDate(spec.acquireTime),
          renewTime: toDate(spec.renewTime),
        },
      };
    },
    async create(record) {
      try {
        const created = await api.createNamespacedLease({ namespace: ref.namespace, body: toLease(record) });
        return created.metadata?.resourceVersion ?? '';
      } catch (err) {
        throw classifyKubeError(err, `create ${what}`);
      }
    },
    async update(record, resourceVersion) {
      try {
        const updated = await api.replaceNamespacedLease({ ...ref, body: toLease(record, resourceVersion) });
        return updated.metadata?.resourceVersion ?? '';
      } catch (err) {
        throw classifyKubeError(err, `update ${what}`);
      }
    },
  };
}

function toDate(value: Date | string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
