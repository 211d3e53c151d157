// `apply: argocd`: the stage branch is synced by Argo CD, and Rebound's commit is the change. Applying
// asks Argo CD to refresh now, the way `argocd app get --refresh` does (the
// `argocd.argoproj.io/refresh: normal` annotation on each Application); an Application without
// automated sync also gets the `operation` that `argocd app sync` sets. The loop then checks
// (SyncCheck) until every Application reports the commit, or a later one that contains it, as synced
// and is Healthy. Argo CD's own poll would pick the commit up too: the request only saves that interval.
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { REASONS } from '../api/index.ts';
import { ReboundError } from '../errors.ts';
import { SharedConnection } from '../kube/connection.ts';
import { classifyKubeError, isNotFound } from '../kube/errors.ts';
import {
  REFRESH_ANNOTATION,
  applicationState,
  keyOfApplication,
  syncedRevisions,
  trackingApplications,
} from './argocd-status.ts';
import type { Application, ApplicationFacts } from './argocd-status.ts';
import { windowDenies } from './argocd-windows.ts';
import type { AppProject } from './argocd-windows.ts';
import { combineStates } from './flux-status.ts';
import type { Applier, ApplyRequest, ApplyResult, ContainsCheck, SyncCheck, SyncState, SyncTarget } from './types.ts';

const APPLICATIONS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications' } as const;
const APPPROJECTS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'appprojects' } as const;

export interface ArgoCdOptions {
  fieldManager?: string;
  clock?: () => Date;
}

/** Reads and annotates Argo CD's Applications; one instance serves the applier and the sync check. */
export class ArgoCdClient implements Applier, SyncCheck {
  readonly name = 'argocd';
  private readonly api: CustomObjectsApi;
  private readonly connection: SharedConnection;
  private readonly options: ArgoCdOptions;

  constructor(kubeConfig: KubeConfig, options: ArgoCdOptions = {}) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    this.connection = new SharedConnection(kubeConfig);
    this.options = options;
  }

  async apply(request: ApplyRequest): Promise<ApplyResult> {
    const targets = await this.targets(request);
    const requestedTime = (this.options.clock?.() ?? new Date()).toISOString();
    for (const app of targets) await this.requestSync(app);
    const objects = targets.map(keyOfApplication);
    return {
      applier: 'argocd',
      detail: `asked Argo CD to refresh Application ${objects.join(', ')} for ${request.branch} at ${request.commit.slice(0, 12)}`,
      sync: { engine: 'argocd', objects, requestedTime },
    };
  }

  async check(target: SyncTarget, contains: ContainsCheck): Promise<SyncState> {
    const holds = async (revision: string | undefined): Promise<boolean> =>
      revision !== undefined &&
      /^[0-9a-f]{40}$/.test(revision) &&
      (revision === target.commit || (await contains(target.commit, revision)));
    const states: SyncState[] = [];
    for (const key of target.objects) {
      const app = await this.get(key);
      if (!app) {
        states.push({ kind: 'untracked', detail: `Application ${key} does not exist any more` });
        continue;
      }
      let synced = false;
      for (const revision of syncedRevisions(app)) if (await holds(revision)) synced = true;
      const operation = app.status?.operationState;
      const result = operation?.syncResult;
      const asked = operation?.operation?.sync;
      let operated = false;
      for (const revision of [
        result?.revision,
        ...(result?.revisions ?? []),
        asked?.revision,
        ...(asked?.revisions ?? []),
      ])
        if (await holds(revision)) operated = true;
      const state = applicationState(app, { synced, operated });
      const done = synced && app.status?.sync?.status === 'Synced';
      states.push(state.kind === 'pending' && !done ? await this.unsynced(app, state, { synced, operated }) : state);
    }
    return combineStates(states);
  }

  /**
   * Not synced yet. Argo CD says nothing when a sync window denies an automated sync (it leaves the
   * Application OutOfSync), so the AppProject's windows are read here. When Argo CD compared the
   * commit and left it unsynced with nothing running (a window that has ended since), it would wait
   * for its next poll: the refresh is asked for again.
   */
  private async unsynced(app: Application, state: SyncState, facts: ApplicationFacts): Promise<SyncState> {
    const project = await this.project(app);
    const windowed = { name: app.metadata?.name ?? '', destination: app.spec?.destination ?? {} };
    const denied = project ? windowDenies(project, windowed, this.options.clock?.() ?? new Date()) : undefined;
    if (denied) {
      return {
        kind: 'pending',
        detail: `Application ${keyOfApplication(app)}: Argo CD will not sync it now: ${denied.message}`,
      };
    }
    const inFlight = app.operation !== undefined || app.status?.operationState?.phase === 'Running';
    // Not when Argo CD already ran a sync of it: asking again would not change its mind.
    const left =
      facts.synced &&
      !facts.operated &&
      app.spec?.syncPolicy?.automated !== undefined &&
      app.status?.sync?.status === 'OutOfSync' &&
      !inFlight &&
      !app.metadata?.annotations?.[REFRESH_ANNOTATION];
    if (left) await this.requestSync(app);
    return state;
  }

  private async project(app: Application): Promise<AppProject | undefined> {
    const namespace = app.metadata?.namespace ?? '';
    const name = app.spec?.project || 'default';
    try {
      return (await this.api.getNamespacedCustomObject(
        { ...APPPROJECTS, namespace, name },
        await this.connection.options(),
      )) as AppProject;
    } catch (err) {
      const e = classifyKubeError(err, `get appprojects ${namespace}/${name}`);
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** The Applications the stage names, or those tracking its branch and the edited file. */
  private async targets(request: ApplyRequest): Promise<Application[]> {
    const named = request.gitops?.objects ?? [];
    if (named.length > 0) {
      const found: Application[] = [];
      for (const key of named) {
        const app = await this.get(key);
        if (!app) throw notFound(`the stage names Application ${key}, which does not exist`);
        found.push(app);
      }
      return found;
    }
    const file = request.path ?? `${request.service}/values.yaml`;
    const found = trackingApplications(await this.list(), {
      repoUrl: request.repoUrl ?? '',
      branch: request.branch,
      file,
    });
    if (found.length === 0) {
      throw notFound(
        `no Argo CD Application tracks branch ${request.branch} of ${request.repoUrl ?? 'the repository'} with a path holding ${file}`,
      );
    }
    return found;
  }

  private async get(key: string): Promise<Application | undefined> {
    const [namespace = '', name = ''] = key.split('/');
    try {
      return (await this.api.getNamespacedCustomObject(
        { ...APPLICATIONS, namespace, name },
        await this.connection.options(),
      )) as Application;
    } catch (err) {
      const e = classifyKubeError(err, `get applications ${key}`);
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private async list(): Promise<Application[]> {
    try {
      const list = (await this.api.listClusterCustomObject({ ...APPLICATIONS }, await this.connection.options())) as {
        items?: Application[];
      };
      return list.items ?? [];
    } catch (err) {
      const e = classifyKubeError(err, 'list applications');
      // Argo CD's CRDs not installed: nothing tracks the branch.
      if (isNotFound(e)) return [];
      throw e;
    }
  }

  /** The refresh annotation; with no automated sync, also the operation `argocd app sync` sets. */
  private async requestSync(app: Application): Promise<void> {
    const key = keyOfApplication(app);
    const [namespace = '', name = ''] = key.split('/');
    const body: Record<string, unknown> = { metadata: { annotations: { [REFRESH_ANNOTATION]: 'normal' } } };
    if (!app.spec?.syncPolicy?.automated) {
      body['operation'] = { sync: { syncStrategy: { hook: {} } }, initiatedBy: { username: 'rebound' } };
    }
    try {
      await this.api.patchNamespacedCustomObject(
        { ...APPLICATIONS, namespace, name, body, fieldManager: this.options.fieldManager ?? 'rebound' },
        await this.connection.mergePatch(),
      );
    } catch (err) {
      throw classifyKubeError(err, `request a refresh of applications ${key}`);
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
