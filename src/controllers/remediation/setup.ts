// The Remediation controller's wiring: it checks that a Remediation's project, stage and actions
// exist and are valid, again whenever its spec or its Project's stage list changes.
import type { Logger } from 'pino';
import type { Project, Remediation, RemediationStatus } from '../../api/index.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { Clock } from '../../runtime/clock.ts';
import { Controller } from '../../runtime/controller.ts';
import { enqueueMapped } from '../../runtime/informer.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import { controllerRunnable } from '../../runtime/manager.ts';
import type { Manager } from '../../runtime/manager.ts';
import { defaultControllerRateLimiter } from '../../runtime/rate-limiter.ts';
import { WorkQueue } from '../../runtime/workqueue.ts';
import { CacheIndex } from '../cache-index.ts';
import { keyOf, projectGroup } from '../keys.ts';
import type { ProjectLookup } from '../ports.ts';
import { projectChanged, specChanged } from '../predicates.ts';
import { RemediationReconciler } from './reconciler.ts';

const NAME = 'remediation';

export interface RemediationControllerDeps {
  informers: { remediations: SupervisedInformer<Remediation>; projects: SupervisedInformer<Project> };
  projects: Pick<ProjectLookup, 'getProject' | 'resolveStage'>;
  statusClient: { patchStatus(namespace: string, name: string, status: RemediationStatus): Promise<unknown> };
  /** The stage list could not be read (Git down): look again after this long. */
  retryMs: number;
  /** Action types nothing built in handles go to an external executor (--action-sink). */
  externalActions: boolean;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** False while this replica may not act (a Lease not renewed in time): no reconcile starts. */
  mayAct: () => boolean;
}

export function setupRemediationController(manager: Manager, deps: RemediationControllerDeps): void {
  const { remediations, projects } = deps.informers;
  const { clock, metrics } = deps;
  const byProject = new CacheIndex<Remediation>((r) => projectGroup(r.metadata.namespace, r.spec.project));
  remediations.addHandler(byProject.handler());

  const queue = new WorkQueue({
    clock,
    rateLimiter: defaultControllerRateLimiter(clock),
    metrics: metrics.queue(NAME),
  });
  const reconciler = new RemediationReconciler({
    clock,
    cache: remediations,
    projects: deps.projects,
    writer: {
      patchStatus: (r, status) =>
        deps.statusClient.patchStatus(r.metadata.namespace ?? 'default', r.metadata.name ?? '', status),
    },
    retryMs: deps.retryMs,
    externalActions: deps.externalActions,
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
    waitFor: [projects, remediations],
  });

  const enqueue = (key: string): void => controller.enqueue(key);
  remediations.addHandler(enqueueMapped<Remediation>(enqueue, { map: (r) => [keyOf(r)], update: specChanged }));
  projects.addHandler(
    enqueueMapped<Project>(enqueue, {
      map: (p) => remediationsForProject(byProject, p),
      update: projectChanged,
      delete: true,
    }),
  );
  manager.add(controllerRunnable(controller));
}

/** The Remediations of a Project: its stage list decides whether theirs exists. */
export function remediationsForProject(byProject: CacheIndex<Remediation>, project: Project): string[] {
  return byProject.get(projectGroup(project.metadata.namespace, project.metadata.name ?? '')).map(keyOf);
}
