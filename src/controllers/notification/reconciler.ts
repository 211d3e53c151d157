// The Notification reconciler: reads the Notification and its Secret, builds its sink and hands it
// to the notifier (a new queue replays every cached problem from where the status says the sink
// stopped), and writes what the queue reports: Ready (Delivering, DeliveryFailing, ...), the last
// error without credentials, and how far each problem's story got (so a restart sends nothing twice).
// The Secret is read again on every reconcile and at least every `refreshMs`: a rotated token is
// picked up without a restart, and a sink waiting out a refusal is tried again at once.
import { createHash } from 'node:crypto';
import { REASONS } from '../../api/index.ts';
import type { Notification, NotificationDelivery, NotificationStatus, ProblemEvent } from '../../api/index.ts';
import { errorMessage, failureReason } from '../../errors.ts';
import type { SecretReader } from '../../kube/secrets.ts';
import { buildSink } from '../../notify/build.ts';
import type { Notifier } from '../../notify/notifier.ts';
import { isTerminal } from '../../api/index.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { Reconciler, ReconcileContext, ReconcileResult } from '../../runtime/controller.ts';
import { conditionsOf, writeStatus } from '../status.ts';

/** The status keeps at most this many problems' progress (the CRD's maxItems). */
export const MAX_DELIVERIES = 1024;

export interface NotificationPorts {
  clock: Clock;
  cache: { get(key: string): Notification | undefined };
  problems: { list(): ProblemEvent[] };
  secrets: SecretReader;
  notifier: Notifier;
  writer: { patchStatus(notification: Notification, status: NotificationStatus): Promise<unknown> };
  allowedHosts: readonly string[];
  /** How often the Secret is read again. */
  refreshMs: number;
}

export class NotificationReconciler implements Reconciler {
  readonly #p: NotificationPorts;
  /** By key: a digest of the Secret the current sink was built with. */
  readonly #built = new Map<string, string>();

  constructor(ports: NotificationPorts) {
    this.#p = ports;
  }

  async reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult | undefined> {
    const notification = this.#p.cache.get(key);
    if (!notification) {
      this.#p.notifier.remove(key);
      this.#built.delete(key);
      return undefined;
    }
    const now = new Date(this.#p.clock.now());
    const conditions = conditionsOf(notification, now);
    const namespace = notification.metadata.namespace ?? 'default';
    const { spec } = notification;
    const stop = async (
      reason: Parameters<typeof conditions.markStalled>[0],
      message: string,
    ): Promise<ReconcileResult> => {
      this.#p.notifier.remove(key);
      this.#built.delete(key);
      if (reason === REASONS.Suspended)
        conditions.markNotReady(reason, message, 'resumes when spec.suspend is removed');
      else conditions.markStalled(reason, message);
      await writeStatus(this.#p.writer, notification, kept(notification), conditions);
      return { requeueAfterMs: this.#p.refreshMs };
    };
    if (spec.suspend) return stop(REASONS.Suspended, 'spec.suspend is true: nothing is sent');

    let secret: Record<string, string> | undefined;
    if (spec.sink.secretRef) {
      try {
        secret = await this.#p.secrets.readSecret(namespace, spec.sink.secretRef.name);
      } catch (err) {
        conditions.markNotReady(
          failureReason(err, REASONS.SecretNotFound),
          `Secret ${namespace}/${spec.sink.secretRef.name} could not be read: ${errorMessage(err)}`,
          'read again with backoff',
        );
        await writeStatus(this.#p.writer, notification, kept(notification), conditions);
        throw err;
      }
      if (!secret)
        return stop(REASONS.SecretNotFound, `Secret ${namespace}/${spec.sink.secretRef.name} does not exist`);
    }
    const built = buildSink(spec, secret, { allowedHosts: this.#p.allowedHosts });
    if (!built.ok) return stop(built.reason, built.message);

    const digest = `${notification.metadata.generation ?? 0}/${digestOf(secret)}`;
    if (this.#built.get(key) !== digest || !this.#p.notifier.has(key)) {
      const fresh = this.#p.notifier.configure(key, notification, built.sink);
      this.#built.set(key, digest);
      ctx.log.info({ notification: key, sink: spec.sink.type, fresh }, 'notification sink configured');
      if (fresh) for (const problem of this.#p.problems.list()) this.#p.notifier.publish(problem);
    }

    const health = this.#p.notifier.health(key);
    if (health?.failing)
      conditions.markNotReady(
        REASONS.DeliveryFailing,
        `${health.failures} failed ${health.failures === 1 ? 'try' : 'tries'}, ${health.pending} problem(s) waiting: ${health.lastError ?? 'unknown error'}`,
        'retried with backoff',
      );
    else conditions.markReady(REASONS.Delivering, `${health?.pending ?? 0} problem(s) waiting`);

    const { deliveries, horizon } = persistable(
      this.#p.notifier.deliveries(key) ?? [],
      this.#p.problems.list(),
      notification.status?.horizon,
    );
    const status: Omit<NotificationStatus, 'conditions' | 'observedGeneration'> = {
      deliveries,
      ...(horizon ? { horizon } : {}),
      ...(health?.lastError ? { lastError: health.lastError } : {}),
      ...(health?.lastDeliveryTime
        ? { lastDeliveryTime: health.lastDeliveryTime }
        : notification.status?.lastDeliveryTime
          ? { lastDeliveryTime: notification.status.lastDeliveryTime }
          : {}),
    };
    if (!unchanged(notification, status, conditions.list()))
      await writeStatus(this.#p.writer, notification, status, conditions);
    return { requeueAfterMs: this.#p.refreshMs };
  }
}

/** What a Notification that stopped delivering keeps of its status: the progress, for when it resumes. */
function kept(notification: Notification): Omit<NotificationStatus, 'conditions' | 'observedGeneration'> {
  const { conditions: _c, observedGeneration: _g, ...rest } = notification.status ?? {};
  return rest;
}

/**
 * The entries worth keeping: problems that still exist, at most MAX_DELIVERIES. Past that, the
 * oldest finished problems go first and the horizon moves past them, so they are not sent again.
 */
export function persistable(
  deliveries: readonly NotificationDelivery[],
  problems: readonly ProblemEvent[],
  horizon: string | undefined,
): { deliveries: NotificationDelivery[]; horizon?: string } {
  const byUid = new Map(problems.map((p) => [p.metadata.uid ?? '', p]));
  const alive = deliveries.filter((d) => byUid.has(d.uid));
  if (alive.length <= MAX_DELIVERIES) return { deliveries: alive, ...(horizon ? { horizon } : {}) };
  const created = (d: NotificationDelivery): string => String(byUid.get(d.uid)?.metadata.creationTimestamp ?? '');
  const finished = alive.filter((d) => isTerminal(byUid.get(d.uid)?.status?.phase));
  const drop = new Set(
    [...finished]
      .sort((a, b) => Date.parse(created(a)) - Date.parse(created(b)))
      .slice(0, alive.length - MAX_DELIVERIES)
      .map((d) => d.uid),
  );
  let next = horizon ? Date.parse(horizon) : 0;
  for (const uid of drop) next = Math.max(next, Date.parse(created({ uid } as NotificationDelivery)) + 1);
  return {
    deliveries: alive.filter((d) => !drop.has(d.uid)).slice(0, MAX_DELIVERIES),
    ...(next > 0 ? { horizon: new Date(next).toISOString() } : {}),
  };
}

function digestOf(secret: Readonly<Record<string, string>> | undefined): string {
  if (!secret) return 'none';
  const hash = createHash('sha256');
  for (const k of Object.keys(secret).sort()) hash.update(`${k}\0${secret[k] ?? ''}\0`);
  return hash.digest('hex');
}

function unchanged(
  notification: Notification,
  status: Omit<NotificationStatus, 'conditions' | 'observedGeneration'>,
  conditions: unknown,
): boolean {
  const { conditions: c, observedGeneration: g, ...rest } = notification.status ?? {};
  return (
    g === notification.metadata.generation &&
    canonical(c ?? []) === canonical(conditions) &&
    canonical(rest) === canonical(status)
  );
}

/** JSON with object keys sorted: the API server does not keep the order they were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
