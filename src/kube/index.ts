// The typed Kubernetes facade: configuration, the rebound.dev clients, Leases, Events, errors.
export { loadKubeConfig, type KubeConfigSource } from './config.ts';
export {
  KubeError,
  KUBE_ERROR_CODES,
  classifyKubeError,
  isAlreadyExists,
  isConflict,
  isNotFound,
  type KubeErrorCode,
} from './errors.ts';
export { kubeEventRecorder, type EventRecorder, type EventSubject, type EventType } from './events.ts';
export { kubeClaimStore, type ClaimStore, type ClaimWrite, type StoredClaim } from './claim-leases.ts';
export { kubeLeaseStore, type LeaseRef } from './lease.ts';
export { decodeSecret, kubeSecretReader, type SecretReader } from './secrets.ts';
export {
  CustomResourceClient,
  RESOURCES,
  reboundClients,
  type CreateResult,
  type CustomResource,
  type ListResult,
  type ReboundClients,
  type ResourceDescriptor,
} from './resources.ts';
