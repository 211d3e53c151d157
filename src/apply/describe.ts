// How each applier makes a commit live, in one sentence: for `rebound plan` and the docs' wording.
import type { ApplierName } from './types.ts';

export function describeApply(applier: ApplierName, branch: string): string {
  switch (applier) {
    case 'helm':
      return `helm upgrade of the service's release with the chart and values at the commit; the evaluation's wait starts when it finishes`;
    case 'kubernetes':
      return `the Deployment's scale and the flag ConfigMap are patched to the commit's values; the evaluation's wait starts then`;
    case 'flux':
      return `Flux is asked to reconcile the Kustomizations tracking ${branch} (reconcile.fluxcd.io/requestedAt); the evaluation's wait starts when Flux reports the commit as applied`;
    case 'argocd':
      return `Argo CD is asked to refresh the Applications tracking ${branch} (argocd.argoproj.io/refresh); the evaluation's wait starts when they report the commit as synced and are Healthy`;
    case 'none':
      return `nothing: an engine syncs ${branch} on its own, unwatched; the evaluation's wait starts at the push`;
  }
}
