// The Notification controller's wiring: its queue, the caches it reads, the notifier's delivery
// loops (leader only), and which events wake which Notification. The remediation loop reaches the
// notifier only through ProblemNotifier.publish, which never waits.
import type { Logger } from 'pino';
import type { Notification, NotificationStatus, ProblemEvent } from '../../api/index.ts';
import type { SecretReader } from '../../kube/secrets.ts';
import { Notifier } from '../../notify/notifier.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { Clock } from '../../runtime/clock.ts';
import { Controller } from '../../runtime/controller.ts';
import { enqueueMapped } from '../../runtime/informer.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import { controllerRunnable } from '../../runtime/manager.ts';
import type { Manager } from '../../runtime/manager.ts';
import { defaultControllerRateLimiter } from '../../runtime/rate-limiter.ts';
import { WorkQueue } from '../../runtime/workqueue.ts';
import { keyOf } from '../keys.ts';
import { specChanged } from '../predicates.ts';
import { NotificationReconciler } from './reconciler.ts';

const NAME = 'notification';

export interface NotificationSettings {
  /** --notification-allowed-hosts */
  allowedHosts: readonly string[];
  /** Problems waiting per Notification, at most. */
  capacity: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** How often a Notification's Secret is read again. */
  refreshMs: number;
}

export interface NotificationControllerDeps {
  informers: { notifications: SupervisedInformer<Notification>; problems: SupervisedInformer<ProblemEvent> };
  statusClient: { patchStatus(namespace: string, name: string, status: NotificationStatus): Promise<unknown> };
  secrets: SecretReader;
  settings: NotificationSettings;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  mayAct: () => boolean;
}

/** Sets up the controller; returns the notifier the remediation loop publishes to. */
export function setupNotificationController(manager: Manager, deps: NotificationControllerDeps): Notifier {
  const { notifications, problems } = deps.informers;
  const { clock, metrics, settings } = deps;
  const log = deps.log.child({ component: 'notifier' });
  const queue = new WorkQueue({
    clock,
    rateLimiter: defaultControllerRateLimiter(clock),
    metrics: metrics.queue(NAME),
  });
  // Filled in below: the notifier's changes enqueue through the controller made after it.
  let enqueue: (key: string) => void = () => undefined;
  const notifier = new Notifier({
    clock,
    capacity: settings.capacity,
    retryInitialMs: settings.retryInitialMs,
    retryMaxMs: settings.retryMaxMs,
    onChange: (key) => enqueue(key),
    metrics,
    onError: (key, err) => log.error({ err, notification: key }, 'notification queue failed'),
  });
  metrics.observeNotifications(() => notifier.states());

  const reconciler = new NotificationReconciler({
    clock,
    cache: notifications,
    problems,
    secrets: deps.secrets,
    notifier,
    writer: {
      patchStatus: (n, status) =>
        deps.statusClient.patchStatus(n.metadata.namespace ?? 'default', n.metadata.name ?? '', status),
    },
    allowedHosts: settings.allowedHosts,
    refreshMs: settings.refreshMs,
  });
  const controller = new Controller({
    name: NAME,
    queue,
    reconciler,
    log: deps.log,
    clock,
    workers: 1,
    metrics: metrics.controller,
    mayAct: deps.mayAct,
    waitFor: [notifications, problems],
  });
  enqueue = (key) => controller.enqueue(key);
  notifications.addHandler(
    enqueueMapped<Notification>(enqueue, { map: (n) => [keyOf(n)], update: specChanged, delete: true }),
  );
  // A deleted problem's progress leaves every Notification's status.
  problems.addHandler({
    onDelete: (p) => {
      if (p.metadata.uid) notifier.forget(p.metadata.uid);
    },
  });
  manager.add(controllerRunnable(controller));
  manager.add({
    name: 'notifier',
    needsLeaderElection: true,
    start: (signal) => notifier.run(signal),
  });
  return notifier;
}
