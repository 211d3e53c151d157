import type { Applier, ApplyRequest, ApplyResult } from './types.ts';

/** The branch is the deployment: Argo CD or Flux picks the commit up on its own. */
export class NoneApplier implements Applier {
  readonly name = 'none';

  apply(request: ApplyRequest): Promise<ApplyResult> {
    return Promise.resolve({
      applier: 'none',
      detail: `left to the GitOps agent syncing ${request.branch} at ${request.commit.slice(0, 12)}`,
    });
  }
}
