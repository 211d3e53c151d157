// Which GitOps engine manages a workload, from the labels and annotations the engines put on what
// they apply. A `helm` or `kubernetes` stage that changes such a workload is undone at the engine's
// next sync (Argo CD's self-heal, Flux's drift correction), so the problem says so.
import { AppsV1Api, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig, V1ObjectMeta } from '@kubernetes/client-node';
import { SharedConnection } from '../kube/connection.ts';
import { classifyKubeError, isNotFound } from '../kube/errors.ts';

/** The engine and object that manage `meta`'s workload, as a sentence; undefined when none does. */
export function gitOpsOwnerOf(
  kind: string,
  meta: Pick<V1ObjectMeta, 'name' | 'labels' | 'annotations'>,
): string | undefined {
  const labels = meta.labels ?? {};
  const annotations = meta.annotations ?? {};
  const what = `${kind} ${meta.name ?? ''}`;
  const kustomization = labels['kustomize.toolkit.fluxcd.io/name'];
  if (kustomization)
    return `${what} is managed by Flux Kustomization ${labels['kustomize.toolkit.fluxcd.io/namespace'] ?? '?'}/${kustomization}`;
  const release = labels['helm.toolkit.fluxcd.io/name'];
  if (release)
    return `${what} is managed by Flux HelmRelease ${labels['helm.toolkit.fluxcd.io/namespace'] ?? '?'}/${release}`;
  // Argo CD's default (annotation) tracking: `<app>:<group>/<kind>:<namespace>/<name>`.
  const tracking = annotations['argocd.argoproj.io/tracking-id'];
  if (tracking) return `${what} is managed by Argo CD Application ${tracking.split(':')[0] ?? tracking}`;
  const instance = labels['argocd.argoproj.io/instance'];
  if (instance) return `${what} is managed by Argo CD Application ${instance}`;
  return undefined;
}

// Only the labels and annotations are read: the API server sends the Deployment's metadata alone
// (PartialObjectMetadata), not its spec and status, once for every applied action.
const METADATA_ONLY = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

/** Reads the service's Deployment (named after the service) and names its GitOps owner, if any. */
export function deploymentOwner(
  kubeConfig: KubeConfig,
): (namespace: string, service: string) => Promise<string | undefined> {
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const connection = new SharedConnection(kubeConfig);
  return async (namespace, service) => {
    try {
      const options = setHeaderOptions('Accept', METADATA_ONLY, await connection.options());
      const deployment = await apps.readNamespacedDeployment({ name: service, namespace }, options);
      return gitOpsOwnerOf('Deployment', deployment.metadata ?? {});
    } catch (err) {
      const e = classifyKubeError(err, `get deployment ${namespace}/${service}`);
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
}
