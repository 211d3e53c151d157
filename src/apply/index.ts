import type { KubeConfig } from '@kubernetes/client-node';
import { ArgoCdClient } from './argocd.ts';
import { FluxClient } from './flux.ts';
import { HelmApplier } from './helm.ts';
import type { HelmApplierOptions } from './helm.ts';
import { KubernetesApplier } from './kubernetes.ts';
import { NoneApplier } from './none.ts';
import { KubeRolloutCheck } from './rollout.ts';
import type { Applier, ApplierName, RolloutCheck, SyncCheck } from './types.ts';

export type {
  Applier,
  ApplierName,
  ApplyRequest,
  ApplyResult,
  ContainsCheck,
  RolloutCheck,
  RolloutObservation,
  RolloutTarget,
  SyncCheck,
  SyncState,
  SyncTarget,
} from './types.ts';
export { APPLIERS } from './types.ts';
export { deploymentOwner } from './gitops-owner.ts';

export interface ApplierDependencies {
  kubeConfig: KubeConfig;
  helm: HelmApplierOptions;
}

/** One applier of each kind, built once at start-up; stages pick theirs by name. */
export function createAppliers(deps: ApplierDependencies): Record<ApplierName, Applier> {
  return {
    helm: new HelmApplier(deps.helm),
    kubernetes: new KubernetesApplier(deps.kubeConfig),
    flux: new FluxClient(deps.kubeConfig),
    argocd: new ArgoCdClient(deps.kubeConfig),
    none: new NoneApplier(),
  };
}

/** What the GitOps engines report about a commit they were asked to sync (apply: flux, argocd): by the engine asked. */
export function createSyncCheck(kubeConfig: KubeConfig): SyncCheck {
  const flux = new FluxClient(kubeConfig);
  const argocd = new ArgoCdClient(kubeConfig);
  return {
    check: (target, contains) =>
      target.engine === 'argocd' ? argocd.check(target, contains) : flux.check(target, contains),
  };
}

/** Reads the rollout of a service's Deployments and StatefulSets ("applied" means live). */
export function createRolloutCheck(kubeConfig: KubeConfig): RolloutCheck {
  return new KubeRolloutCheck(kubeConfig);
}
