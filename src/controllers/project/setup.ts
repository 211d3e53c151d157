// The Project controller's wiring: Git access, shipyard and stage heads. Its requeue on
// spec.git.poll is the branch watch; a verified Git push webhook wakes the Projects of that
// repository at once instead.
import type { Logger } from 'pino';
import type { Project, ProjectStatus } from '../../api/index.ts';
import { sameRepository } from '../../gitstore/hooks.ts';
import type { GitPushEvent } from '../../gitstore/hooks.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { Clock } from '../../runtime/clock.ts';
import { Controller } from '../../runtime/controller.ts';
import { enqueueMapped } from '../../runtime/informer.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import { controllerRunnable } from '../../runtime/manager.ts';
import type { Manager } from '../../runtime/manager.ts';
import { defaultControllerRateLimiter } from '../../runtime/rate-limiter.ts';
import { WorkQueue } from '../../runtime/workqueue.ts';
import type { ConfigCaches } from '../config-caches.ts';
import { keyOf } from '../keys.ts';
import { specChanged } from '../predicates.ts';
import { ProjectReconciler } from './reconciler.ts';
import type { ProjectControllerPorts } from './reconciler.ts';

const NAME = 'project';

export interface ProjectControllerDeps {
  projects: SupervisedInformer<Project>;
  repositories: ProjectControllerPorts['repositories'];
  statusClient: { patchStatus(namespace: string, name: string, status: ProjectStatus): Promise<unknown> };
  configs: ConfigCaches;
  clock: Clock;
  log: Logger;
  /** The controller's worker budget; Projects use at most two (each holds a Git fetch). */
  workers: number;
  metrics: Metrics;
  /** False while this replica may not act (a Lease not renewed in time): no reconcile starts. */
  mayAct: () => boolean;
  forgeHealth?: ProjectControllerPorts['forgeHealth'];
}

export interface ProjectController {
  /** A verified push: re-read the Projects of that repository now instead of at their next poll. */
  wakeForPush(event: GitPushEvent): void;
  /** Reconcile one Project now (its forge's health changed). */
  wake(namespace: string, name: string): void;
}

export function setupProjectController(manager: Manager, deps: ProjectControllerDeps): ProjectController {
  const { projects, clock, metrics } = deps;
  const queue = new WorkQueue({
    clock,
    rateLimiter: defaultControllerRateLimiter(clock),
    metrics: metrics.queue(NAME),
  });
  const reconciler = new ProjectReconciler({
    clock,
    cache: projects,
    repositories: deps.repositories,
    writer: {
      patchStatus: (p, status) =>
        deps.statusClient.patchStatus(p.metadata.namespace ?? 'default', p.metadata.name ?? '', status),
    },
    configs: deps.configs,
    ...(deps.forgeHealth ? { forgeHealth: deps.forgeHealth } : {}),
  });
  const controller = new Controller({
    name: NAME,
    queue,
    reconciler,
    log: deps.log,
    clock,
    workers: Math.min(2, deps.workers),
    metrics: metrics.controller,
    mayAct: deps.mayAct,
    waitFor: [projects],
  });
  const enqueue = (key: string): void => controller.enqueue(key);
  projects.addHandler(enqueueMapped<Project>(enqueue, { map: (p) => [keyOf(p)], update: specChanged, delete: true }));
  manager.add(controllerRunnable(controller));

  return {
    wake(namespace, name) {
      enqueue(`${namespace}/${name}`);
    },
    wakeForPush(event) {
      const matching = projectsOfRepository(projects.list(), event.repoUrl);
      deps.log.info(
        { provider: event.provider, branch: event.branch ?? event.ref, projects: matching },
        'git push webhook',
      );
      for (const key of matching) enqueue(key);
    },
  };
}

/** The Projects whose spec.git.url names the pushed repository. */
export function projectsOfRepository(projects: readonly Project[], repoUrl: string): string[] {
  return projects.filter((p) => sameRepository(p.spec.git.url, repoUrl)).map(keyOf);
}
