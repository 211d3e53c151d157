// Where the client's credentials come from: an explicit kubeconfig path, in-cluster (the Pod's
// ServiceAccount), or the default kubeconfig ($KUBECONFIG / ~/.kube/config). The caller (config
// module or CLI) decides; nothing here reads process.env on import.
import { KubeConfig } from '@kubernetes/client-node';
import { ReboundError } from '../errors.ts';

export type KubeConfigSource = { kind: 'file'; path: string } | { kind: 'in-cluster' } | { kind: 'default' };

export function loadKubeConfig(source: KubeConfigSource): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (source.kind === 'file') kc.loadFromFile(source.path);
    else if (source.kind === 'in-cluster') kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (err) {
    throw new ReboundError(
      `cannot load kubeconfig (${describe(source)}): ${err instanceof Error ? err.message : String(err)}`,
      {
        code: 'KubeConfigInvalid',
        retryable: false,
        cause: err,
      },
    );
  }
  if (!kc.getCurrentCluster()) {
    throw new ReboundError(`kubeconfig (${describe(source)}) has no current cluster`, {
      code: 'KubeConfigInvalid',
      retryable: false,
    });
  }
  return kc;
}

function describe(source: KubeConfigSource): string {
  return source.kind === 'file' ? source.path : source.kind;
}
