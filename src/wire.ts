// Composition root: builds every part from the configuration, wires them, runs until the signal
// aborts. No logic lives here; each part is built and tested on its own.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ANNOTATIONS, API_VERSION, KINDS } from './api/index.ts';
import type { Approval, ProblemEvent, Project, Remediation } from './api/index.ts';
import { createAppliers, createSyncCheck, deploymentOwner } from './apply/index.ts';
import { KeptnExecutorAction } from './actions/keptn-executor.ts';
import { KeptnTaskDispatcher } from './actions/keptn-task.ts';
import { actionRegistry } from './actions/registry.ts';
import { BackgroundActions } from './actions/runner.ts';
import { FeatureToggleAction, ScaleAction } from './actions/values.ts';
import { WebhookAction } from './actions/webhook.ts';
import { KubeActionCallbacks } from './ingest/action-callbacks.ts';
import type { ControllerConfig } from './config/controller.ts';
import { watchTokenFile } from './config/token-file.ts';
import { GitStageRepository } from './controllers/problemevent/git-repository.ts';
import { GitPolicyLookup } from './controllers/problemevent/git-policies.ts';
import { CachedProjectLookup } from './controllers/problemevent/project-lookup.ts';
import { ProblemEventReconciler } from './controllers/problemevent/reconciler.ts';
import { FreshReads } from './controllers/problemevent/fresh-cache.ts';
import { SloEvaluator } from './controllers/problemevent/slo-evaluator.ts';
import { isTerminal } from './api/phases.ts';
import { LeaseTurnClaims, holderState } from './controllers/problemevent/service-turn.ts';
import { leftTheLine, nextInLine } from './controllers/problemevent/wake.ts';
import { CacheIndex } from './controllers/cache-index.ts';
import { createConfigCaches } from './controllers/config-caches.ts';
import { ProjectReconciler } from './controllers/project/reconciler.ts';
import { RemediationReconciler } from './controllers/remediation/reconciler.ts';
import { ProjectStores } from './controllers/project-stores.ts';
import { prometheusProviders } from './evaluation/providers/prometheus.ts';
import { startIngestServer } from './ingest/server.ts';
import { gitHookRoute } from './ingest/git-hook.ts';
import { sameRepository } from './gitstore/hooks.ts';
import type { GitPushEvent } from './gitstore/hooks.ts';
import { ProjectShards } from './ingest/project-shards.ts';
import { KubeProblemStore } from './ingest/store.ts';
import { kubeClaimStore, kubeEventRecorder, kubeLeaseStore, kubeSecretReader, loadKubeConfig, reboundClients } from './kube/index.ts';
import { createMetrics } from './observability/metrics.ts';
import { opsHandler } from './observability/health.ts';
import { parseAddress } from './ingest/server.ts';
import { systemClock } from './runtime/clock.ts';
import { Controller } from './runtime/controller.ts';
import { SupervisedInformer, enqueueOwnKey } from './runtime/informer.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import { Manager, controllerRunnable, informerRunnable } from './runtime/manager.ts';
import type { ManagerExit, Runnable } from './runtime/manager.ts';
import { defaultControllerRateLimiter } from './runtime/rate-limiter.ts';
import { WorkQueue } from './runtime/workqueue.ts';
import { refKey } from './runtime/keys.ts';

export interface RunningController {
  /** Resolves when the manager has stopped. */
  done: Promise<ManagerExit>;
  metricsUrl: string;
  webhookUrl: string | undefined;
}

export async function startController(config: ControllerConfig, log: Logger, signal: AbortSignal): Promise<RunningController> {
  const clock = systemClock;
  const kc = loadKubeConfig(config.kubeconfig ? { kind: 'file', path: config.kubeconfig } : { kind: 'default' });
  const clients = reboundClients(kc);
  const metrics = createMetrics();

  const informerMetrics = { synced: (r: string, s: boolean) => metrics.informerSynced(r, s), restarted: (r: string) => metrics.informerRestarted(r) };
  const informerOptions = { clock, log, resyncMs: config.resyncMs, metrics: informerMetrics };
  // A shard (--watch-label-selector) sees only its own objects, as Flux's sharded controllers do.
  const watch = config.watchLabelSelector ? { labelSelector: config.watchLabelSelector } : {};
  const projects = new SupervisedInformer({ name: 'projects', source: clients.projects.listWatch(config.namespace, watch), ...informerOptions });
  const remediations = new SupervisedInformer({ name: 'remediations', source: clients.remediations.listWatch(config.namespace, watch), ...informerOptions });
  const problems = new SupervisedInformer({ name: 'problemevents', source: clients.problemEvents.listWatch(config.namespace, watch), ...informerOptions });
  const approvals = new SupervisedInformer({ name: 'approvals', source: clients.approvals.listWatch(config.namespace, watch), ...informerOptions });

  const secrets = kubeSecretReader(kc);
  const stores = new ProjectStores({ workDir: config.workDir, secrets, logger: (project) => log.child({ component: 'gitstore', project }), onPushRetry: () => metrics.gitPushRetry() });
  const projectLookup = new CachedProjectLookup(projects, remediations, stores);
  const events = kubeEventRecorder(kc, { controller: 'rebound.dev/controller', instance: config.identity, clock, log });

  // Turn-taking and limits read a problem's siblings on every reconcile: index them by service.
  const byService = new CacheIndex<ProblemEvent>((p) => `${p.metadata.namespace ?? ''}/${p.spec.project}/${p.spec.stage}/${p.spec.service}`);
  problems.addHandler(byService.handler());
  // Our own status writes stay visible to the next reconcile until the informer has them.
  const fresh = new FreshReads();
  problems.addHandler({
    onAdd: (p) => fresh.observed(keyOf(p), p),
    onUpdate: (_before, p) => fresh.observed(keyOf(p), p),
    onDelete: (p) => fresh.observed(keyOf(p), undefined),
  });
  const siblings = (problem: ProblemEvent): ProblemEvent[] => byService.get(byService.key(problem));
  // The Project's budgets and circuit breaker count its problems; Approvals are read per attempt.
  const byProject = new CacheIndex<ProblemEvent>((p) => `${p.metadata.namespace ?? ''}/${p.spec.project}`);
  problems.addHandler(byProject.handler());
  const approvalsByAttempt = new CacheIndex<Approval>((a) => `${a.metadata.namespace ?? ''}/${a.spec.problem}/${a.spec.attempt}`);
  approvals.addHandler(approvalsByAttempt.handler());
  // Last good remediation.yaml / slo.yaml / sli.yaml, fed by the Project controller's branch polls.
  const configs = createConfigCaches();

  // Actions: values edits applied by helm/kubernetes/none, webhooks, and (with a sink) external executors.
  // Runbooks call back to the webhook server; its URL is known once it listens, so it is read late.
  let callbackBaseUrl: string | undefined = config.callbackUrl;
  const sinkToken = config.actionSinkTokenFile ? watchTokenFile(config.actionSinkTokenFile, log.child({ component: 'action-sink-token' })) : undefined;
  const valuesOptions = {
    appliers: createAppliers({
      kubeConfig: kc,
      helm: { helmPath: config.helmPath, homeDir: join(config.workDir, 'helm'), timeoutSeconds: config.helmTimeoutSeconds, log: log.child({ component: 'helm' }), ...(config.kubeconfig ? { kubeconfigPath: config.kubeconfig } : {}) },
    }),
    workDir: config.workDir,
    secrets,
    helmUpgrade: (result: 'success' | 'error', seconds: number) => metrics.helmOperation('upgrade', result, seconds),
    gitOpsOwner: deploymentOwner(kc),
  };
  const actions = actionRegistry({
    scale: new ScaleAction(valuesOptions),
    featuretoggle: new FeatureToggleAction(valuesOptions),
    webhook: new WebhookAction({
      secrets,
      clock: () => new Date(clock.now()),
      get callbackBaseUrl() {
        return callbackBaseUrl;
      },
    }),
    ...(config.actionSink
      ? { external: new KeptnExecutorAction({ sinkUrl: config.actionSink, timeoutMs: config.actionTimeoutMs, clock: () => new Date(clock.now()), ...(sinkToken ? { token: () => sinkToken.tokens()[0] } : {}) }) }
      : {}),
  });
  // The shipyard sequence's tasks after the action go to the same executor sink.
  const tasks = config.actionSink
    ? new KeptnTaskDispatcher({ sinkUrl: config.actionSink, timeoutMs: config.taskTimeoutMs, clock: () => new Date(clock.now()), ...(sinkToken ? { token: () => sinkToken.tokens()[0] } : {}) })
    : undefined;
  // Settled background actions wake their problem; the controller exists further down.
  let enqueueProblem: (key: string) => void = () => undefined;
  const background = new BackgroundActions((key) => enqueueProblem(key));
  metrics.observeBackgroundActions(() => background.running());

  // One remediation at a time per service: claims are Leases in the controller's own namespace.
  const turns = new LeaseTurnClaims(kubeClaimStore(kc, config.leaderElectionNamespace), {
    cached: (ref) => {
      const key = refKey(ref);
      const p = fresh.read(key, problems.get(key));
      return p ? holderState(p, ref) : undefined;
    },
    live: async (ref) => holderState(await clients.problemEvents.get(ref.namespace, ref.name), ref),
  }, log.child({ component: 'service-turn' }));

  const reconciler = new ProblemEventReconciler({
    clock: () => new Date(clock.now()),
    cache: { get: (key) => fresh.read(key, problems.get(key)), siblings, inProject: (p) => byProject.get(byProject.key(p)) },
    turns,
    approvals: { forAttempt: (namespace, problem, attempt) => approvalsByAttempt.get(`${namespace}/${problem}/${attempt}`) },
    writer: {
      patchStatus: async (problem, status) => {
        // Conditional on the version read: a decision made on a stale view must not land.
        const stored = await clients.problemEvents.patchStatus(problem.metadata.namespace ?? 'default', problem.metadata.name ?? '', status, problem.metadata.resourceVersion);
        fresh.remember(keyOf(stored), stored);
        return stored;
      },
      recordEvent: (problem, type, reason, message) =>
        events.record({ apiVersion: API_VERSION, kind: KINDS.ProblemEvent, metadata: problem.metadata }, type, reason, reason, message),
    },
    projects: projectLookup,
    policies: new GitPolicyLookup(stores, { defaultWait: config.evaluationWait, cache: configs.remediation }),
    repositories: { forProject: async (project) => new GitStageRepository(await stores.storeFor(project)) },
    actions,
    background,
    ...(tasks ? { tasks } : {}),
    evaluator: new SloEvaluator({
      stores,
      providerFor: prometheusProviders({ defaultUrl: config.prometheusUrl, allowedHosts: config.prometheusAllowedHosts }),
      findRemediation: (problem) => projectLookup.findRemediation(problem.metadata.namespace ?? 'default', problem.spec.project, problem.spec.stage, problem.spec.service),
      caches: configs,
    }),
    metrics: {
      attempt: (action, result) => metrics.attempt(action, result),
      gitOperation: (operation, result, seconds) => metrics.gitOperation(operation, result, seconds),
      evaluation: (result, seconds) => metrics.evaluation(result, seconds),
      approval: (outcome) => metrics.approval(outcome),
      held: (reason) => metrics.held(reason),
    },
    sync: createSyncCheck(kc),
    settings: { turnPollMs: config.turnPollMs, evaluationRetryMs: config.evaluationRetryMs, stalledRecheckMs: config.stalledRecheckMs, syncPollMs: config.syncPollMs },
  });

  metrics.observeProblems(() => problems.list());
  const queue = new WorkQueue({ clock, rateLimiter: defaultControllerRateLimiter(clock), metrics: metrics.queue('problemevent') });
  // Never start a reconcile on a Lease that was not renewed in time (a paused process finds out here).
  const mayAct = (): boolean => elector?.isLeading() ?? true;
  const controller = new Controller({ name: 'problemevent', queue, reconciler, log, clock, workers: config.workers, metrics: metrics.controller, mayAct });
  enqueueProblem = (key) => controller.enqueue(key);

  // Watches only enqueue. A problem that leaves the line of its service (finishes, is suspended or
  // deleted) wakes the next in line; a changed Project or Remediation wakes the open problems it concerns.
  problems.addHandler(enqueueOwnKey((key, priority) => controller.enqueue(key, priority)));
  const wakeNextInLine = (left: ProblemEvent): void => {
    for (const key of nextInLine(left, siblings(left))) controller.enqueue(key);
  };
  problems.addHandler({
    onUpdate: (before, after) => {
      if (leftTheLine(before, after)) wakeNextInLine(after);
      if (!isTerminal(before.status?.phase) && isTerminal(after.status?.phase)) {
        // The whole Project's: a finished remediation frees its in-flight budget (or trips its circuit
        // breaker). Suspended ones wake when a person lifts the annotation (their own update event).
        for (const p of byProject.get(byProject.key(after))) if (!isTerminal(p.status?.phase) && p.metadata.annotations?.[ANNOTATIONS.suspend] !== 'true') controller.enqueue(keyOf(p));
      }
    },
    onDelete: wakeNextInLine,
  });
  const wakeOpen = (namespace: string | undefined, project: string, service?: string): void => {
    for (const p of problems.list()) {
      if (p.metadata.namespace === namespace && p.spec.project === project && (service === undefined || p.spec.service === service) && !isTerminal(p.status?.phase)) {
        controller.enqueue(keyOf(p));
      }
    }
  };
  // A person's answer wakes the problem it answers.
  approvals.addHandler({ onAdd: (a) => controller.enqueue(refKey({ namespace: a.metadata.namespace, name: a.spec.problem })) });
  // The Project controller writes status on every poll; only a new spec, stage list or a reset of the circuit breaker matters here.
  projects.addHandler({ onAdd: (p) => wakeOpen(p.metadata.namespace, p.metadata.name ?? ''), onUpdate: (b, p) => projectChanged(b, p) && wakeOpen(p.metadata.namespace, p.metadata.name ?? '') });
  remediations.addHandler({ onAdd: (r) => wakeOpen(r.metadata.namespace, r.spec.project, r.spec.service), onUpdate: (b, r) => specChanged(b, r) && wakeOpen(r.metadata.namespace, r.spec.project, r.spec.service) });

  // Project controller: Git access, shipyard, stage heads; its requeue on spec.git.poll is the branch watch.
  const projectQueue = new WorkQueue({ clock, rateLimiter: defaultControllerRateLimiter(clock), metrics: metrics.queue('project') });
  const projectController = new Controller({
    name: 'project',
    queue: projectQueue,
    reconciler: new ProjectReconciler({
      clock: () => new Date(clock.now()),
      cache: projects,
      repositories: stores,
      writer: { patchStatus: (p, status) => clients.projects.patchStatus(p.metadata.namespace ?? 'default', p.metadata.name ?? '', status) },
      configs,
    }),
    log,
    clock,
    workers: Math.min(2, config.workers),
    metrics: metrics.controller,
    mayAct,
  });
  projects.addHandler({
    onAdd: (p) => projectController.enqueue(keyOf(p)),
    onUpdate: (b, p) => specChanged(b, p) && projectController.enqueue(keyOf(p)),
    onDelete: (p) => projectController.enqueue(keyOf(p)),
  });

  // Remediation controller: project, stage and actions exist and are valid.
  const remediationQueue = new WorkQueue({ clock, rateLimiter: defaultControllerRateLimiter(clock), metrics: metrics.queue('remediation') });
  const remediationController = new Controller({
    name: 'remediation',
    queue: remediationQueue,
    reconciler: new RemediationReconciler({
      clock: () => new Date(clock.now()),
      cache: remediations,
      projects: projectLookup,
      writer: { patchStatus: (r, status) => clients.remediations.patchStatus(r.metadata.namespace ?? 'default', r.metadata.name ?? '', status) },
      retryMs: config.stalledRecheckMs,
      externalActions: actions.external,
    }),
    log,
    clock,
    workers: 1,
    metrics: metrics.controller,
    mayAct,
  });
  remediations.addHandler({
    onAdd: (r) => remediationController.enqueue(keyOf(r)),
    onUpdate: (b, r) => specChanged(b, r) && remediationController.enqueue(keyOf(r)),
  });
  const wakeRemediations = (project: Project): void => {
    for (const r of remediations.list()) {
      if (r.metadata.namespace === project.metadata.namespace && r.spec.project === project.metadata.name) remediationController.enqueue(keyOf(r));
    }
  };
  projects.addHandler({
    onAdd: wakeRemediations,
    onUpdate: (b, p) => projectChanged(b, p) && wakeRemediations(p),
    onDelete: wakeRemediations,
  });

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
  const manager = new Manager({ log, ...(elector ? { leaderElector: elector } : {}), onLeaderChange: (leading) => metrics.setLeader(leading) });
  for (const inf of [projects, remediations, problems, approvals]) {
    manager.add(informerRunnable(inf));
    manager.addSyncSource(inf);
  }
  manager.add(controllerRunnable('project', async (stop, drainMs) => {
    await projects.waitForSync(stop);
    await projectController.run(stop, drainMs);
  }));
  manager.add(controllerRunnable('remediation', async (stop, drainMs) => {
    await Promise.all([projects.waitForSync(stop), remediations.waitForSync(stop)]);
    await remediationController.run(stop, drainMs);
  }));
  manager.add(controllerRunnable('problemevent', async (stop, drainMs) => {
    // Act only on a complete picture: turn-taking and limits read the cache.
    await Promise.all([projects.waitForSync(stop), remediations.waitForSync(stop), problems.waitForSync(stop), approvals.waitForSync(stop)]);
    try {
      await controller.run(stop, drainMs);
    } finally {
      background.close();
    }
  }));

  const ops = await listen(config.metricsAddress, opsHandler({ registry: metrics.registry, readiness: () => manager.readinessChecks() }));
  manager.add(ops.runnable);
  let webhookUrl: string | undefined;
  // ProblemEvents inherit their Project's shard, whichever shard's webhook received the problem.
  const projectShards = new ProjectShards({ getProject: (name) => clients.projects.get(config.problemNamespace, name) });
  if (config.webhookAddress !== '' && config.webhookTokenFile) {
    const tokens = watchTokenFile(config.webhookTokenFile, log.child({ component: 'webhook-tokens' }));
    const gitSecret = config.gitWebhookSecretFile ? watchTokenFile(config.gitWebhookSecretFile, log.child({ component: 'git-webhook-secret' })) : undefined;
    // A verified push re-reads the Projects of that repository now instead of at their next poll.
    const onPush = (event: GitPushEvent): void => {
      const matching = projects.list().filter((p) => sameRepository(p.spec.git.url, event.repoUrl));
      log.info({ provider: event.provider, branch: event.branch ?? event.ref, projects: matching.map(keyOf) }, 'git push webhook');
      for (const p of matching) projectController.enqueue(keyOf(p));
    };
    const ingest = await startIngestServer({
      address: config.webhookAddress,
      sink: new KubeProblemStore({
        kubeConfig: kc,
        namespace: config.problemNamespace,
        shardOf: (project) => projectShards.shardOf(project),
      }),
      keptnNamespace: config.problemNamespace,
      tokens: () => tokens.tokens(),
      log: log.child({ component: 'ingest' }),
      ...(gitSecret ? { routes: [gitHookRoute({ secret: () => gitSecret.tokens()[0] ?? '', onPush })] } : {}),
      actions: new KubeActionCallbacks(clients.problemEvents, () => new Date(clock.now())),
    });
    webhookUrl = ingest.url;
    // Listening on every interface says nothing about the name runbooks reach us by: then only
    // --callback-url can tell, and webhooks that wait for a callback are refused until it is set.
    if (callbackBaseUrl === undefined && !/^http:\/\/(0\.0\.0\.0|\[::\]):/.test(ingest.url)) callbackBaseUrl = ingest.url;
    manager.add({
      name: 'webhooks',
      needsLeaderElection: false,
      start: async (stop) => {
        await new Promise<void>((resolve) => stop.addEventListener('abort', () => resolve(), { once: true }));
        await Promise.all([ingest.close(), tokens.close(), gitSecret?.close(), sinkToken?.close()]);
      },
    });
  }

  const done = manager.start(signal).finally(() => stores.close());
  log.info({ metrics: ops.url, webhooks: webhookUrl ?? 'off', namespace: config.namespace ?? 'all', leaderElection: config.leaderElect }, 'rebound controller started');
  return { done, metricsUrl: ops.url, webhookUrl };
}

function keyOf(obj: { metadata: { namespace?: string; name?: string } }): string {
  return refKey({ namespace: obj.metadata.namespace, name: obj.metadata.name ?? '' });
}

/** A new spec (generation), not a status write or a resync. */
function specChanged(before: Project | Remediation, after: Project | Remediation): boolean {
  return before.metadata.generation !== after.metadata.generation;
}

/** A new spec, or the Project controller found a different stage list (e.g. shipyard.yaml changed). */
function projectChanged(before: Project, after: Project): boolean {
  const stages = (p: Project): string => JSON.stringify((p.status?.stages ?? []).map((s) => [s.name, s.branch, s.remediation, s.apply, s.namespace, s.remediationTasks]));
  const reset = (p: Project): string | undefined => p.metadata.annotations?.[ANNOTATIONS.circuitReset];
  return specChanged(before, after) || stages(before) !== stages(after) || reset(before) !== reset(after);
}

async function listen(address: string, handler: Parameters<typeof createServer>[1]): Promise<{ url: string; runnable: Runnable }> {
  const { host, port } = parseAddress(address);
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    url: `http://${bound.address}:${bound.port}`,
    runnable: {
      name: 'ops-server',
      needsLeaderElection: false,
      start: async (stop) => {
        await new Promise<void>((resolve) => stop.addEventListener('abort', () => resolve(), { once: true }));
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      },
    },
  };
}
