import type { KubeConfig } from '@kubernetes/client-node';
import { HelmApplier } from './helm.ts';
import type { HelmApplierOptions } from './helm.ts';
import { KubernetesApplier } from './kubernetes.ts';
import { NoneApplier } from './none.ts';
import type { Applier, ApplierName } from './types.ts';

export type { Applier, ApplierName, ApplyRequest, ApplyResult } from './types.ts';
export { APPLIERS } from './types.ts';

export interface ApplierDependencies {
  kubeConfig: KubeConfig;
  helm: HelmApplierOptions;
}

/** One applier of each kind, built once at start-up; stages pick theirs by name. */
export function createAppliers(deps: ApplierDependencies): Record<ApplierName, Applier> {
  return {
    helm: new HelmApplier(deps.helm),
    kubernetes: new KubernetesApplier(deps.kubeConfig),
    none: new NoneApplier(),
  };
}
