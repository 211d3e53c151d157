// `apply: flux`: the stage branch is synced by Flux, and Rebound's commit is the change. Applying asks
// Flux to reconcile now, the way `flux reconcile kustomization --with-source` does (the
// `reconcile.fluxcd.io/requestedAt` annotation on the GitRepository and the Kustomization); the loop
// then checks (SyncCheck) until every Kustomization reports the commit, or a later one that
// contains it, as applied and is Ready. Flux's own poll would pick the commit up too: the request
// only saves that interval.
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { REASONS } from '../api/index.ts';
import { ReboundError } from '../errors.ts';
import { SharedConnection } from '../kube/connection.ts';
import { classifyKubeError, isNotFound } from '../kube/errors.ts';
import {
  RECONCILE_REQUEST_ANNOTATION,
  combineStates,
  keyOfObject,
  kustomizationState,
  revisionCommit,
  sourceKey,
  trackingKustomizations,
} from './flux-status.ts';
import type { GitRepository, Kustomization } from './flux-status.ts';
import type { Applier, ApplyRequest, ApplyResult, ContainsCheck, SyncCheck, SyncState, SyncTarget } from './types.ts';

const KUSTOMIZATIONS = { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', plural: 'kustomizations' } as const;
const GIT_REPOSITORIES = { group: 'source.toolkit.fluxcd.io', version: 'v1', plural: 'gitrepositories' } as const;
type Resource = typeof KUSTOMIZATIONS | typeof GIT_REPOSITORIES;

export interface FluxOptions {
  fieldManager?: string;
  clock?: () => Date;
}

/** Reads and annotates Flux's objects; one instance serves the applier and the sync check. */
export class FluxClient implements Applier, SyncCheck {
  readonly name = 'flux';
  private readonly api: CustomObjectsApi;
  private readonly connection: SharedConnection;
  private readonly options: FluxOptions;

  constructor(kubeConfig: KubeConfig, options: FluxOptions = {}) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    this.connection = new SharedConnection(kubeConfig);
    this.options = options;
  }

  async apply(request: ApplyRequest): Promise<ApplyResult> {
    const targets = await this.targets(request);
    const requestedTime = (this.options.clock?.() ?? new Date()).toISOString();
    const sources = new Set(targets.map(sourceKey).filter((k): k is string => k !== undefined));
    // Source first: the Kustomization's reconcile then finds the new artifact already there.
    for (const key of sources) await this.annotate(GIT_REPOSITORIES, key, requestedTime);
    const objects = targets.map(keyOfObject);
    for (const key of objects) await this.annotate(KUSTOMIZATIONS, key, requestedTime);
    return {
      applier: 'flux',
      detail: `asked Flux to reconcile Kustomization ${objects.join(', ')} for ${request.branch} at ${request.commit.slice(0, 12)}`,
      sync: { engine: 'flux', objects, requestedTime },
    };
  }

  async check(target: SyncTarget, contains: ContainsCheck): Promise<SyncState> {
    const states: SyncState[] = [];
    for (const key of target.objects) {
      const k = await this.get<Kustomization>(KUSTOMIZATIONS, key);
      if (!k) {
        states.push({ kind: 'untracked', detail: `Kustomization ${key} does not exist any more` });
        continue;
      }
      const source = sourceKey(k);
      const repository = source ? await this.get<GitRepository>(GIT_REPOSITORIES, source) : undefined;
      const holds = async (revision: string | undefined): Promise<boolean> => {
        const sha = revisionCommit(revision);
        return sha !== undefined && (sha === target.commit || (await contains(target.commit, sha)));
      };
      states.push(
        kustomizationState(k, repository, {
          applied: await holds(k.status?.lastAppliedRevision),
          attempted: await holds(k.status?.lastAttemptedRevision),
          fetched: await holds(repository?.status?.artifact?.revision),
        }),
      );
    }
    return combineStates(states);
  }

  /** The Kustomizations the stage names, or those tracking its branch and the edited file. */
  private async targets(request: ApplyRequest): Promise<Kustomization[]> {
    const named = request.gitops?.objects ?? [];
    if (named.length > 0) {
      const found: Kustomization[] = [];
      for (const key of named) {
        const k = await this.get<Kustomization>(KUSTOMIZATIONS, key);
        if (!k) throw notFound(`the stage names Kustomization ${key}, which does not exist`);
        found.push(k);
      }
      return found;
    }
    const [kustomizations, repositories] = await Promise.all([
      this.list<Kustomization>(KUSTOMIZATIONS),
      this.list<GitRepository>(GIT_REPOSITORIES),
    ]);
    const file = request.path ?? `${request.service}/values.yaml`;
    const found = trackingKustomizations(kustomizations, repositories, {
      repoUrl: request.repoUrl ?? '',
      branch: request.branch,
      file,
    });
    if (found.length === 0) {
      throw notFound(
        `no Flux Kustomization tracks branch ${request.branch} of ${request.repoUrl ?? 'the repository'} with a path holding ${file}`,
      );
    }
    return found;
  }

  private async get<T>(resource: Resource, key: string): Promise<T | undefined> {
    const [namespace = '', name = ''] = key.split('/');
    try {
      return (await this.api.getNamespacedCustomObject(
        { ...resource, namespace, name },
        await this.connection.options(),
      )) as T;
    } catch (err) {
      const e = classifyKubeError(err, `get ${resource.plural} ${key}`);
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private async list<T>(resource: Resource): Promise<T[]> {
    try {
      const list = (await this.api.listClusterCustomObject({ ...resource }, await this.connection.options())) as {
        items?: T[];
      };
      return list.items ?? [];
    } catch (err) {
      const e = classifyKubeError(err, `list ${resource.plural}`);
      // Flux's CRDs not installed: nothing tracks the branch.
      if (isNotFound(e)) return [];
      throw e;
    }
  }

  private async annotate(resource: Resource, key: string, requestedTime: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const body = { metadata: { annotations: { [RECONCILE_REQUEST_ANNOTATION]: requestedTime } } };
    try {
      await this.api.patchNamespacedCustomObject(
        { ...resource, namespace, name, body, fieldManager: this.options.fieldManager ?? 'rebound' },
        await this.connection.mergePatch(),
      );
    } catch (err) {
      throw classifyKubeError(err, `request a reconcile of ${resource.plural} ${key}`);
    }
  }
}

function notFound(message: string): ReboundError {
  return new ReboundError(message, {
    code: 'SyncTargetNotFound',
    reason: REASONS.SyncTargetNotFound,
    retryable: false,
  });
}
