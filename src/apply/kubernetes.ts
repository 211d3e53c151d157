// The `kubernetes` applier: patches the live objects to what was committed, for clusters where
// nothing renders the chart. Replicas go through the Deployment's scale subresource (so nothing
// else in the Deployment is touched); feature flags go into a ConfigMap the service reads.
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { ReboundError } from '../errors.ts';
import { SharedConnection } from '../kube/connection.ts';
import { classifyKubeError, isNotFound } from '../kube/errors.ts';
import type { Applier, ApplyRequest, ApplyResult } from './types.ts';

export interface KubernetesApplierOptions {
  /** Deployment name from the service name (default: the service name). */
  deploymentName?: (request: ApplyRequest) => string;
  /** ConfigMap holding the flags (default: `<service>-feature-flags`). */
  flagsConfigMapName?: (request: ApplyRequest) => string;
  fieldManager?: string;
}

export class KubernetesApplier implements Applier {
  readonly name = 'kubernetes';
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly options: KubernetesApplierOptions;
  private readonly connection: SharedConnection;

  constructor(kubeConfig: KubeConfig, options: KubernetesApplierOptions = {}) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.options = options;
    this.connection = new SharedConnection(kubeConfig);
  }

  async apply(request: ApplyRequest): Promise<ApplyResult> {
    const done: string[] = [];
    const fieldManager = this.options.fieldManager ?? 'rebound';
    if (request.replicas !== undefined) {
      const name = this.options.deploymentName?.(request) ?? request.service;
      await kubeCall(`scale deployment ${request.namespace}/${name}`, async () =>
        this.apps.patchNamespacedDeploymentScale(
          { name, namespace: request.namespace, body: { spec: { replicas: request.replicas } }, fieldManager },
          await this.connection.mergePatch(),
        ),
      );
      done.push(`deployment ${name} scaled to ${request.replicas}`);
    }
    const flags = request.featureFlags;
    if (flags && Object.keys(flags).length > 0) {
      const name = this.options.flagsConfigMapName?.(request) ?? `${request.service}-feature-flags`;
      const data = Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, String(v)]));
      await kubeCall(`update configmap ${request.namespace}/${name}`, async () => {
        try {
          await this.core.patchNamespacedConfigMap(
            { name, namespace: request.namespace, body: { data }, fieldManager },
            await this.connection.mergePatch(),
          );
        } catch (err) {
          if (!isNotFound(classifyKubeError(err, 'patch configmap'))) throw err;
          await this.core.createNamespacedConfigMap(
            {
              namespace: request.namespace,
              body: { metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'rebound' } }, data },
              fieldManager,
            },
            await this.connection.options(),
          );
        }
      });
      done.push(
        `configmap ${name} flags ${Object.entries(flags)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(', ')}`,
      );
    }
    if (done.length === 0) {
      throw new ReboundError(
        `nothing to apply for ${request.service}: no replica count or feature flag in the change`,
        {
          code: 'NothingToApply',
          reason: 'ApplyFailed',
          retryable: false,
        },
      );
    }
    // A replica change rolls out; a flag in a ConfigMap is read by the running pods.
    return {
      applier: 'kubernetes',
      detail: done.join('; '),
      ...(request.replicas !== undefined ? { rollout: true } : {}),
    };
  }
}

/** Runs one API call; a failure becomes the shared classified Kubernetes error. */
async function kubeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw classifyKubeError(err, what);
  }
}
