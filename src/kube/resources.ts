// Typed clients for the rebound.dev resources over CustomObjectsApi: get/list/create/patch, status
// written only as a JSON merge-patch on the /status subresource (never a whole-object replace, so
// a spec edited meanwhile is not overwritten), and a list/watch source for the supervised informer.
// Every error leaves here classified (errors.ts).
import { CustomObjectsApi, Watch, type KubeConfig, type V1ObjectMeta } from '@kubernetes/client-node';
import { API_VERSION, GROUP, KINDS, PLURALS, VERSION } from '../api/index.ts';
import type { Approval, Kind, Notification, ProblemEvent, Project, Remediation } from '../api/index.ts';
import { ReboundError } from '../errors.ts';
import type { ListWatchSource, WatchEnd, WatchEvent, WatchEventType } from '../runtime/informer.ts';
import { SharedConnection } from './connection.ts';
import { classifyKubeError, isAlreadyExists, isNotFound } from './errors.ts';

/** The shape shared by the three resources. */
export interface CustomResource {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
  spec: unknown;
  status?: unknown;
}

export interface ResourceDescriptor<K extends Kind> {
  group: string;
  version: string;
  kind: K;
  plural: string;
  apiVersion: string;
}

function descriptor<K extends Kind>(kind: K): ResourceDescriptor<K> {
  return { group: GROUP, version: VERSION, kind, plural: PLURALS[kind], apiVersion: API_VERSION };
}

export const RESOURCES = {
  Project: descriptor(KINDS.Project),
  Remediation: descriptor(KINDS.Remediation),
  ProblemEvent: descriptor(KINDS.ProblemEvent),
  Approval: descriptor(KINDS.Approval),
  Notification: descriptor(KINDS.Notification),
} as const;

type StatusOf<T extends CustomResource> = NonNullable<T['status']>;

/** What a create returned: the new object, or (409 AlreadyExists) the one that was there. */
export type CreateResult<T> = { created: true; object: T } | { created: false; object: T | undefined };

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface WatchOptions {
  /** Server-side watch timeout; the informer re-watches from the last version. Default 5-10 min. */
  timeoutSeconds?: () => number;
  /** Only objects whose labels match (a shard's, `rebound.dev/shard=eu`), on the list and the watch. */
  labelSelector?: string;
  /**
   * Keep `metadata.managedFields` and `kubectl apply`'s last-applied copy in cached objects. Off by
   * default: controllers never read them and they are often the largest part of an object.
   */
  keepManagedFields?: boolean;
}

const PAGE_SIZE = 500;

export class CustomResourceClient<T extends CustomResource> {
  readonly descriptor: ResourceDescriptor<Kind>;
  readonly #api: CustomObjectsApi;
  readonly #kc: KubeConfig;
  readonly #fieldManager: string;
  /** Every call goes through one connection pool (shared by the clients of one kubeconfig). */
  readonly #connection: SharedConnection;

  constructor(
    kc: KubeConfig,
    resource: ResourceDescriptor<Kind>,
    fieldManager = 'rebound',
    connection = new SharedConnection(kc),
  ) {
    this.descriptor = resource;
    this.#kc = kc;
    this.#api = kc.makeApiClient(CustomObjectsApi);
    this.#fieldManager = fieldManager;
    this.#connection = connection;
  }

  /** The object, or undefined when it does not exist. */
  async get(namespace: string, name: string): Promise<T | undefined> {
    try {
      return this.#parse(
        await this.#api.getNamespacedCustomObject(
          { ...this.#base(), namespace, name },
          await this.#connection.options(),
        ),
      );
    } catch (err) {
      const e = classifyKubeError(err, this.#action('get', namespace, name));
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /**
   * Every object in `namespace`, or in all namespaces when it is undefined, that matches `labelSelector`
   * when given; pages through big lists.
   */
  async list(namespace?: string, signal?: AbortSignal, labelSelector?: string): Promise<ListResult<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      if (signal?.aborted)
        throw classifyKubeError(
          signal.reason ?? new DOMException('aborted', 'AbortError'),
          this.#action('list', namespace),
        );
      let page: unknown;
      try {
        const paging = {
          limit: PAGE_SIZE,
          ...(continueToken ? { _continue: continueToken } : {}),
          ...(labelSelector ? { labelSelector } : {}),
        };
        page =
          namespace === undefined
            ? await this.#api.listClusterCustomObject({ ...this.#base(), ...paging }, await this.#connection.options())
            : await this.#api.listNamespacedCustomObject(
                { ...this.#base(), namespace, ...paging },
                await this.#connection.options(),
              );
      } catch (err) {
        throw classifyKubeError(err, this.#action('list', namespace));
      }
      const { items: pageItems, metadata } = this.#parseList(page);
      for (const item of pageItems) items.push(this.#parse(item));
      resourceVersion = metadata.resourceVersion ?? resourceVersion;
      continueToken = metadata.continue || undefined;
    } while (continueToken);
    return { items, resourceVersion };
  }

  /** Creates `object`; an object of that name already there is returned, not an error. */
  async create(object: T): Promise<CreateResult<T>> {
    const namespace = object.metadata.namespace ?? '';
    const name = object.metadata.name ?? '';
    const body = { ...object, apiVersion: this.descriptor.apiVersion, kind: this.descriptor.kind };
    try {
      const created: unknown = await this.#api.createNamespacedCustomObject(
        { ...this.#base(), namespace, body, fieldManager: this.#fieldManager },
        await this.#connection.options(),
      );
      return { created: true, object: this.#parse(created) };
    } catch (err) {
      const e = classifyKubeError(err, this.#action('create', namespace, name));
      if (!isAlreadyExists(e)) throw e;
      return { created: false, object: await this.get(namespace, name) };
    }
  }

  /**
   * Merge-patches `status` on the status subresource. With `resourceVersion`, the write succeeds
   * only if the object is unchanged since it was read (409 Conflict otherwise, retryable).
   * Fields set to null are removed (merge-patch semantics); arrays are replaced whole.
   */
  async patchStatus(
    namespace: string,
    name: string,
    status: Partial<StatusOf<T>>,
    resourceVersion?: string,
  ): Promise<T> {
    const body = { ...(resourceVersion ? { metadata: { resourceVersion } } : {}), status };
    try {
      return this.#parse(
        await this.#api.patchNamespacedCustomObjectStatus(
          { ...this.#base(), namespace, name, body, fieldManager: this.#fieldManager },
          await this.#connection.mergePatch(),
        ),
      );
    } catch (err) {
      throw classifyKubeError(err, this.#action('patch status of', namespace, name));
    }
  }

  /** Merge-patches the object itself (labels, annotations, finalizers); not its status. */
  async patch(
    namespace: string,
    name: string,
    patch: { metadata?: Partial<V1ObjectMeta>; spec?: unknown },
  ): Promise<T> {
    try {
      return this.#parse(
        await this.#api.patchNamespacedCustomObject(
          { ...this.#base(), namespace, name, body: patch, fieldManager: this.#fieldManager },
          await this.#connection.mergePatch(),
        ),
      );
    } catch (err) {
      throw classifyKubeError(err, this.#action('patch', namespace, name));
    }
  }

  /** Deletes the object; true if it was there. */
  async delete(namespace: string, name: string): Promise<boolean> {
    try {
      await this.#api.deleteNamespacedCustomObject(
        { ...this.#base(), namespace, name },
        await this.#connection.options(),
      );
      return true;
    } catch (err) {
      const e = classifyKubeError(err, this.#action('delete', namespace, name));
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /** A list/watch source for SupervisedInformer over `namespace` (all namespaces if undefined). */
  listWatch(namespace?: string, options: WatchOptions = {}): ListWatchSource<T> {
    const { group, version, plural } = this.descriptor;
    const path =
      namespace === undefined
        ? `/apis/${group}/${version}/${plural}`
        : `/apis/${group}/${version}/namespaces/${namespace}/${plural}`;
    const timeoutSeconds = options.timeoutSeconds ?? (() => 300 + Math.floor(Math.random() * 300));
    const watcher = new Watch(this.#kc);
    const slim = options.keepManagedFields ? (obj: T): T => obj : slimForCache;
    return {
      list: async (signal) => {
        const result = await this.list(namespace, signal, options.labelSelector);
        return { items: result.items.map(slim), resourceVersion: result.resourceVersion };
      },
      watch: (resourceVersion, onEvent, signal) =>
        watchOnce(
          watcher,
          path,
          {
            resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: timeoutSeconds(),
            ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
          },
          signal,
          (type, obj) => onEvent({ type, object: type === 'BOOKMARK' ? (obj as T) : slim(this.#parse(obj)) }),
        ),
    };
  }

  #base(): { group: string; version: string; plural: string } {
    const { group, version, plural } = this.descriptor;
    return { group, version, plural };
  }

  #action(verb: string, namespace?: string, name?: string): string {
    const where = namespace === undefined ? '' : name === undefined ? ` in ${namespace}` : ` ${namespace}/${name}`;
    return `${verb} ${this.descriptor.plural}${where}`;
  }

  /** The API server validated the object against the CRD schema; we check it is the kind we asked for. */
  #parse(value: unknown): T {
    const obj = value as Partial<CustomResource> | null;
    if (
      typeof obj !== 'object' ||
      obj === null ||
      obj.kind !== this.descriptor.kind ||
      typeof obj.metadata !== 'object' ||
      typeof obj.metadata.name !== 'string'
    ) {
      throw new ReboundError(`unexpected object from the API server, wanted a ${this.descriptor.kind}`, {
        code: 'KubeUnexpectedObject',
        retryable: true,
      });
    }
    return obj as T;
  }

  #parseList(value: unknown): { items: unknown[]; metadata: { resourceVersion?: string; continue?: string } } {
    const list = value as { items?: unknown; metadata?: { resourceVersion?: unknown; continue?: unknown } } | null;
    if (typeof list !== 'object' || list === null || !Array.isArray(list.items)) {
      throw new ReboundError(`unexpected list from the API server for ${this.descriptor.plural}`, {
        code: 'KubeUnexpectedObject',
        retryable: true,
      });
    }
    const rv = list.metadata?.resourceVersion;
    const cont = list.metadata?.continue;
    return {
      items: list.items as unknown[],
      metadata: {
        ...(typeof rv === 'string' ? { resourceVersion: rv } : {}),
        ...(typeof cont === 'string' ? { continue: cont } : {}),
      },
    };
  }
}

/** Written by `kubectl apply` on every object it applies: a second copy of the whole object as JSON. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * What a cache keeps of an object: no `managedFields` and no `kubectl apply` copy of the object
 * (client-go's informers strip the first too). Nothing in the controllers reads either, and together
 * they are often larger than the rest of the object.
 */
export function slimForCache<T extends CustomResource>(obj: T): T {
  const annotations = obj.metadata.annotations;
  const lastApplied = annotations !== undefined && LAST_APPLIED in annotations;
  if (obj.metadata.managedFields === undefined && !lastApplied) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  if (lastApplied) {
    const { [LAST_APPLIED]: _copy, ...rest } = annotations;
    metadata.annotations = rest;
  }
  return { ...obj, metadata };
}

const EVENT_TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']);

/**
 * One watch request, as a promise: resolves `closed` when the server ends the stream (timeout) or
 * the client's inactivity timer fires, `expired` after a 410 ERROR event, rejects on any other
 * failure (classified). Events reach `onEvent` synchronously, in order.
 */
function watchOnce(
  watcher: Watch,
  path: string,
  query: Record<string, string | number | boolean>,
  signal: AbortSignal,
  onEvent: (type: WatchEventType, obj: unknown) => void,
): Promise<WatchEnd> {
  return new Promise<WatchEnd>((resolve, reject) => {
    let expired = false;
    let failure: unknown;
    let request: AbortController | undefined;
    const onAbort = (): void => request?.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const finish = (err: unknown): void => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) resolve('closed');
      else if (expired) resolve('expired');
      else if (failure !== undefined) reject(classifyKubeError(failure, `watch ${path}`));
      else if (err === null || err === undefined || (err instanceof Error && err.name === 'TimeoutError'))
        resolve('closed');
      else reject(classifyKubeError(err, `watch ${path}`));
    };
    const onLine = (type: string, obj: unknown): void => {
      if (type === 'ERROR') {
        const status = obj as { code?: unknown } | null;
        if (status?.code === 410) expired = true;
        else failure = Object.assign(new Error('watch ERROR event'), { statusCode: status?.code, body: obj });
        return;
      }
      if (!EVENT_TYPES.has(type)) return;
      try {
        onEvent(type as WatchEventType, obj);
      } catch (err) {
        // A malformed object ends this watch; the informer relists.
        failure = err;
        request?.abort();
      }
    };
    watcher.watch(path, query, onLine, finish).then(
      (controller) => {
        request = controller;
        if (signal.aborted) controller.abort();
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(classifyKubeError(err, `watch ${path}`));
      },
    );
  });
}

export interface ReboundClients {
  projects: CustomResourceClient<Project>;
  remediations: CustomResourceClient<Remediation>;
  problemEvents: CustomResourceClient<ProblemEvent>;
  approvals: CustomResourceClient<Approval>;
  notifications: CustomResourceClient<Notification>;
}

export function reboundClients(kc: KubeConfig, fieldManager = 'rebound'): ReboundClients {
  const connection = new SharedConnection(kc);
  return {
    projects: new CustomResourceClient<Project>(kc, RESOURCES.Project, fieldManager, connection),
    remediations: new CustomResourceClient<Remediation>(kc, RESOURCES.Remediation, fieldManager, connection),
    problemEvents: new CustomResourceClient<ProblemEvent>(kc, RESOURCES.ProblemEvent, fieldManager, connection),
    approvals: new CustomResourceClient<Approval>(kc, RESOURCES.Approval, fieldManager, connection),
    notifications: new CustomResourceClient<Notification>(kc, RESOURCES.Notification, fieldManager, connection),
  };
}

// Re-exported so callers can type watch events without importing runtime.
export type { WatchEvent };
