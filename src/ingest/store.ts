// Writes mapped problems as ProblemEvents, idempotently: senders retry (Alertmanager until it gets a
// 2xx) and re-send firing alerts, so every write must be safe to repeat.
//
// - create; 409 AlreadyExists means a repeat: the lastSeen annotation is refreshed, nothing else;
// - a resolved problem is a merge patch of spec.state (created as RESOLVED if it was never seen);
// - an OPEN delivery never reopens a RESOLVED problem (late retries of old notifications);
// - a small cache of names known to be stored answers repeats without a round trip, so a burst of
//   re-notifications costs the API server one write per problem per refresh interval.
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { ANNOTATIONS, API_VERSION, GROUP, KINDS, LABELS, MANAGED_BY, PLURALS, VERSION } from '../api/constants.ts';
import { SharedConnection } from '../kube/connection.ts';
import { classifyKubeError, isNotFound } from '../kube/errors.ts';
import type { MappedProblem, ProblemSpec, ProblemState } from './types.ts';

/** When ingestion last saw the problem reported (RFC 3339), refreshed at most once per refresh interval. */
export const LAST_SEEN_ANNOTATION = `${GROUP}/last-seen`;

export type StoreOutcome = 'created' | 'unchanged' | 'refreshed' | 'resolved';

export interface StoredProblem {
  name: string;
  outcome: StoreOutcome;
}

/** Where the HTTP server and `rebound send --kube` put problems. */
export interface ProblemSink {
  /** Resolves once every problem is stored; rejects with a ReboundError (retryable or not). */
  store(problems: readonly MappedProblem[]): Promise<StoredProblem[]>;
}

export interface KubeProblemStoreOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Writes in flight against the API server at once (the rest wait their turn). Default 16. */
  maxConcurrentWrites?: number;
  /** How long a stored name is trusted before a repeat touches the API server again. Default 60 s. */
  refreshAfterMs?: number;
  /** Names remembered (least recently stored forgotten first). Default 10,000. */
  cacheSize?: number;
  now?: () => number;
  /**
   * The shard of a Project in `namespace` (its `rebound.dev/shard` label), copied onto the
   * ProblemEvents created for it so the shard's controller sees them. Undefined: unsharded.
   */
  shardOf?: (project: string) => Promise<string | undefined>;
}

interface Known {
  state: ProblemState;
  confirmedAt: number;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export class KubeProblemStore implements ProblemSink {
  private readonly api: CustomObjectsApi;
  private readonly namespace: string;
  private readonly refreshAfterMs: number;
  private readonly cacheSize: number;
  private readonly now: () => number;
  private readonly known = new Map<string, Known>();
  /** One write per name at a time: concurrent deliveries of one alert share the same write. */
  private readonly inFlight = new Map<string, Promise<StoredProblem>>();
  private readonly limiter: Limiter;
  private readonly connection: SharedConnection;
  private readonly shardOf: ((project: string) => Promise<string | undefined>) | undefined;

  constructor(options: KubeProblemStoreOptions) {
    this.shardOf = options.shardOf;
    this.connection = new SharedConnection(options.kubeConfig);
    this.api = options.kubeConfig.makeApiClient(CustomObjectsApi);
    this.namespace = options.namespace;
    this.refreshAfterMs = options.refreshAfterMs ?? 60_000;
    this.cacheSize = options.cacheSize ?? 10_000;
    this.now = options.now ?? Date.now;
    this.limiter = new Limiter(options.maxConcurrentWrites ?? 16);
  }

  async store(problems: readonly MappedProblem[]): Promise<StoredProblem[]> {
    // allSettled: every write finishes (or fails) before the caller answers, so a retry finds a
    // quiet state; the first failure is what the caller reports.
    const results = await Promise.allSettled(problems.map((p) => this.storeOne(p)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return results.map((r) => (r as PromiseFulfilledResult<StoredProblem>).value);
  }

  private storeOne(problem: MappedProblem): Promise<StoredProblem> {
    const known = this.known.get(problem.name);
    if (known && this.isCurrent(known, problem.spec.state))
      return Promise.resolve({ name: problem.name, outcome: 'unchanged' });
    const running = this.inFlight.get(problem.name);
    // A write already running for this name carries the same or an earlier state; a RESOLVED that
    // arrives during an OPEN write must still be applied, so it waits and then goes on.
    if (running && problem.spec.state === 'OPEN')
      return running.then((r) => ({ name: r.name, outcome: 'unchanged' as const }));
    const write = (running ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.limiter.run(() => this.write(problem)))
      .finally(() => {
        if (this.inFlight.get(problem.name) === write) this.inFlight.delete(problem.name);
      });
    this.inFlight.set(problem.name, write);
    return write;
  }

  private isCurrent(known: Known, incoming: ProblemState): boolean {
    if (known.state === 'RESOLVED') return true;
    return incoming === 'OPEN' && this.now() - known.confirmedAt < this.refreshAfterMs;
  }

  private async write(problem: MappedProblem): Promise<StoredProblem> {
    const { name, spec } = problem;
    if (spec.state === 'RESOLVED') {
      const outcome = (await this.patch(name, { spec: { state: 'RESOLVED' } }))
        ? 'resolved'
        : await this.createOrResolve(problem);
      this.remember(name, 'RESOLVED');
      return { name, outcome };
    }
    const known = this.known.get(name);
    // Known but stale: refresh lastSeen (which also proves the object still exists).
    if (known && (await this.patch(name, {}))) {
      this.remember(name, known.state);
      return { name, outcome: 'refreshed' };
    }
    if (await this.create(problem)) {
      this.remember(name, 'OPEN');
      return { name, outcome: 'created' };
    }
    await this.patch(name, {});
    this.remember(name, 'OPEN');
    return { name, outcome: 'refreshed' };
  }

  private async createOrResolve(problem: MappedProblem): Promise<StoreOutcome> {
    // Never seen open (Rebound was down while it fired): record it, already resolved.
    if (await this.create(problem)) return 'created';
    // Created by a concurrent delivery between our patch and our create.
    await this.patch(problem.name, { spec: { state: 'RESOLVED' } });
    return 'resolved';
  }

  /** True when created, false when it already existed (409). */
  private async create(problem: MappedProblem): Promise<boolean> {
    try {
      await this.api.createNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: this.namespace,
          plural: PLURALS.ProblemEvent,
          body: this.manifest(problem, await this.shardOf?.(problem.spec.project)),
        },
        await this.connection.options(),
      );
      return true;
    } catch (err) {
      const classified = classifyKubeError(err, `create ProblemEvent ${this.namespace}/${problem.name}`);
      if (classified.status === 409) return false;
      throw classified;
    }
  }

  /** Merge patch with a fresh lastSeen; true when patched, false when the object does not exist. */
  private async patch(name: string, body: { spec?: Partial<ProblemSpec> }): Promise<boolean> {
    try {
      await this.api.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: this.namespace,
          plural: PLURALS.ProblemEvent,
          name,
          body: { ...body, metadata: { annotations: { [LAST_SEEN_ANNOTATION]: this.timestamp() } } },
        },
        await this.connection.mergePatch(),
      );
      return true;
    } catch (err) {
      const classified = classifyKubeError(err, `patch ProblemEvent ${this.namespace}/${name}`);
      if (isNotFound(classified)) {
        this.known.delete(name);
        return false;
      }
      throw classified;
    }
  }

  private manifest(problem: MappedProblem, shard: string | undefined): Record<string, unknown> {
    const { spec } = problem;
    const labels: Record<string, string> = {
      [LABELS.project]: spec.project,
      [LABELS.stage]: spec.stage,
      [LABELS.service]: spec.service,
      [LABELS.managedBy]: MANAGED_BY,
      ...(shard !== undefined ? { [LABELS.shard]: shard } : {}),
    };
    if (spec.source !== undefined && spec.source.length <= 63 && LABEL_VALUE.test(spec.source))
      labels[LABELS.source] = spec.source;
    const annotations: Record<string, string> = { [LAST_SEEN_ANNOTATION]: this.timestamp() };
    if (spec.problemID !== undefined) annotations[ANNOTATIONS.problemID] = spec.problemID;
    const fingerprint = spec.details?.['fingerprint'];
    if (spec.source === 'alertmanager' && typeof fingerprint === 'string')
      annotations[ANNOTATIONS.fingerprint] = fingerprint;
    return {
      apiVersion: API_VERSION,
      kind: KINDS.ProblemEvent,
      metadata: { name: problem.name, namespace: this.namespace, labels, annotations },
      spec,
    };
  }

  private remember(name: string, state: ProblemState): void {
    this.known.delete(name);
    this.known.set(name, { state, confirmedAt: this.now() });
    if (this.known.size > this.cacheSize) {
      const oldest = this.known.keys().next();
      if (!oldest.done) this.known.delete(oldest.value);
    }
  }

  private timestamp(): string {
    return new Date(this.now()).toISOString();
  }
}

/** A counting semaphore: bounds concurrent API writes so a burst queues here, not in the API server. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly max: number;

  constructor(max: number) {
    this.max = Math.max(1, max);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot straight to the next waiter, so no newcomer can slip in between.
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
