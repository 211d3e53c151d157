// The ProblemEvent controller's wiring (Flux's SetupWithManager): its queue and workers, the caches
// it reads, and which events wake which problems. Watches only enqueue; the reconciler re-reads.
import type { Logger } from 'pino';
import { ANNOTATIONS, API_VERSION, KINDS, isTerminal } from '../../api/index.ts';
import type { Approval, ProblemEvent, ProblemEventStatus, Project, Remediation } from '../../api/index.ts';
import { BackgroundActions } from '../../actions/runner.ts';
import type { ProblemNotifier } from '../../notify/notifier.ts';
import type { ClaimStore } from '../../kube/claim-leases.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { Clock } from '../../runtime/clock.ts';
import { Controller } from '../../runtime/controller.ts';
import type { CacheSync } from '../../runtime/controller.ts';
import { enqueueMapped, enqueueOwnKey } from '../../runtime/informer.ts';
import type { SupervisedInformer } from '../../runtime/informer.ts';
import type { Manager } from '../../runtime/manager.ts';
import { defaultControllerRateLimiter } from '../../runtime/rate-limiter.ts';
import { refKey } from '../../runtime/keys.ts';
import { WorkQueue } from '../../runtime/workqueue.ts';
import { CacheIndex } from '../cache-index.ts';
import { keyOf, projectGroup } from '../keys.ts';
import { projectChanged, specChanged, stageHeadsMoved } from '../predicates.ts';
import { FreshReads } from './fresh-cache.ts';
import type { ProblemLoopPorts } from './ports.ts';
import { ProblemEventReconciler } from './reconciler.ts';
import { LeaseTurnClaims, holderState } from './service-turn.ts';
import type { HolderRef, HolderState } from './service-turn.ts';
import { leftTheLine, nextInLine } from './wake.ts';

const NAME = 'problemevent';
/** How long in-flight reconciles may finish when leadership ends or the process stops. */
const DRAIN_MS = 25_000;

export interface ProblemEventControllerDeps {
  informers: {
    problems: SupervisedInformer<ProblemEvent>;
    projects: SupervisedInformer<Project>;
    remediations: SupervisedInformer<Remediation>;
    approvals: SupervisedInformer<Approval>;
  };
  /** What the loop needs from the world; the caches, the status writer and the background runner are built here. */
  loop: Omit<ProblemLoopPorts, 'clock' | 'cache' | 'writer' | 'background' | 'turns' | 'approvals'>;
  /** Conditional status writes (on the resourceVersion read), and the live read a turn take-over is decided on. */
  client: {
    get(namespace: string, name: string): Promise<ProblemEvent | undefined>;
    patchStatus(
      namespace: string,
      name: string,
      status: ProblemEventStatus,
      resourceVersion?: string,
    ): Promise<ProblemEvent>;
    /** Merge-patch of the object itself; with metadata.resourceVersion, conditional on it. */
    patch(
      namespace: string,
      name: string,
      patch: { metadata: { annotations: Record<string, string>; resourceVersion?: string } },
    ): Promise<ProblemEvent>;
  };
  /** Where a service's turn is claimed (Leases in the controller's namespace). */
  claims: ClaimStore;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
  workers: number;
  metrics: Metrics;
  /** False while this replica may not act (a Lease not renewed in time): no reconcile starts. */
  mayAct: () => boolean;
  /** Told of every status the loop writes (notifications); never waits, never throws. */
  notifier?: ProblemNotifier;
  /** More than the caches to wait for before acting, e.g. the server runbooks call back to. */
  waitFor?: readonly CacheSync[];
}

export function setupProblemEventController(manager: Manager, deps: ProblemEventControllerDeps): void {
  const { problems, projects, remediations, approvals } = deps.informers;
  const { clock, metrics } = deps;
  // Turn-taking and limits read a problem's siblings on every reconcile, the Project's budgets and
  // circuit breaker its problems; Approvals are read per attempt. Indexes registered before any
  // handler that reads them.
  const byService = new CacheIndex<ProblemEvent>(serviceGroup);
  const byProject = new CacheIndex<ProblemEvent>((p) => projectGroup(p.metadata.namespace, p.spec.project));
  problems.addHandler(byService.handler());
  problems.addHandler(byProject.handler());
  const approvalsByAttempt = new CacheIndex<Approval>((a) =>
    attemptGroup(a.metadata.namespace, a.spec.problem, a.spec.attempt),
  );
  approvals.addHandler(approvalsByAttempt.handler());
  // Our own status writes stay visible to the next reconcile until the informer has them.
  const fresh = new FreshReads();
  problems.addHandler(fresh.handler());

  const queue = new WorkQueue({
    clock,
    rateLimiter: defaultControllerRateLimiter(clock),
    metrics: metrics.queue(NAME),
  });
  // A background action that settles wakes its problem.
  const background = new BackgroundActions((key) => queue.add(key));
  metrics.observeBackgroundActions(() => background.running());
  metrics.observeProblems(() => problems.list());

  // One remediation at a time per service, claimed on the API server.
  const turns = new LeaseTurnClaims(
    deps.claims,
    {
      cached: (ref) => holderOf(fresh.read(refKey(ref), problems.get(refKey(ref))), ref),
      live: async (ref) => holderState(await deps.client.get(ref.namespace, ref.name), ref),
    },
    deps.log.child({ component: 'service-turn' }),
  );

  const reconciler = new ProblemEventReconciler({
    ...deps.loop,
    turns,
    clock: () => new Date(clock.now()),
    cache: {
      get: (key) => fresh.read(key, problems.get(key)),
      siblings: (problem) => byService.get(serviceGroup(problem)),
      inProject: (problem) => byProject.get(projectGroup(problem.metadata.namespace, problem.spec.project)),
    },
    approvals: {
      forAttempt: (namespace, problem, attempt) => approvalsByAttempt.get(attemptGroup(namespace, problem, attempt)),
    },
    writer: {
      patchStatus: async (problem, status) => {
        // Conditional on the version read: a decision made on a stale view must not land.
        const stored = await deps.client.patchStatus(
          problem.metadata.namespace ?? 'default',
          problem.metadata.name ?? '',
          status,
          problem.metadata.resourceVersion,
        );
        fresh.remember(keyOf(stored), stored);
        deps.notifier?.publish(stored);
        return stored;
      },
      annotate: async (problem, annotations) => {
        const { namespace = 'default', name = '', resourceVersion } = problem.metadata;
        const stored = await deps.client.patch(namespace, name, {
          metadata: { annotations, ...(resourceVersion ? { resourceVersion } : {}) },
        });
        fresh.remember(keyOf(stored), stored);
        return stored;
      },
      recordEvent: (problem, type, reason, message) =>
        deps.events.record(
          { apiVersion: API_VERSION, kind: KINDS.ProblemEvent, metadata: problem.metadata },
          type,
          reason,
          reason,
          message,
        ),
    },
    background,
  });
  // Act only on a complete picture: turn-taking and limits read the cache.
  const controller = new Controller({
    name: NAME,
    queue,
    reconciler,
    log: deps.log,
    clock,
    workers: deps.workers,
    metrics: metrics.controller,
    mayAct: deps.mayAct,
    waitFor: [projects, remediations, problems, approvals, ...(deps.waitFor ?? [])],
  });

  const enqueue = (key: string): void => controller.enqueue(key);
  problems.addHandler(enqueueOwnKey((key, priority) => controller.enqueue(key, priority)));
  // A problem that leaves the line of its service (finishes, is suspended or deleted) wakes the next in line.
  problems.addHandler(
    enqueueMapped<ProblemEvent>(enqueue, {
      map: (p) => nextInLine(p, byService.get(serviceGroup(p))),
      add: false,
      update: leftTheLine,
      delete: true,
    }),
  );
  // A finished remediation frees its Project's in-flight budget (or trips its circuit breaker).
  problems.addHandler(
    enqueueMapped<ProblemEvent>(enqueue, {
      map: (p) => waitingInProjectOf(byProject, p),
      add: false,
      update: becameTerminal,
    }),
  );
  // A person's answer wakes the problem it answers.
  approvals.addHandler(enqueueMapped<Approval>(enqueue, { map: (a) => [problemOfApproval(a)], update: false }));
  // The Project controller writes status on every poll; only a new spec or stage list matters here.
  projects.addHandler(
    enqueueMapped<Project>(enqueue, { map: (p) => problemsForProject(byProject, p), update: projectChanged }),
  );
  // The branch watch saw a stage branch move: its open problems look for a push that broke a hold.
  projects.addHandler(
    enqueueMapped<Project>(enqueue, {
      map: (p) => problemsForProject(byProject, p),
      add: false,
      update: stageHeadsMoved,
    }),
  );
  remediations.addHandler(
    enqueueMapped<Remediation>(enqueue, { map: (r) => problemsForRemediation(byProject, r), update: specChanged }),
  );

  manager.add({
    name: NAME,
    needsLeaderElection: true,
    start: async (stop) => {
      try {
        await controller.run(stop, DRAIN_MS);
      } finally {
        background.close();
      }
    },
  });
}

/** The group of a problem's siblings: same namespace, project, stage and service. */
export function serviceGroup(p: ProblemEvent): string {
  return `${p.metadata.namespace ?? ''}/${p.spec.project}/${p.spec.stage}/${p.spec.service}`;
}

function isOpen(p: ProblemEvent): boolean {
  return !isTerminal(p.status?.phase);
}

/** A problem reached a final phase. */
export function becameTerminal(before: ProblemEvent, after: ProblemEvent): boolean {
  return !isTerminal(before.status?.phase) && isTerminal(after.status?.phase);
}

/** The open problems of a problem's Project that a person has not suspended (they wake when the annotation goes). */
export function waitingInProjectOf(byProject: CacheIndex<ProblemEvent>, problem: ProblemEvent): string[] {
  return byProject
    .get(projectGroup(problem.metadata.namespace, problem.spec.project))
    .filter((p) => isOpen(p) && p.metadata.annotations?.[ANNOTATIONS.suspend] !== 'true')
    .map(keyOf);
}

/** The ProblemEvent an Approval answers. */
export function problemOfApproval(approval: Approval): string {
  return refKey({ namespace: approval.metadata.namespace, name: approval.spec.problem });
}

/** The Approvals of one attempt of a problem. */
function attemptGroup(namespace: string | undefined, problem: string, attempt: number): string {
  return `${namespace ?? ''}/${problem}/${attempt}`;
}

/** A cached problem's part in a turn claim; undefined when the cache does not have it. */
function holderOf(problem: ProblemEvent | undefined, ref: HolderRef): HolderState | undefined {
  return problem ? holderState(problem, ref) : undefined;
}

/** The open problems of a Project: a new spec or stage list may change what they can do. */
export function problemsForProject(byProject: CacheIndex<ProblemEvent>, project: Project): string[] {
  return byProject
    .get(projectGroup(project.metadata.namespace, project.metadata.name ?? ''))
    .filter(isOpen)
    .map(keyOf);
}

/** The open problems of a Remediation's service: its policy, limits and evaluation settings apply to them. */
export function problemsForRemediation(byProject: CacheIndex<ProblemEvent>, remediation: Remediation): string[] {
  return byProject
    .get(projectGroup(remediation.metadata.namespace, remediation.spec.project))
    .filter((p) => p.spec.service === remediation.spec.service && isOpen(p))
    .map(keyOf);
}
