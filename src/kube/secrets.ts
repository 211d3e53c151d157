// Reading Secrets: Git credentials for a Project, tokens and headers for a webhook action. The reader
// is an interface so the parts that need a Secret (controllers/project-stores.ts, actions/) never
// see the Kubernetes client, and their tests pass a map.
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { classifyKubeError, isNotFound } from './errors.ts';

export interface SecretReader {
  /** The Secret's data decoded to strings, or undefined when it does not exist. */
  readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

/** `data` is base64 on the wire; `stringData` (only ever seen before the API server merges it) wins. */
export function decodeSecret(secret: Pick<V1Secret, 'data' | 'stringData'>): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = v;
  return data;
}

/** Reads Secrets with the kubeconfig's identity; errors leave classified, a missing Secret is undefined. */
export function kubeSecretReader(kc: KubeConfig): SecretReader {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async readSecret(namespace, name) {
      try {
        return decodeSecret(await core.readNamespacedSecret({ namespace, name }));
      } catch (err) {
        const classified = classifyKubeError(err, `get secret ${namespace}/${name}`);
        if (isNotFound(classified)) return undefined;
        throw classified;
      }
    },
  };
}
