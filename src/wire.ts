// Composition root of `rebound controller`: builds every part from the configuration, hands each
// controller its dependencies (each wires its own queue, watches and predicates in its setup.ts),
// and runs the manager until the signal aborts. No logic lives here.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createActions } from './actions/setup.ts';
import { createRolloutCheck, createSyncCheck } from './apply/index.ts';
import type { ProblemEvent, Remediation } from './api/index.ts';
import type { ControllerConfig } from './config/controller.ts';
import { watchTokenFile } from './config/token-file.ts';
import { createConfigCaches } from './controllers/config-caches.ts';
import { GitPolicyLookup } from './controllers/problemevent/git-policies.ts';
import { GitStageRepository } from './controllers/problemevent/git-repository.ts';
import { CachedProjectLookup } from './controllers/problemevent/project-lookup.ts';
import { setupProblemEventController } from './controllers/problemevent/setup.ts';
import { SloEvaluator } from './controllers/problemevent/slo-evaluator.ts';
import { prometheusProviders } from './evaluation/providers/prometheus.ts';
import { ProjectStores } from './controllers/project-stores.ts';
import { ProjectForges } from './controllers/forges.ts';
import { setupNotificationController } from './controllers/notification/setup.ts';
import { setupProjectController } from './controllers/project/setup.ts';
import { setupRemediationController } from './controllers/remediation/setup.ts';
import { gitHookRoute } from './ingest/git-hook.ts';
import { KubeActionCallbacks } from './ingest/action-callbacks.ts';
import { ingestRunnable, parseAddress } from './ingest/server.ts';
import { ProjectShards } from './ingest/project-shards.ts';
import { KubeProblemStore } from './ingest/store.ts';
import {
  kubeClaimStore,
  kubeEventRecorder,
  kubeLeaseStore,
  kubeSecretReader,
  loadKubeConfig,
  reboundClients,
} from './kube/index.ts';
import { opsHandler } from './observability/health.ts';
import { createMetrics } from './observability/metrics.ts';
import type { Metrics } from './observability/metrics.ts';
import { OtlpHttpExporter, displayUrl } from './observability/tracing/otlp-http.ts';
import { RecordingTracer } from './observability/tracing/tracer.ts';
import type { Tracer } from './observability/tracing/tracer.ts';
import { systemClock } from './runtime/clock.ts';
import { httpServerRunnable } from './runtime/http-server.ts';
import { SupervisedInformer } from './runtime/informer.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import { Manager, closeOnStop, informerRunnable } from './runtime/manager.ts';
import type { ManagerExit } from './runtime/manager.ts';
import { kubeUiAccess } from './kube/ui-access.ts';
import { setupUi } from './ui/setup.ts';

/** Problems waiting per Notification, at most (more are taken again at their next change). */
const NOTIFICATION_QUEUE_CAPACITY = 1000;
const NOTIFICATION_RETRY_INITIAL_MS = 1000;

export interface RunningController {
  /** Resolves when the manager has stopped. */
  done: Promise<ManagerExit>;
}

export function startController(config: ControllerConfig, log: Logger, signal: AbortSignal): RunningController {
  const clock = systemClock;
  const kc = loadKubeConfig(config.kubeconfig ? { kind: 'file', path: config.kubeconfig } : { kind: 'default' });
  const clients = reboundClients(kc);
  const metrics = createMetrics();
  const tracing = createTracing(config, metrics, log);
  const secrets = kubeSecretReader(kc);

  const elector = config.leaderElect
    ? new LeaderElector({
        identity: config.identity,
        store: kubeLeaseStore(kc, { namespace: config.leaderElectionNamespace, name: config.leaderElectionName }),
        clock,
        log,
        leaseDurationMs: config.leaseDurationMs,
        renewDeadlineMs: config.renewDeadlineMs,
        retryPeriodMs: config.retryPeriodMs,
      })
    : undefined;
  const manager = new Manager({
    log,
    ...(elector ? { leaderElector: elector } : {}),
    onLeaderChange: (leading) => metrics.setLeader(leading),
  });
  // Controllers never start a reconcile on a Lease that was not renewed in time (a paused process finds out there).
  const mayAct = (): boolean => elector?.isLeading() ?? true;

  // Informers: every replica keeps its caches warm, so a new leader acts at once.
  const informerMetrics = {
    synced: (r: string, s: boolean) => metrics.informerSynced(r, s),
    restarted: (r: string) => metrics.informerRestarted(r),
  };
  const informerOptions = { clock, log, resyncMs: config.resyncMs, metrics: informerMetrics };
  // A shard (--watch-label-selector) sees only its own objects, as Flux's sharded controllers do.
  const watch = config.watchLabelSelector ? { labelSelector: config.watchLabelSelector } : {};
  const projects = new SupervisedInformer({
    name: 'projects',
    source: clients.projects.listWatch(config.namespace, watch),
    ...informerOptions,
  });
  const remediations = new SupervisedInformer({
    name: 'remediations',
    source: clients.remediations.listWatch(config.namespace, watch),
    ...informerOptions,
  });
  const problems = new SupervisedInformer({
    name: 'problemevents',
    source: clients.problemEvents.listWatch(config.namespace, watch),
    ...informerOptions,
  });
  const approvals = new SupervisedInformer({
    name: 'approvals',
    source: clients.approvals.listWatch(config.namespace, watch),
    ...informerOptions,
  });
  const notificationInformer = new SupervisedInformer({
    name: 'notifications',
    source: clients.notifications.listWatch(config.namespace, watch),
    ...informerOptions,
  });
  for (const informer of [projects, remediations, problems, approvals, notificationInformer]) {
    manager.add(informerRunnable(informer));
    manager.addSyncSource(informer);
  }

  const stores = new ProjectStores({
    workDir: config.workDir,
    secrets,
    logger: (project) => log.child({ component: 'gitstore', project }),
    onPushRetry: () => metrics.gitPushRetry(),
  });
  const projectLookup = new CachedProjectLookup(projects, remediations, stores);
  const remediationOf = (p: ProblemEvent): Remediation | undefined =>
    projectLookup.findRemediation(p.metadata.namespace ?? 'default', p.spec.project, p.spec.stage, p.spec.service);
  // Last good remediation.yaml / slo.yaml / sli.yaml, fed by the Project controller's branch polls.
  const configs = createConfigCaches();

  // The Projects' forges: commit statuses (queued per Project) and merge-mode pull requests.
  const forgeLog = log.child({ component: 'forge' });
  const forges = new ProjectForges({
    secrets,
    clock,
    log: { info: (f, m) => forgeLog.info(f, m), warn: (f, m) => forgeLog.warn(f, m) },
    observe: (result) => metrics.forgeStatus(result),
    onHealthChange: (namespace, name) => project.wake(namespace, name),
  });

  const project = setupProjectController(manager, {
    projects,
    repositories: stores,
    statusClient: clients.projects,
    configs,
    clock,
    log,
    workers: config.workers,
    metrics,
    mayAct,
    forgeHealth: (namespace, name) => forges.health(namespace, name),
  });

  // Ways in: alerts, CloudEvents, action callbacks and (with a secret) Git push hooks.
  const tokens =
    config.webhookAddress !== '' && config.webhookTokenFile
      ? watchTokenFile(config.webhookTokenFile, log.child({ component: 'webhook-tokens' }), 'webhook tokens')
      : undefined;
  const gitSecret =
    tokens && config.gitWebhookSecretFile
      ? watchTokenFile(
          config.gitWebhookSecretFile,
          log.child({ component: 'git-webhook-secret' }),
          'git webhook secret',
        )
      : undefined;
  const sinkToken = config.actionSinkTokenFile
    ? watchTokenFile(config.actionSinkTokenFile, log.child({ component: 'action-sink-token' }), 'action sink token')
    : undefined;
  const projectShards = new ProjectShards({
    getProject: (name) => clients.projects.get(config.problemNamespace, name),
  });
  const webhooks = tokens
    ? ingestRunnable({
        address: config.webhookAddress,
        // ProblemEvents inherit their Project's shard, whichever shard's webhook received the problem.
        sink: new KubeProblemStore({
          kubeConfig: kc,
          namespace: config.problemNamespace,
          shardOf: (p) => projectShards.shardOf(p),
        }),
        keptnNamespace: config.problemNamespace,
        tokens: () => tokens.tokens(),
        log: log.child({ component: 'ingest' }),
        ...(gitSecret
          ? {
              routes: [
                gitHookRoute({
                  secret: () => gitSecret.tokens()[0] ?? '',
                  onPush: (event) => project.wakeForPush(event),
                }),
              ],
            }
          : {}),
        actions: new KubeActionCallbacks(clients.problemEvents, clock),
      })
    : undefined;

  // Actions: values edits applied by the stage's applier, webhooks, and (with a sink) external executors.
  const { actions, tasks } = createActions({
    kubeConfig: kc,
    helm: {
      helmPath: config.helmPath,
      homeDir: join(config.workDir, 'helm'),
      timeoutSeconds: config.helmTimeoutSeconds,
      log: log.child({ component: 'helm' }),
      ...(config.kubeconfig ? { kubeconfigPath: config.kubeconfig } : {}),
    },
    workDir: config.workDir,
    secrets,
    clock,
    helmUpgrade: (result, seconds) => metrics.helmOperation('upgrade', result, seconds),
    // Runbooks call back to the webhook server; only --callback-url names it when it listens on every interface.
    callbackBaseUrl: () => config.callbackUrl ?? webhooks?.callbackBaseUrl(),
    ...(config.actionSink
      ? {
          sink: {
            url: config.actionSink,
            actionTimeoutMs: config.actionTimeoutMs,
            taskTimeoutMs: config.taskTimeoutMs,
            ...(sinkToken ? { token: () => sinkToken.tokens()[0] } : {}),
          },
        }
      : {}),
  });

  // Notifications: the loop publishes each status it writes; delivery runs on its own, per sink.
  const notifier = setupNotificationController(manager, {
    informers: { notifications: notificationInformer, problems },
    statusClient: clients.notifications,
    secrets,
    settings: {
      allowedHosts: config.notificationAllowedHosts,
      capacity: NOTIFICATION_QUEUE_CAPACITY,
      retryInitialMs: NOTIFICATION_RETRY_INITIAL_MS,
      retryMaxMs: config.notificationRetryMaxMs,
      refreshMs: config.notificationRefreshMs,
    },
    clock,
    log,
    metrics,
    mayAct,
  });

  setupProblemEventController(manager, {
    notifier,
    informers: { problems, projects, remediations, approvals },
    loop: {
      projects: projectLookup,
      policies: new GitPolicyLookup(stores, { defaultWait: config.evaluationWait, cache: configs.remediation }),
      repositories: { forProject: async (p) => new GitStageRepository(await stores.storeFor(p)) },
      actions,
      forges,
      ...(tasks ? { tasks } : {}),
      evaluator: new SloEvaluator({
        stores,
        providerFor: prometheusProviders({
          defaultUrl: config.prometheusUrl,
          allowedHosts: config.prometheusAllowedHosts,
        }),
        findRemediation: remediationOf,
        caches: configs,
      }),
      metrics: {
        attempt: (a, r) => metrics.attempt(a, r),
        gitOperation: (o, r, s) => metrics.gitOperation(o, r, s),
        evaluation: (r, s) => metrics.evaluation(r, s),
        approval: (outcome) => metrics.approval(outcome),
        held: (reason) => metrics.held(reason),
        revert: (reason) => metrics.revert(reason),
        holdBroken: (reason) => metrics.holdBroken(reason),
        rollout: (result, seconds) => metrics.rollout(result, seconds),
      },
      ...(tracing ? { tracer: tracing.tracer } : {}),
      sync: createSyncCheck(kc),
      ...(config.rolloutTimeoutMs > 0 ? { rollouts: createRolloutCheck(kc) } : {}),
      settings: {
        turnPollMs: config.turnPollMs,
        evaluationRetryMs: config.evaluationRetryMs,
        stalledRecheckMs: config.stalledRecheckMs,
        syncPollMs: config.syncPollMs,
        rolloutTimeoutMs: config.rolloutTimeoutMs,
        rolloutPollMs: config.rolloutPollMs,
      },
    },
    client: clients.problemEvents,
    // One remediation at a time per service: claims are Leases in the controller's own namespace.
    claims: kubeClaimStore(kc, config.leaderElectionNamespace),
    events: kubeEventRecorder(kc, {
      controller: 'rebound.dev/controller',
      instance: config.identity,
      clock,
      log,
      onResult: (result) => metrics.kubeEvent(result),
    }),
    clock,
    log,
    workers: config.workers,
    metrics,
    mayAct,
    // A webhook action that waits for its callback needs the server up before it is called.
    waitFor: webhooks ? [webhooks] : [],
  });

  setupRemediationController(manager, {
    informers: { remediations, projects },
    projects: projectLookup,
    statusClient: clients.remediations,
    retryMs: config.stalledRecheckMs,
    externalActions: actions.external,
    clock,
    log,
    metrics,
    mayAct,
  });

  // Servers bind when the manager starts them.
  const ops = parseAddress(config.metricsAddress);
  manager.add(
    httpServerRunnable({
      name: 'ops-server',
      ...ops,
      log,
      handler: opsHandler({ registry: metrics.registry, readiness: () => manager.readinessChecks() }),
    }),
  );
  if (webhooks) manager.add(webhooks);

  // The web UI reads the same caches, on every replica.
  if (config.uiAddress !== '') {
    setupUi(manager, {
      address: parseAddress(config.uiAddress),
      informers: { problems, projects, remediations, approvals },
      identity: config.identity,
      leading: () => elector?.isLeading() ?? true,
      kube: kubeUiAccess(kc),
      prometheus: { defaultUrl: config.prometheusUrl, allowedHosts: config.prometheusAllowedHosts },
      findRemediation: remediationOf,
      log: log.child({ component: 'ui' }),
      now: () => clock.now(),
    });
  }
  manager.add(closeOnStop('token-files', [tokens, gitSecret, sinkToken]));
  // Spans still queued go out before the process ends.
  if (tracing) manager.add(closeOnStop('trace-exporter', [{ close: () => tracing.exporter.shutdown() }]));

  log.info(
    {
      metricsAddress: config.metricsAddress,
      webhookAddress: webhooks ? config.webhookAddress : 'off',
      uiAddress: config.uiAddress === '' ? 'off' : config.uiAddress,
      namespace: config.namespace ?? 'all',
      leaderElection: config.leaderElect,
      tracing: config.tracing ? displayUrl(config.tracing.url) : 'off',
    },
    'rebound controller starting',
  );
  return {
    done: manager.start(signal).finally(() => {
      forges.stop();
      stores.close();
    }),
  };
}

/** Each problem's trace over OTLP/HTTP, when an endpoint is configured; nothing at all otherwise. */
function createTracing(
  config: ControllerConfig,
  metrics: Metrics,
  log: Logger,
): { tracer: Tracer; exporter: OtlpHttpExporter } | undefined {
  if (!config.tracing) return undefined;
  const traceLog = log.child({ component: 'tracing' });
  const exporter = new OtlpHttpExporter({
    url: config.tracing.url,
    headers: config.tracing.headers,
    resource: {
      'service.name': config.tracing.serviceName,
      'service.instance.id': config.identity,
    },
    scope: { name: 'rebound' },
    onResult: (result, spans) => metrics.traceSpans(result, spans),
    onError: (message) => traceLog.warn({ err: message }, 'could not send spans; they are dropped'),
  });
  return { tracer: new RecordingTracer({ export: (span) => exporter.export(span) }), exporter };
}
