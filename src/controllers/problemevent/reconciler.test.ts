// Orchestration of the loop over in-memory ports: which step follows which, what the status says.
// The same reconciler runs against the real API server, Git server, Helm and Prometheus in
// test/integration/loop.test.ts.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type {
  Approval,
  ProblemEvent,
  ProblemEventStatus,
  Project,
  Remediation,
  RemediationAction,
} from '../../api/index.ts';
import { REASONS } from '../../api/index.ts';
import { actionRegistry } from '../../actions/registry.ts';
import { BackgroundActions } from '../../actions/runner.ts';
import type { ActionCheck, ActionContext, ActionHandler, ActionOutcome } from '../../actions/types.ts';
import { FeatureToggleAction, ScaleAction } from '../../actions/values.ts';
import type { ValuesActionOptions } from '../../actions/values.ts';
import type {
  Applier,
  ApplyRequest,
  ApplyResult,
  RolloutObservation,
  SyncState,
  SyncTarget,
} from '../../apply/index.ts';
import { ReboundError } from '../../errors.ts';
import type { Forge, PullRequest, PullRequestDraft } from '../../forge/index.ts';
import { KubeError } from '../../kube/errors.ts';
import type { ReconcileContext } from '../../runtime/controller.ts';
import type { TaskDispatcher, TaskRequest } from '../../actions/keptn-task.ts';
import type { CommitRequest, RemediationSequence, StageRepository } from '../../remediation/stage.ts';
import type { EvaluationOutcome, PolicyResolution, ProblemLoopPorts } from './ports.ts';
import { ProblemEventReconciler } from './reconciler.ts';
import { RecordingTracer } from '../../observability/tracing/tracer.ts';
import type { FinishedSpan, Tracer } from '../../observability/tracing/tracer.ts';
import { parseTraceparent } from '../../observability/tracing/traceparent.ts';

const VALUES = 'replicaCount: 1 # keep\nfeatureFlags:\n  EnablePromotion: true\n';

/** A forge that records what it was told and answers pull request reads from `pulls`. */
class FakeForge implements Forge {
  readonly type = 'gitea' as const;
  statuses: string[] = [];
  comments: string[] = [];
  /** Pull requests closed unmerged by Rebound, with the comment that went before. */
  closed: string[] = [];
  pulls: PullRequest[] = [];
  opened: PullRequestDraft[] = [];
  readError: Error | undefined;

  setCommitStatus(): Promise<void> {
    return Promise.reject(new Error('statuses go through ForgeLookup.postStatus'));
  }
  openPullRequest(draft: PullRequestDraft): Promise<PullRequest> {
    this.opened.push(draft);
    const pull: PullRequest = {
      number: this.pulls.length + 1,
      url: `http://forge/pulls/${String(this.pulls.length + 1)}`,
      state: 'open',
    };
    this.pulls.push(pull);
    return Promise.resolve(pull);
  }
  pullRequest(number: number): Promise<PullRequest> {
    if (this.readError) return Promise.reject(this.readError);
    const pull = this.pulls[number - 1];
    return pull ? Promise.resolve(pull) : Promise.reject(new Error(`no pull request ${String(number)}`));
  }
  comment(): Promise<void> {
    return Promise.reject(new Error('comments go through ForgeLookup.postComment'));
  }
  updatePullRequest(): Promise<void> {
    return Promise.resolve();
  }
}

class World {
  now = new Date('2026-11-22T12:00:00Z');
  problem: ProblemEvent = {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: {
      name: 'p1',
      namespace: 'sockshop',
      uid: 'uid-1',
      generation: 1,
      creationTimestamp: new Date('2026-11-22T11:59:00Z'),
    },
    spec: {
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      problemTitle: 'response_time_p90',
      state: 'OPEN',
    },
  };
  project: Project | undefined = {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Project',
    metadata: { name: 'sockshop', namespace: 'sockshop' },
    spec: { git: { url: 'http://127.0.0.1/x.git' } },
  };
  actions: RemediationAction[] = [
    { name: 'scale up', action: 'scale', value: '+1' },
    { name: 'promotion off', action: 'featuretoggle', value: 'EnablePromotion:off' },
  ];
  files = new Map<string, string>([['carts/values.yaml', VALUES]]);
  commits: { sha: string; text: string; attempt: number }[] = [];
  applied: ApplyRequest[] = [];
  events: string[] = [];
  evaluations: (EvaluationOutcome | Error)[] = [];
  commitError: Error | undefined;
  applyError: Error | undefined;
  recorded: string[] = [];
  writeError: Error | undefined;
  writes = 0;
  /** Every status written, in order (the kstatus table checks each one). */
  written: ProblemEventStatus[] = [];
  remediation: Remediation | undefined;
  stageMode: 'automated' | 'manual' | 'disabled' = 'automated';
  /** Replaces the policy the lookup finds (no policy, no matching entry). */
  policyOverride: PolicyResolution | undefined;
  /** Other problems of the same service, as the cache holds them. */
  others: ProblemEvent[] = [];
  /** Other problems of the Project (other services and stages). */
  elsewhere: ProblemEvent[] = [];
  /** Approvals people created, as the informer cache holds them. */
  approvals: Approval[] = [];
  /** What the scripted outside action (a stand-in for a webhook or an executor) does, in order. */
  outside: ScriptedAction = new ScriptedAction('webhook');
  external: ScriptedAction | undefined;
  enqueued: string[] = [];
  /** Another problem holding the service's turn, or undefined when it is free. */
  turnHolder: string | undefined;
  turnError: Error | undefined;
  turnCalls: string[] = [];
  deleted = false;
  /** Spans of the problem's trace, when the test turns tracing on. */
  tracer: Tracer | undefined;
  annotations: Record<string, string>[] = [];
  background = new BackgroundActions((key) => void this.enqueued.push(key));
  /** The shipyard's remediation sequence for the stage (tasks after the action, evaluation timeframe). */
  sequence: RemediationSequence | undefined;
  /** Where sequence tasks go; undefined = no executor sink. */
  tasks: ScriptedTasks | undefined;
  /** Every evaluation's SLI window. */
  windows: { start: Date; end: Date }[] = [];
  /** The Project's forge stand-in (commit statuses, merge-mode pull requests). */
  forge = new FakeForge();
  /** Proposal branches pushed (merge mode): branch → commit. */
  proposals = new Map<string, string>();
  /** What each look at the rollout sees (the last one stays); undefined: the controller does not wait for rollouts. */
  rollouts: RolloutObservation[] | undefined;

  repository: StageRepository = {
    commitAction: (req: CommitRequest) => {
      if (this.commitError) return Promise.reject(this.commitError);
      const existing = this.commits.find((c) => c.attempt === req.attempt);
      if (existing) return Promise.resolve({ kind: 'already-committed', sha: existing.sha });
      const before = this.files.get(req.path) ?? '';
      const edit = req.edit(before);
      if ('unchanged' in edit) return Promise.resolve({ kind: 'no-change', sha: 'head', reason: edit.unchanged });
      const sha = `sha${this.commits.length + 1}`.padEnd(40, '0');
      this.files.set(req.path, edit.text);
      this.commits.push({ sha, text: edit.text, attempt: req.attempt });
      return Promise.resolve({ kind: 'committed', sha });
    },
    readFileAt: (commit) => Promise.resolve(this.commits.find((c) => c.sha === commit)?.text),
    readFileAtHead: (_branch, path) => {
      const text = this.files.get(path);
      return Promise.resolve(
        text === undefined ? undefined : { commit: (this.commits.at(-1)?.sha ?? 'base').padEnd(40, '0'), text },
      );
    },
    materialize: () => Promise.resolve(),
    proposeAction: (req: CommitRequest, branch: string) => {
      const found = this.proposals.get(branch);
      if (found) return Promise.resolve({ kind: 'already-committed', sha: found });
      const edit = req.edit(this.files.get(req.path) ?? '');
      if ('unchanged' in edit) return Promise.resolve({ kind: 'no-change', sha: 'head', reason: edit.unchanged });
      const sha = `prop${this.proposals.size + 1}`.padEnd(40, '0');
      this.proposals.set(branch, sha);
      return Promise.resolve({ kind: 'committed', sha });
    },
    contains: (_branch, ancestor, descendant) =>
      Promise.resolve(this.descendants.get(descendant)?.includes(ancestor) ?? false),
  };
  /** Commits pushed by a person on top: descendant → the commits its history holds. */
  descendants = new Map<string, string[]>();
  stageApply: 'kubernetes' | 'helm' | 'flux' | 'argocd' = 'kubernetes';
  /** What the Flux stand-in reports, in order; the last one stays. */
  syncStates: SyncState[] = [];
  syncChecks: SyncTarget[] = [];
  fluxError: Error | undefined;
  /** What the kubernetes applier adds to its result (a GitOps owner's warning). */
  applyExtra: Partial<ApplyResult> = {};

  flux: Applier = {
    name: 'flux',
    apply: (request) => {
      if (this.fluxError) return Promise.reject(this.fluxError);
      this.applied.push(request);
      return Promise.resolve({
        applier: 'flux',
        detail: `asked Flux to reconcile Kustomization flux-system/carts`,
        sync: { engine: 'flux', objects: ['flux-system/carts'], requestedTime: this.now.toISOString() },
      });
    },
  };

  argocd: Applier = {
    name: 'argocd',
    apply: (request) => {
      this.applied.push(request);
      return Promise.resolve({
        applier: 'argocd',
        detail: 'asked Argo CD to refresh Application argocd/carts',
        sync: { engine: 'argocd', objects: ['argocd/carts'], requestedTime: this.now.toISOString() },
      });
    },
  };

  applier: Applier = {
    name: 'kubernetes',
    apply: (request) => {
      if (this.applyError) return Promise.reject(this.applyError);
      this.applied.push(request);
      return Promise.resolve({
        applier: 'kubernetes',
        detail: `replicas ${String(request.replicas)}`,
        ...this.applyExtra,
      });
    },
  };

  valuesOptions(): ValuesActionOptions {
    return {
      appliers: {
        kubernetes: this.applier,
        helm: this.applier,
        flux: this.flux,
        argocd: this.argocd,
        none: this.applier,
      },
      workDir: '/tmp/rebound-test',
      secrets: { readSecret: () => Promise.resolve(undefined) },
    };
  }

  ports(): ProblemLoopPorts {
    const policy = (): PolicyResolution =>
      this.policyOverride ?? {
        ok: true,
        source: { kind: 'Git', branch: 'production', path: 'carts/remediation.yaml' },
        actions: this.actions,
        valuesFile: 'carts/values.yaml',
        wait: '2m',
      };
    return {
      clock: () => {
        const now = this.now;
        if (this.clockTick) this.advance(this.clockTick);
        return now;
      },
      cache: {
        get: () => (this.deleted ? undefined : this.problem),
        siblings: () => [...this.others, this.problem],
        inProject: () => [...this.others, ...this.elsewhere, this.problem],
      },
      turns: {
        claim: (_p, options) => {
          this.turnCalls.push(options.confirm ? 'claim confirmed' : 'claim');
          if (this.turnError) return Promise.reject(this.turnError);
          return Promise.resolve(this.turnHolder ? { held: false, holder: this.turnHolder } : { held: true });
        },
        release: () => {
          this.turnCalls.push('release');
          return Promise.resolve();
        },
        forget: (key) => {
          this.turnCalls.push(`forget ${key}`);
          return Promise.resolve();
        },
      },
      approvals: {
        forAttempt: (_ns, name, attempt) =>
          this.approvals.filter((a) => a.spec.problem === name && a.spec.attempt === attempt),
      },
      writer: {
        patchStatus: (p, status: ProblemEventStatus) => {
          this.writes++;
          if (this.writeError) return Promise.reject(this.writeError);
          this.written.push(structuredClone(status));
          this.problem = { ...p, status: structuredClone(status) };
          return Promise.resolve(this.problem);
        },
        recordEvent: (_p, type, reason, message) => {
          this.events.push(`${type} ${reason}: ${message}`);
          return Promise.resolve();
        },
        annotate: (p, annotations) => {
          this.annotations.push(annotations);
          this.problem = {
            ...p,
            metadata: { ...p.metadata, annotations: { ...p.metadata.annotations, ...annotations } },
          };
          return Promise.resolve(this.problem);
        },
      },
      ...(this.tracer ? { tracer: this.tracer } : {}),
      projects: {
        getProject: () => this.project,
        resolveStage: (_p, name) =>
          Promise.resolve(
            name === 'production'
              ? {
                  name,
                  branch: 'production',
                  namespace: 'sockshop-production',
                  remediation: this.stageMode,
                  apply: this.stageApply,
                  gitops: { timeout: '1m' },
                  ...(this.sequence ? { sequence: this.sequence } : {}),
                }
              : undefined,
          ),
        findRemediation: () => this.remediation,
      },
      policies: { resolve: () => Promise.resolve(policy()), evaluationWait: () => '2m' },
      repositories: { forProject: () => Promise.resolve(this.repository) },
      actions: actionRegistry({
        scale: new ScaleAction(this.valuesOptions()),
        featuretoggle: new FeatureToggleAction(this.valuesOptions()),
        webhook: this.outside,
        ...(this.external ? { external: this.external } : {}),
      }),
      background: this.background,
      forges: {
        forProject: (project) => Promise.resolve(project.spec.forge ? this.forge : undefined),
        postStatus: (project, status) => {
          if (project.spec.forge)
            this.forge.statuses.push(`${status.sha.slice(0, 5)} ${status.state}: ${status.description}`);
        },
        postComment: (_project, number, body) => void this.forge.comments.push(`#${String(number)} ${body}`),
        closePullRequest: (_project, number, why) => void this.forge.closed.push(`#${String(number)} ${why}`),
      },
      ...(this.tasks ? { tasks: this.tasks } : {}),
      evaluator: {
        evaluate: ({ window }) => {
          this.windows.push(window);
          const next = this.evaluations.shift();
          if (!next) throw new Error('no evaluation scripted');
          return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
        },
      },
      metrics: {
        attempt: (action, result) => void this.recorded.push(`attempt ${action} ${result}`),
        evaluation: (result) => void this.recorded.push(`evaluation ${result}`),
        revert: (reason) => void this.recorded.push(`revert ${reason}`),
      },
      sync: {
        check: async (target, contains) => {
          this.syncChecks.push(target);
          const state = this.syncStates.length > 1 ? this.syncStates.shift() : this.syncStates[0];
          if (!state) throw new Error('no sync state scripted');
          // As the real check does: a later revision counts when its history holds the commit.
          if (
            state.kind === 'synced' &&
            state.revision !== target.commit &&
            !(await contains(target.commit, state.revision))
          ) {
            return { kind: 'pending', detail: `applied ${state.revision}, which does not hold the commit` };
          }
          return state;
        },
      },
      ...(this.rollouts
        ? {
            rollouts: {
              observe: () => {
                const seen = this.rollouts && this.rollouts.length > 1 ? this.rollouts.shift() : this.rollouts?.[0];
                return seen ? Promise.resolve(seen) : Promise.reject(new Error('no rollout scripted'));
              },
            },
          }
        : {}),
      settings: {
        turnPollMs: 1000,
        evaluationRetryMs: 30_000,
        stalledRecheckMs: 300_000,
        syncPollMs: 2_000,
        rolloutPollMs: 1_000,
        rolloutTimeoutMs: 60_000,
      },
    };
  }

  async step(signal = new AbortController().signal): Promise<number | undefined> {
    const ctx: ReconcileContext = { log: pino({ level: 'silent' }), reconcileId: 'r', signal };
    const result = await new ProblemEventReconciler(this.ports()).reconcile('sockshop/p1', ctx);
    return result?.requeueAfterMs;
  }

  /** Milliseconds each clock reading moves the world on, as a real clock does between two reads. */
  clockTick = 0;

  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }

  /** Lets background actions settle (they run on the microtask queue in these tests). */
  async settle(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** A person's Approval, created now (as the API server would stamp it). */
  answer(user: string, decision: 'Approve' | 'Reject', attempt = 1, groups: string[] = ['sre']): void {
    this.approvals.push({
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Approval',
      metadata: {
        name: `${user}-${this.approvals.length}`,
        namespace: 'sockshop',
        creationTimestamp: new Date(this.now.getTime() + 1000),
      },
      spec: { problem: 'p1', attempt, decision, user, groups },
    });
  }

  /** What a runbook's callback writes (the ingest route, through the API server). */
  callback(status: 'succeeded' | 'failed', message: string): void {
    const attempts = (this.problem.status?.attempts ?? []).map((a, i, all) =>
      i === all.length - 1 && a.execution
        ? {
            ...a,
            execution: {
              ...a.execution,
              callbackStatus: status,
              callbackMessage: message,
              callbackTime: this.now.toISOString(),
            },
          }
        : a,
    );
    this.problem = { ...this.problem, status: { ...this.problem.status, attempts } };
  }

  /** What the ingest route writes for an executor's `sh.keptn.event.<task>.finished`. */
  taskAnswer(task: string, status: 'succeeded' | 'failed', message: string): void {
    const attempts = (this.problem.status?.attempts ?? []).map((a, i, all) =>
      i === all.length - 1
        ? {
            ...a,
            tasks: (a.tasks ?? []).map((t) =>
              t.name === task
                ? { ...t, callbackStatus: status, callbackMessage: message, callbackTime: this.now.toISOString() }
                : t,
            ),
          }
        : a,
    );
    this.problem = { ...this.problem, status: { ...this.problem.status, attempts } };
  }
}

/** The executor sink for sequence tasks: records what was sent, answers as scripted (hangs when out of script). */
class ScriptedTasks implements TaskDispatcher {
  outcomes: (ActionOutcome | Error)[] = [];
  sent: TaskRequest[] = [];

  dispatch(request: TaskRequest): Promise<ActionOutcome> {
    this.sent.push(request);
    const next = this.outcomes.shift();
    if (!next) return new Promise(() => undefined);
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }
}

/** An action outside Git whose outcomes the test scripts. */
class ScriptedAction implements ActionHandler {
  readonly executor: string;
  readonly background = true;
  outcomes: (ActionOutcome | Error)[] = [];
  refusal: ActionCheck | undefined;
  runs: ActionContext[] = [];

  constructor(executor: string) {
    this.executor = executor;
  }

  check(): ActionCheck {
    return this.refusal ?? { ok: true };
  }

  run(context: ActionContext): Promise<ActionOutcome> {
    this.runs.push(context);
    const next = this.outcomes.shift();
    if (!next) return new Promise(() => undefined); // hangs, like an endpoint that never answers
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }
}

const pass: EvaluationOutcome = {
  result: 'pass',
  score: 100,
  indicatorResults: [{ metric: 'response_time_p90', value: 200, status: 'pass', score: 1 }],
  message: '',
};
const fail: EvaluationOutcome = {
  result: 'fail',
  score: 0,
  indicatorResults: [{ metric: 'response_time_p90', value: 900, status: 'fail', score: 0 }],
  message: '',
};

describe('ProblemEventReconciler', () => {
  it('commits, applies, waits, evaluates and resolves', async () => {
    const w = new World();
    // One reconcile commits, then applies from the object its status write returned (chained steps).
    expect(await w.step()).toBe(120_000);
    expect(w.commits[0]?.text).toBe('replicaCount: 2 # keep\nfeatureFlags:\n  EnablePromotion: true\n');
    expect(w.problem.status?.phase).toBe('Evaluating');
    expect(w.problem.status?.attempts?.[0]?.committedTime).toBeDefined();
    expect(w.applied[0]?.replicas).toBe(2);
    expect(w.problem.status?.nextEvaluationTime).toBe('2026-11-22T12:02:00.000Z');
    w.advance(60_000);
    expect(await w.step()).toBe(60_000);
    w.advance(60_000);
    w.evaluations.push(pass);
    expect(await w.step()).toBeUndefined();
    const status = w.problem.status;
    expect(status?.phase).toBe('Resolved');
    expect(status?.attempts).toHaveLength(1);
    expect(status?.attempts?.[0]).toMatchObject({
      index: 1,
      action: 'scale',
      value: '+1',
      result: 'pass',
      score: 100,
      commit: w.commits[0]?.sha,
    });
    expect(status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'EvaluationPassed',
    });
    expect(w.events.map((e) => e.split(':')[0])).toEqual([
      'Normal Committed',
      'Normal Applied',
      'Normal Evaluated',
      'Normal Resolved',
    ]);
  });

  it('writes a commit and the quick apply chained after it in one status write', async () => {
    const w = new World();
    await w.step();
    expect(w.writes).toBe(1);
    expect(w.written[0]?.phase).toBe('Evaluating');
    expect(w.written[0]?.attempts?.[0]).toMatchObject({ commit: w.commits[0]?.sha, appliedTime: w.now.toISOString() });
    expect(w.written[0]?.attempts?.[0]?.committedTime).toBeDefined();
    expect(w.events.map((e) => e.split(':')[0])).toEqual(['Normal Committed', 'Normal Applied']);
  });

  it('shows the commit before a helm upgrade starts, which may take minutes', async () => {
    const w = new World();
    w.stageApply = 'helm';
    await w.step();
    expect(w.written.map((s) => s.phase)).toEqual(['Remediating', 'Evaluating']);
    expect(w.written[0]?.attempts?.[0]?.commit).toBe(w.commits[0]?.sha);
    expect(w.written[0]?.attempts?.[0]?.appliedTime).toBeUndefined();
    expect(w.written[0]?.conditions?.find((c) => c.type === 'Reconciling')?.reason).toBe('ActionCommitted');
  });

  it('writes a carried commit status when the chain is cut before the apply', async () => {
    const w = new World();
    const stop = new AbortController();
    const commit = w.repository.commitAction.bind(w.repository);
    w.repository = {
      ...w.repository,
      commitAction: (req, signal) => {
        stop.abort(); // shutting down while the push runs
        return commit(req, signal);
      },
    };
    expect(await w.step(stop.signal)).toBe(1);
    expect(w.applied).toHaveLength(0);
    expect(w.written.map((s) => s.phase)).toEqual(['Remediating']);
    expect(w.written[0]?.attempts?.[0]?.commit).toBe(w.commits[0]?.sha);
  });

  it('finds its commit again when the status write after the apply is refused', async () => {
    const w = new World();
    w.writeError = new KubeError('conflict (409)', { code: 'KubeConflict', retryable: true, status: 409 });
    await expect(w.step()).rejects.toThrow('409');
    expect(w.commits).toHaveLength(1);
    expect(w.problem.status).toBeUndefined();
    w.writeError = undefined;
    await w.step();
    expect(w.commits).toHaveLength(1);
    expect(w.problem.status?.phase).toBe('Evaluating');
    expect(w.problem.status?.attempts?.[0]?.commit).toBe(w.commits[0]?.sha);
    expect(w.events.filter((e) => e.startsWith('Normal Committed')).at(-1)).toContain('found its earlier commit');
  });

  it('waits for the rollout after the apply, then evaluates from the live time', async () => {
    const w = new World();
    w.applyExtra = { rollout: true };
    const figures = { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 };
    const waiting: RolloutObservation = {
      kind: 'observed',
      workloads: ['Deployment/carts'],
      rollout: {
        kind: 'progressing',
        reason: 'AvailableReplicas',
        message: 'Deployment/carts: 1 of 2 available',
        figures,
      },
    };
    w.rollouts = [waiting];
    // Commit, apply and the first look in one reconcile: not live yet, look again at the poll pace.
    expect(await w.step()).toBe(1_000);
    expect(w.problem.status?.phase).toBe('Remediating');
    expect(w.problem.status?.nextEvaluationTime).toBeUndefined();
    expect(w.problem.status?.attempts?.[0]).toMatchObject({
      appliedTime: '2026-11-22T12:00:00.000Z',
      rollout: { state: 'Progressing', workloads: ['Deployment/carts'], readyReplicas: 1, reason: 'AvailableReplicas' },
    });
    expect(w.problem.status?.attempts?.[0]?.liveTime).toBeUndefined();
    expect(w.problem.status?.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({
      reason: 'WaitingForRollout',
      message: 'attempt 1: waiting for the rollout: Deployment/carts: 1 of 2 available',
    });
    // A look that sees nothing new writes nothing.
    const writes = w.writes;
    w.advance(1_000);
    expect(await w.step()).toBe(1_000);
    expect(w.writes).toBe(writes);
    w.advance(2_000);
    w.rollouts = [
      { ...waiting, rollout: { kind: 'complete', figures: { ...figures, readyReplicas: 2, availableReplicas: 2 } } },
    ];
    expect(await w.step()).toBe(120_000);
    const live = '2026-11-22T12:00:03.000Z';
    expect(w.problem.status?.attempts?.[0]).toMatchObject({
      liveTime: live,
      rollout: { state: 'Complete', readyReplicas: 2, availableReplicas: 2 },
    });
    expect(w.problem.status?.phase).toBe('Evaluating');
    expect(w.problem.status?.nextEvaluationTime).toBe('2026-11-22T12:02:03.000Z');
    w.advance(120_000);
    w.evaluations.push(pass);
    await w.step();
    expect(w.problem.status?.phase).toBe('Resolved');
    expect(w.windows[0]?.start.toISOString()).toBe(live);
    // The window is kept with the verdict: the UI charts the SLIs over it.
    expect(w.problem.status?.attempts?.[0]).toMatchObject({
      evaluationStart: live,
      evaluationTime: '2026-11-22T12:02:03.000Z',
    });
    expect(w.events.map((e) => e.split(':')[0])).toEqual([
      'Normal Committed',
      'Normal Applied',
      'Normal RolledOut',
      'Normal Evaluated',
      'Normal Resolved',
    ]);
  });

  it('a rollout that does not finish within the timeout fails the attempt and escalates', async () => {
    const w = new World();
    w.applyExtra = { rollout: true };
    const figures = { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 };
    w.rollouts = [
      {
        kind: 'observed',
        workloads: ['Deployment/carts'],
        rollout: {
          kind: 'progressing',
          reason: 'AvailableReplicas',
          message: 'Deployment/carts: 1 of 2 available',
          figures,
        },
      },
    ];
    expect(await w.step()).toBe(1_000);
    w.advance(60_000);
    // Attempt 1 times out; attempt 2 is committed and applied at once and waits for its own rollout.
    expect(await w.step()).toBe(1_000);
    const [first, second] = w.problem.status?.attempts ?? [];
    expect(first).toMatchObject({
      result: 'fail',
      rollout: { state: 'TimedOut' },
      message: 'the rollout did not finish within 60s (--rollout-timeout): Deployment/carts: 1 of 2 available',
    });
    expect(first?.liveTime).toBeUndefined();
    expect(second).toMatchObject({ action: 'featuretoggle', rollout: { state: 'Progressing' } });
    expect(w.recorded).toContain('attempt scale action_failed');
  });

  it('escalates after a failed evaluation and ends Exhausted when no action is left', async () => {
    const w = new World();
    w.evaluations.push(fail, fail);
    for (let i = 0; i < 3; i++) {
      await w.step();
      await w.step();
      w.advance(120_000);
      await w.step();
    }
    const status = w.problem.status;
    expect(status?.phase).toBe('Exhausted');
    expect(status?.attempts?.map((a) => [a.index, a.action, a.result])).toEqual([
      [1, 'scale', 'fail'],
      [2, 'featuretoggle', 'fail'],
    ]);
    expect(w.commits[1]?.text).toBe('replicaCount: 2 # keep\nfeatureFlags:\n  EnablePromotion: false\n');
    expect(w.applied[1]?.featureFlags).toEqual({ EnablePromotion: false });
    expect(status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ActionsExhausted',
    });
  });

  it('counts every evaluation and attempt outcome in the metrics', async () => {
    const w = new World();
    w.evaluations.push(
      new ReboundError('down', { code: 'PrometheusUnavailable', reason: 'PrometheusUnavailable', retryable: true }),
      fail,
      pass,
    );
    for (let i = 0; i < 12 && w.problem.status?.phase !== 'Resolved'; i++) {
      await w.step();
      w.advance(120_000);
    }
    expect(w.problem.status?.phase).toBe('Resolved');
    expect(w.recorded).toEqual([
      'evaluation error',
      'evaluation fail',
      'attempt scale fail',
      'evaluation pass',
      'attempt featuretoggle pass',
    ]);
  });

  it('postpones an evaluation while Prometheus is down, without failing the attempt', async () => {
    const w = new World();
    await w.step();
    await w.step();
    w.advance(120_000);
    w.evaluations.push(
      new ReboundError('connection refused', {
        code: 'PrometheusUnavailable',
        reason: 'PrometheusUnavailable',
        retryable: true,
      }),
    );
    expect(await w.step()).toBe(30_000);
    expect(w.problem.status?.phase).toBe('Evaluating');
    expect(w.problem.status?.attempts?.[0]?.result).toBeUndefined();
    expect(w.problem.status?.conditions?.find((c) => c.type === 'Reconciling')?.reason).toBe('PrometheusUnavailable');
    w.evaluations.push(pass);
    await w.step();
    expect(w.problem.status?.phase).toBe('Resolved');
  });

  it('waits for a scrape from after the action, looking again within seconds, without failing the attempt', async () => {
    const w = new World();
    await w.step();
    await w.step();
    w.advance(120_000);
    w.evaluations.push(
      new ReboundError('waiting for metrics from after the action', {
        code: 'WaitingForMetrics',
        reason: 'WaitingForMetrics',
        retryable: true,
      }),
    );
    expect(await w.step()).toBe(5_000);
    expect(w.problem.status?.phase).toBe('Evaluating');
    expect(w.problem.status?.attempts?.[0]?.result).toBeUndefined();
    expect(w.problem.status?.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({
      reason: 'WaitingForMetrics',
      message: 'evaluation postponed: waiting for metrics from after the action',
    });
    w.evaluations.push(pass);
    await w.step();
    expect(w.problem.status?.phase).toBe('Resolved');
  });

  it('reports a Git outage during evaluation as GitUnreachable, not PrometheusUnavailable', async () => {
    const w = new World();
    await w.step();
    await w.step();
    w.advance(120_000);
    w.evaluations.push(
      new ReboundError('fetching production at http://git: cannot reach the Git server', {
        code: 'GitUnreachable',
        reason: 'GitUnreachable',
        retryable: true,
      }),
    );
    expect(await w.step()).toBe(30_000);
    expect(w.problem.status?.phase).toBe('Evaluating');
    expect(w.problem.status?.conditions?.find((c) => c.type === 'Reconciling')?.reason).toBe('GitUnreachable');
  });

  it('never commits twice for one attempt after a crash before the status write', async () => {
    const w = new World();
    await w.step();
    w.problem = { ...w.problem, status: {} }; // the status write was lost
    await w.step();
    expect(w.commits).toHaveLength(1);
    expect(w.problem.status?.attempts?.[0]?.commit).toBe(w.commits[0]?.sha);
  });

  it('waits for the service turn without acting, writes Queued once, and relies on being woken', async () => {
    const w = new World();
    w.turnHolder = 'sockshop/other';
    expect(await w.step()).toBe(1000);
    expect(w.commits).toHaveLength(0);
    expect(w.problem.status?.phase).toBe('Pending');
    expect(w.problem.status?.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({
      status: 'True',
      reason: 'Queued',
      message: 'waiting for sockshop/other: one remediation at a time per service',
    });
    expect(w.writes).toBe(1);
    for (let i = 0; i < 5; i++) await w.step();
    expect(w.writes).toBe(1);
    // The turn frees (the holder finished and woke this one): the claim is read fresh before the commit.
    w.turnHolder = undefined;
    w.turnCalls = [];
    await w.step();
    expect(w.commits).toHaveLength(1);
    // The commit confirms the claim on the API server; the apply chained after it in the same reconcile
    // is the same action and trusts that confirmation.
    expect(w.turnCalls).toEqual(['claim confirmed', 'claim']);
    expect(w.problem.status?.phase).toBe('Evaluating');
  });

  it('confirms the turn again in the next reconcile that acts outside the status', async () => {
    const w = new World();
    await w.step();
    expect(w.problem.status?.attempts?.[0]?.appliedTime).toBeDefined();
    // The apply's status write was lost: the next reconcile applies the commit again, a new action.
    const attempts = (w.problem.status?.attempts ?? []).map(({ appliedTime: _applied, ...a }) => a);
    w.problem = { ...w.problem, status: { ...w.problem.status, phase: 'Remediating', attempts } };
    w.turnCalls = [];
    await w.step();
    expect(w.turnCalls[0]).toBe('claim confirmed');
    expect(w.problem.status?.attempts?.[0]?.appliedTime).toBeDefined();
  });

  it('gives the turn back when it finishes, and when its problem is deleted', async () => {
    const w = new World();
    await w.step();
    w.advance(120_000);
    w.evaluations.push(pass);
    w.turnCalls = [];
    await w.step();
    expect(w.problem.status?.phase).toBe('Resolved');
    expect(w.turnCalls).toEqual(['claim', 'release']);
    w.deleted = true;
    await w.step();
    expect(w.turnCalls.at(-1)).toBe('forget sockshop/p1');
  });

  it('retries a turn the API server could not decide, and stalls when the claim is forbidden', async () => {
    const w = new World();
    w.turnError = new KubeError('API down', { code: 'KubeUnavailable', retryable: true });
    await expect(w.step()).rejects.toThrow('API down');
    expect(w.problem.status?.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({
      reason: 'TurnUnavailable',
    });
    w.turnError = new KubeError('leases is forbidden', { code: 'KubeForbidden', retryable: false });
    expect(await w.step()).toBe(300_000);
    expect(w.problem.status?.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'TurnUnavailable',
    });
    expect(w.commits).toHaveLength(0);
  });

  it('stops when the source resolves the problem mid-way', async () => {
    const w = new World();
    await w.step();
    expect(w.problem.status?.phase).toBe('Evaluating');
    w.problem = { ...w.problem, spec: { ...w.problem.spec, state: 'RESOLVED' } };
    w.advance(120_000);
    expect(await w.step()).toBeUndefined();
    expect(w.problem.status?.phase).toBe('Resolved');
    expect(w.problem.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('ProblemResolved');
    // Nothing after the source said so: no evaluation, no next action.
    expect(w.problem.status?.attempts?.map((a) => a.result)).toEqual([undefined]);
    expect(w.commits).toHaveLength(1);
    expect(w.applied).toHaveLength(1);
  });

  it('stalls with a reason on an unknown project, and retries a retryable Git error with backoff', async () => {
    const w = new World();
    w.project = undefined;
    expect(await w.step()).toBe(300_000);
    expect(w.problem.status?.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'ProjectNotFound',
    });

    const v = new World();
    v.commitError = new ReboundError('connect ECONNREFUSED 127.0.0.1:1', {
      code: 'GitUnreachable',
      reason: 'GitUnreachable',
      retryable: true,
    });
    await expect(v.step()).rejects.toThrow('ECONNREFUSED');
    expect(v.problem.status?.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({
      reason: 'GitUnreachable',
    });
  });

  it('leaves a status write refused for a stale version (409) to the queue, and a deleted problem (404) alone', async () => {
    const w = new World();
    w.writeError = new KubeError('conflict (409)', { code: 'KubeConflict', retryable: true, status: 409 });
    await expect(w.step()).rejects.toBe(w.writeError);
    expect(w.writes).toBe(1); // no second write of a "failure" on the same stale version

    const v = new World();
    v.writeError = new KubeError('not found (404)', { code: 'KubeNotFound', retryable: false, status: 404 });
    expect(await v.step()).toBeUndefined();
    expect(v.writes).toBe(1);
  });

  it('stalls on an unknown action and on a values file without the key', async () => {
    const w = new World();
    w.actions = [{ name: 'x', action: 'reboot', value: 'now' }];
    await w.step();
    expect(w.problem.status?.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'UnknownAction',
    });

    const v = new World();
    v.files.set('carts/values.yaml', 'image: carts:1\n');
    await v.step();
    const stalled = v.problem.status?.conditions?.find((c) => c.type === 'Stalled');
    expect(stalled?.status).toBe('True');
    expect(stalled?.message).toMatch(/replicaCount/);
    expect(v.commits).toHaveLength(0);
  });

  describe('actions outside Git', () => {
    const webhookFirst = (w: World): void => {
      w.actions = [
        { name: 'runbook', action: 'webhook', value: 'restart-carts' },
        { name: 'scale up', action: 'scale', value: '+1' },
      ];
    };

    it('runs a webhook in the background, then evaluates once it answered', async () => {
      const w = new World();
      webhookFirst(w);
      w.outside.outcomes.push({
        kind: 'done',
        detail: 'webhook restart-carts answered 200',
        execution: { executor: 'webhook', responseCode: 200, tries: 1 },
      });
      // Recorded and started in one reconcile; the worker is free again at once.
      expect(await w.step()).toBe(60_000);
      const started = w.problem.status?.attempts?.[0];
      expect(started?.execution).toMatchObject({ id: 'sockshop~p1~1~uid1', executor: 'webhook', state: 'Running' });
      expect(started?.commit).toBeUndefined();
      expect(w.commits).toHaveLength(0);
      await w.settle();
      expect(w.enqueued).toEqual(['sockshop/p1']);
      expect(await w.step()).toBe(120_000);
      expect(w.problem.status?.phase).toBe('Evaluating');
      expect(w.problem.status?.attempts?.[0]).toMatchObject({
        appliedTime: w.now.toISOString(),
        execution: { state: 'Succeeded', responseCode: 200, tries: 1 },
      });
      expect(w.outside.runs[0]?.actionId).toBe('sockshop~p1~1~uid1');
      expect(w.background.running()).toBe(0);
      w.advance(120_000);
      w.evaluations.push(pass);
      await w.step();
      expect(w.problem.status?.phase).toBe('Resolved');
      expect(w.events.map((e) => e.split(':')[0])).toEqual([
        'Normal ActionStarted',
        'Normal Applied',
        'Normal Evaluated',
        'Normal Resolved',
      ]);
    });

    it('a hanging endpoint holds no worker: each reconcile returns at once while it runs', async () => {
      const w = new World();
      webhookFirst(w);
      await w.step();
      await w.settle();
      expect(await w.step()).toBe(60_000);
      expect(w.outside.runs).toHaveLength(1); // not started twice
      expect(w.background.running()).toBe(1);
      expect(w.problem.status?.attempts?.[0]?.execution?.state).toBe('Running');
    });

    it('waits for the callback, and a succeeded callback starts the evaluation wait', async () => {
      const w = new World();
      webhookFirst(w);
      const deadline = new Date(w.now.getTime() + 1_800_000);
      w.outside.outcomes.push({
        kind: 'waiting',
        detail: 'answered 202; waiting for its callback',
        deadline,
        execution: { responseCode: 202 },
      });
      await w.step();
      await w.settle();
      expect(await w.step()).toBe(1_800_000);
      expect(w.problem.status?.phase).toBe('Remediating');
      expect(w.problem.status?.attempts?.[0]?.execution).toMatchObject({
        state: 'Waiting',
        deadline: deadline.toISOString(),
        responseCode: 202,
      });
      expect(w.problem.status?.conditions?.find((c) => c.type === 'Reconciling')?.reason).toBe('ActionInProgress');
      w.advance(60_000);
      expect(await w.step()).toBe(1_740_000); // still waiting
      w.callback('succeeded', 'pod restarted');
      expect(await w.step()).toBe(120_000);
      expect(w.problem.status?.phase).toBe('Evaluating');
      expect(w.problem.status?.attempts?.[0]?.execution).toMatchObject({
        state: 'Succeeded',
        callbackMessage: 'pod restarted',
      });
    });

    it('a failed callback fails the attempt without an evaluation and escalates to the next action', async () => {
      const w = new World();
      webhookFirst(w);
      w.outside.outcomes.push({
        kind: 'waiting',
        detail: 'waiting',
        deadline: new Date(w.now.getTime() + 60_000),
        execution: {},
      });
      await w.step();
      await w.settle();
      await w.step();
      w.callback('failed', 'runbook could not restart the pod');
      await w.step(); // fails attempt 1, then starts attempt 2 in the same reconcile
      const attempts = w.problem.status?.attempts ?? [];
      expect(attempts[0]).toMatchObject({ result: 'fail', execution: { state: 'Failed', callbackStatus: 'failed' } });
      expect(attempts[0]?.message).toContain('runbook could not restart the pod');
      expect(attempts[0]?.evaluationTime).toBeUndefined();
      expect(attempts[1]).toMatchObject({ index: 2, action: 'scale' });
      expect(w.recorded).toContain('attempt webhook action_failed');
      expect(w.events.some((e) => e.startsWith('Warning ActionFailed'))).toBe(true);
    });

    it('no callback before the deadline fails the attempt with ActionTimedOut', async () => {
      const w = new World();
      w.actions = [{ name: 'runbook', action: 'webhook', value: 'restart-carts' }];
      w.outside.outcomes.push({
        kind: 'waiting',
        detail: 'waiting',
        deadline: new Date(w.now.getTime() + 60_000),
        execution: {},
      });
      await w.step();
      await w.settle();
      await w.step();
      w.advance(60_000);
      await w.step();
      expect(w.problem.status?.attempts?.[0]).toMatchObject({ result: 'fail', execution: { state: 'Failed' } });
      expect(w.problem.status?.phase).toBe('Exhausted');
      expect(w.events.find((e) => e.startsWith('Warning ActionFailed'))).toMatch(/no callback/);
    });

    it('a callback that overtakes the record of the call still counts, and stops the call', async () => {
      const w = new World();
      webhookFirst(w);
      await w.step(); // Running; the endpoint has not answered yet
      await w.settle();
      const signal = w.outside.runs[0]?.signal;
      w.callback('succeeded', 'done early');
      expect(await w.step()).toBe(120_000);
      expect(w.problem.status?.attempts?.[0]?.execution).toMatchObject({
        state: 'Succeeded',
        callbackMessage: 'done early',
      });
      expect(signal?.aborted).toBe(true);
      expect(w.background.running()).toBe(0);
    });

    it('keeps the status code of a call that answered before its callback was recorded', async () => {
      const w = new World();
      webhookFirst(w);
      w.outside.outcomes.push({
        kind: 'waiting',
        detail: 'answered 202',
        deadline: new Date(w.now.getTime() + 60_000),
        execution: { executor: 'webhook', responseCode: 202, tries: 1 },
      });
      await w.step();
      await w.settle(); // the call has answered, the loop has not recorded it yet
      w.callback('succeeded', 'fast runbook');
      await w.step();
      expect(w.problem.status?.attempts?.[0]?.execution).toMatchObject({
        state: 'Succeeded',
        responseCode: 202,
        tries: 1,
        callbackMessage: 'fast runbook',
      });
      expect(w.problem.status?.phase).toBe('Evaluating');
    });

    it('a webhook answering with an error fails the attempt; an outage is retried with backoff and the call made again', async () => {
      const w = new World();
      webhookFirst(w);
      w.outside.outcomes.push({
        kind: 'failed',
        reason: 'WebhookRejected',
        detail: 'webhook restart-carts answered 404',
        execution: { responseCode: 404, tries: 1 },
      });
      await w.step();
      await w.settle();
      await w.step();
      expect(w.problem.status?.attempts?.[0]).toMatchObject({
        result: 'fail',
        execution: { state: 'Failed', responseCode: 404 },
      });
      expect(w.problem.status?.attempts?.[1]?.action).toBe('scale');

      const v = new World();
      webhookFirst(v);
      v.outside.outcomes.push(
        new ReboundError('Secret sockshop/runbook is unreachable', {
          code: 'KubeUnavailable',
          reason: 'ApplyFailed',
          retryable: true,
        }),
      );
      await v.step();
      await v.settle();
      await expect(v.step()).rejects.toThrow('unreachable');
      expect(v.problem.status?.conditions?.find((c) => c.type === 'Reconciling')?.reason).toBe('ApplyFailed');
      v.outside.outcomes.push({ kind: 'done', detail: 'ok' });
      await v.step(); // after the backoff: started again
      await v.settle();
      await v.step();
      expect(v.outside.runs).toHaveLength(2);
      expect(v.problem.status?.phase).toBe('Evaluating');
    });

    it('stops a running action when the source resolves the problem', async () => {
      const w = new World();
      webhookFirst(w);
      await w.step();
      await w.settle();
      const signal = w.outside.runs[0]?.signal;
      expect(w.background.running()).toBe(1);
      w.problem = { ...w.problem, spec: { ...w.problem.spec, state: 'RESOLVED' } };
      await w.step();
      expect(w.problem.status?.phase).toBe('Resolved');
      expect(signal?.aborted).toBe(true);
      expect(w.background.running()).toBe(0);
    });

    it('a refused action (host not allowed) stalls before anything runs', async () => {
      const w = new World();
      webhookFirst(w);
      w.outside.refusal = {
        ok: false,
        reason: 'WebhookHostNotAllowed',
        message: 'host evil.example is not in spec.webhook.allowedHosts',
      };
      expect(await w.step()).toBe(300_000);
      expect(w.problem.status?.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({
        status: 'True',
        reason: 'WebhookHostNotAllowed',
      });
      expect(w.outside.runs).toHaveLength(0);
      expect(w.problem.status?.attempts ?? []).toHaveLength(0);
    });

    it('sends an action type nothing built in handles to the external executor when one is configured', async () => {
      const w = new World();
      w.external = new ScriptedAction('keptn');
      w.actions = [{ name: 'restart', action: 'restart-pod', value: 'carts' }];
      w.external.outcomes.push({
        kind: 'waiting',
        detail: 'sent',
        deadline: new Date(w.now.getTime() + 600_000),
        execution: { responseCode: 202 },
      });
      await w.step();
      expect(w.problem.status?.attempts?.[0]?.execution).toMatchObject({ executor: 'keptn', state: 'Running' });
      await w.settle();
      await w.step();
      expect(w.external.runs[0]?.attempt).toMatchObject({ action: 'restart-pod', value: 'carts' });
      expect(w.problem.status?.attempts?.[0]?.execution?.state).toBe('Waiting');
    });
  });

  describe("the shipyard's remediation sequence after the action", () => {
    const SEQUENCE: RemediationSequence = {
      tasks: [{ name: 'je-test', delayMs: 0, properties: { users: 5 } }],
      evaluationWaitMs: 30_000,
      timeframeMs: 120_000,
    };
    const waiting = (w: World): ActionOutcome => ({
      kind: 'waiting',
      detail: 'sent sh.keptn.event.je-test.triggered',
      deadline: new Date(w.now.getTime() + 600_000),
      execution: { executor: 'keptn', responseCode: 202, tries: 1 },
    });

    function world(): World {
      const w = new World();
      w.sequence = SEQUENCE;
      w.tasks = new ScriptedTasks();
      w.tasks.outcomes.push(waiting(w));
      return w;
    }

    it('sends the task after the action, awaits its finished, then waits triggeredAfter and evaluates the timeframe', async () => {
      const w = world();
      // commit, apply, record the task, send it (in the background): one chained reconcile.
      expect(await w.step()).toBe(60_000);
      expect(w.applied).toHaveLength(1);
      const [attempt] = w.problem.status?.attempts ?? [];
      expect(attempt?.appliedTime).toBe(w.now.toISOString());
      expect(attempt?.tasks).toEqual([
        {
          name: 'je-test',
          id: 'sockshop~p1~1~uid1~je-test',
          executor: 'keptn',
          state: 'Running',
          startedTime: w.now.toISOString(),
        },
      ]);
      expect(w.problem.status?.phase).toBe('Remediating');
      expect(w.problem.status?.nextEvaluationTime).toBeUndefined();
      await w.settle();
      expect(w.tasks?.sent.map((r) => [r.task, r.taskId, r.properties, r.attempt.action, r.stage])).toEqual([
        ['je-test', 'sockshop~p1~1~uid1~je-test', { users: 5 }, 'scale', 'production'],
      ]);

      // The send settled: the task waits for its executor until the deadline.
      expect(await w.step()).toBe(600_000);
      expect(w.problem.status?.attempts?.[0]?.tasks?.[0]).toMatchObject({
        state: 'Waiting',
        responseCode: 202,
        deadline: new Date(w.now.getTime() + 600_000).toISOString(),
      });
      expect(await w.step()).toBe(600_000);

      w.advance(5_000);
      w.taskAnswer('je-test', 'succeeded', 'locust: 0 failures');
      // The evaluation task's triggeredAfter (30 s) runs from the task's finish, not from the action.
      expect(await w.step()).toBe(30_000);
      expect(w.problem.status?.attempts?.[0]?.tasks?.[0]).toMatchObject({
        state: 'Succeeded',
        finishedTime: w.now.toISOString(),
        callbackMessage: 'locust: 0 failures',
      });
      expect(w.problem.status?.phase).toBe('Evaluating');
      expect(w.problem.status?.nextEvaluationTime).toBe(new Date(w.now.getTime() + 30_000).toISOString());
      expect(w.evaluations).toHaveLength(0);

      w.advance(30_000);
      w.evaluations.push(pass);
      expect(await w.step()).toBeUndefined();
      expect(w.problem.status?.phase).toBe('Resolved');
      // The timeframe (2 m) reaches back from the evaluation, as Keptn's evaluation.triggered did.
      expect(w.windows).toEqual([{ start: new Date(w.now.getTime() - 120_000), end: w.now }]);
      expect(w.events.filter((e) => /Task|Applied|Evaluated/.test(e)).map((e) => e.split(':')[0])).toEqual([
        'Normal Applied',
        'Normal TaskStarted',
        'Normal TaskFinished',
        'Normal Evaluated',
      ]);
    });

    it('a failed task fails the attempt with its message and escalates without an evaluation', async () => {
      const w = world();
      await w.step();
      await w.settle();
      await w.step();
      w.taskAnswer('je-test', 'failed', 'locust: 40% of requests failed; status succeeded; result fail');
      await w.step();
      const [first, second] = w.problem.status?.attempts ?? [];
      expect(first).toMatchObject({
        result: 'fail',
        message: 'task je-test reported failure: locust: 40% of requests failed; status succeeded; result fail',
      });
      expect(first?.tasks?.[0]?.state).toBe('Failed');
      expect(second).toMatchObject({ index: 2, action: 'featuretoggle' });
      expect(w.evaluations).toHaveLength(0);
      expect(
        w.events.some((e) =>
          e.startsWith('Warning ActionFailed: attempt 1 (scale +1) failed: task je-test reported failure'),
        ),
      ).toBe(true);
    });

    it('no finished before the task timeout fails the attempt with TaskTimedOut', async () => {
      const w = world();
      await w.step();
      await w.settle();
      await w.step();
      w.advance(600_000);
      await w.step();
      const [first] = w.problem.status?.attempts ?? [];
      expect(first).toMatchObject({
        result: 'fail',
        message: expect.stringMatching(
          /^no sh\.keptn\.event\.je-test\.finished for task sockshop~p1~1~uid1~je-test before its deadline/,
        ) as unknown,
      });
      expect(
        w.written.some((s) => s.conditions?.some((c) => c.type === 'Reconciling' && c.reason === 'TaskTimedOut')),
      ).toBe(true);
    });

    it("a sink that refuses the task fails the attempt with the sink's reason", async () => {
      const w = world();
      w.tasks = new ScriptedTasks();
      w.tasks.outcomes.push({
        kind: 'failed',
        reason: 'ExecutorRejected',
        detail: 'executor sink http://sink/: 400 Bad Request',
      });
      await w.step();
      await w.settle();
      await w.step();
      expect(w.problem.status?.attempts?.[0]).toMatchObject({
        result: 'fail',
        message: 'task je-test: executor sink http://sink/: 400 Bad Request',
      });
      expect(w.problem.status?.attempts?.[0]?.tasks?.[0]).toMatchObject({ state: 'Failed' });
    });

    it('stalls with NoTaskExecutor when there is no executor sink to send the task to', async () => {
      const w = world();
      w.tasks = undefined;
      await w.step();
      expect(w.problem.status?.attempts?.[0]?.tasks).toBeUndefined();
      expect(w.problem.status?.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({
        status: 'True',
        reason: 'NoTaskExecutor',
      });
    });
  });

  describe('kstatus: Reconciling and Stalled are never both True, Ready=True only when Resolved', () => {
    const helmFails = (): ReboundError =>
      new ReboundError('helm upgrade failed: nil pointer evaluating .Values.nothing', {
        code: 'HelmFailed',
        reason: 'ApplyFailed',
        retryable: false,
      });
    const gitDown = (): ReboundError =>
      new ReboundError('connect ECONNREFUSED 127.0.0.1:1', {
        code: 'GitUnreachable',
        reason: 'GitUnreachable',
        retryable: true,
      });
    const webhook = (w: World): void => {
      w.actions = [
        { name: 'runbook', action: 'webhook', value: 'restart-carts' },
        { name: 'scale up', action: 'scale', value: '+1' },
      ];
    };
    /** Reconciles until the loop settles or `max` times, advancing time past each wait; errors are the queue's. */
    const drive = async (w: World, max = 12): Promise<void> => {
      for (let i = 0; i < max; i++) {
        const after = await w.step().catch(() => 1);
        await w.settle();
        if (after === undefined) return;
        w.advance(after);
      }
    };
    const approvalTimeout = (w: World, onTimeout: 'Unhandled' | 'Escalate'): void => {
      w.project = {
        ...(w.project as Project),
        spec: { ...(w.project as Project).spec, approval: { timeout: '10m', onTimeout } },
      };
    };
    const denyAlways = (w: World, schedule = '* * * * *'): void => {
      w.project = {
        ...(w.project as Project),
        spec: { ...(w.project as Project).spec, windows: [{ name: 'freeze', schedule, duration: '1h' }] },
      };
    };
    const budget = (w: World): void => {
      w.project = { ...(w.project as Project), spec: { ...(w.project as Project).spec, budgets: { maxInFlight: 1 } } };
      w.elsewhere = [
        {
          ...w.problem,
          metadata: { ...w.problem.metadata, name: 'orders-1', uid: 'u-o' },
          spec: { ...w.problem.spec, service: 'orders' },
          status: { phase: 'Evaluating' },
        },
      ];
    };
    type Row = {
      name: string;
      script: (w: World) => Promise<void>;
      phase: string;
      ready: string;
      stalled?: string;
      reconciling?: string;
    };
    const rows: Row[] = [
      {
        name: 'resolved after one action',
        script: async (w) => {
          w.evaluations.push(pass);
          await drive(w);
        },
        phase: 'Resolved',
        ready: 'True EvaluationPassed',
        stalled: 'False EvaluationPassed',
      },
      {
        name: 'warning resolves too',
        script: async (w) => {
          w.evaluations.push({ ...pass, result: 'warning', score: 80 });
          await drive(w);
        },
        phase: 'Resolved',
        ready: 'True EvaluationWarning',
        stalled: 'False EvaluationWarning',
      },
      {
        name: 'exhausted after every action failed',
        script: async (w) => {
          w.evaluations.push(fail, fail);
          await drive(w);
        },
        phase: 'Exhausted',
        ready: 'False ActionsExhausted',
        stalled: 'True ActionsExhausted',
      },
      {
        name: 'Prometheus down, then a pass',
        script: async (w) => {
          w.evaluations.push(
            new ReboundError('down', {
              code: 'PrometheusUnavailable',
              reason: 'PrometheusUnavailable',
              retryable: true,
            }),
            pass,
          );
          await drive(w);
        },
        phase: 'Resolved',
        ready: 'True EvaluationPassed',
        stalled: 'False EvaluationPassed',
      },
      {
        name: 'SLO files unusable',
        script: async (w) => {
          w.evaluations.push(
            new ReboundError('slo.yaml does not parse', { code: 'SLOInvalid', reason: 'SLOInvalid', retryable: false }),
          );
          await drive(w, 2);
        },
        phase: 'Evaluating',
        ready: 'False SLOInvalid',
        stalled: 'True SLOInvalid',
      },
      {
        name: 'no Project',
        script: async (w) => {
          w.project = undefined;
          await w.step();
        },
        phase: 'Pending',
        ready: 'False ProjectNotFound',
        stalled: 'True ProjectNotFound',
      },
      {
        name: 'no stage',
        script: async (w) => {
          w.problem = { ...w.problem, spec: { ...w.problem.spec, stage: 'staging' } };
          await w.step();
        },
        phase: 'Pending',
        ready: 'False StageNotFound',
        stalled: 'True StageNotFound',
      },
      {
        name: 'stalled, then the Project appears',
        script: async (w) => {
          const project = w.project;
          w.project = undefined;
          await w.step();
          w.project = project;
          w.evaluations.push(pass);
          await drive(w);
        },
        phase: 'Resolved',
        ready: 'True EvaluationPassed',
        stalled: 'False EvaluationPassed',
      },
      {
        name: 'manual stage waits for approval',
        script: async (w) => {
          w.stageMode = 'manual';
          await w.step();
        },
        phase: 'AwaitingApproval',
        ready: '-',
        stalled: 'False Progressing',
        reconciling: 'True AwaitingApproval',
      },
      {
        name: 'manual stage, approved, then a pass',
        script: async (w) => {
          w.stageMode = 'manual';
          await w.step();
          w.answer('alice', 'Approve');
          w.evaluations.push(pass);
          await drive(w);
        },
        phase: 'Resolved',
        ready: 'True EvaluationPassed',
        stalled: 'False EvaluationPassed',
      },
      {
        name: 'manual stage, rejected',
        script: async (w) => {
          w.stageMode = 'manual';
          await w.step();
          w.answer('bob', 'Reject');
          await w.step();
        },
        phase: 'Unhandled',
        ready: 'False ApprovalRejected',
        stalled: 'True ApprovalRejected',
      },
      {
        name: 'manual stage, no answer in time',
        script: async (w) => {
          w.stageMode = 'manual';
          approvalTimeout(w, 'Unhandled');
          await drive(w, 3);
        },
        phase: 'Unhandled',
        ready: 'False ApprovalTimedOut',
        stalled: 'True ApprovalTimedOut',
      },
      {
        name: 'disabled stage',
        script: async (w) => {
          w.stageMode = 'disabled';
          await w.step();
        },
        phase: 'Unhandled',
        ready: 'False RemediationDisabled',
        stalled: 'True RemediationDisabled',
      },
      {
        name: 'held by a deny window',
        script: async (w) => {
          denyAlways(w);
          await w.step();
        },
        phase: 'Pending',
        ready: '-',
        stalled: 'False Progressing',
        reconciling: 'True DenyWindow',
      },
      {
        name: 'held by a malformed window',
        script: async (w) => {
          denyAlways(w, 'every friday');
          await w.step();
        },
        phase: 'Pending',
        ready: '-',
        stalled: 'False Progressing',
        reconciling: 'True WindowInvalid',
      },
      {
        name: 'held by the Project budget',
        script: async (w) => {
          budget(w);
          await w.step();
        },
        phase: 'Pending',
        ready: '-',
        stalled: 'False Progressing',
        reconciling: 'True InFlightLimitReached',
      },
      {
        name: 'no policy',
        script: async (w) => {
          w.policyOverride = { ok: false, reason: 'NoPolicy', message: 'no remediation.yaml' };
          await w.step();
        },
        phase: 'Unhandled',
        ready: 'False NoPolicy',
        stalled: 'True NoPolicy',
      },
      {
        name: 'source resolves mid-way',
        script: async (w) => {
          await w.step();
          w.problem = { ...w.problem, spec: { ...w.problem.spec, state: 'RESOLVED' } };
          await w.step();
        },
        phase: 'Resolved',
        ready: 'True ProblemResolved',
        stalled: 'False ProblemResolved',
      },
      {
        name: 'waits its turn',
        script: async (w) => {
          w.turnHolder = 'sockshop/p0';
          await w.step();
        },
        phase: 'Pending',
        ready: '-',
        stalled: 'False Progressing',
        reconciling: 'True Queued',
      },
      {
        name: 'held by the cooldown',
        script: async (w) => {
          w.remediation = {
            apiVersion: 'rebound.dev/v1alpha1',
            kind: 'Remediation',
            metadata: { name: 'r' },
            spec: {
              project: 'sockshop',
              stage: 'production',
              service: 'carts',
              remediations: [],
              limits: { cooldown: '10m' },
            },
          };
          w.evaluations.push(fail);
          for (let i = 0; i < 3; i++) {
            await w.step();
            w.advance(120_000);
          }
        },
        phase: 'Remediating',
        ready: '-',
        stalled: 'False Progressing',
        reconciling: 'True CoolingDown',
      },
      {
        name: 'Git down on commit, retried',
        script: async (w) => {
          w.commitError = gitDown();
          await w.step().catch(() => undefined);
        },
        phase: 'Pending',
        ready: '-',
        stalled: 'False Progressing',
        reconciling: 'True GitUnreachable',
      },
      {
        name: 'Git down, then back',
        script: async (w) => {
          w.commitError = gitDown();
          await w.step().catch(() => undefined);
          w.commitError = undefined;
          w.evaluations.push(pass);
          await drive(w);
        },
        phase: 'Resolved',
        ready: 'True EvaluationPassed',
        stalled: 'False EvaluationPassed',
      },
      {
        name: 'Helm fails after the commit',
        script: async (w) => {
          w.applyError = helmFails();
          await w.step();
        },
        phase: 'Remediating',
        ready: 'False ApplyFailed',
        stalled: 'True ApplyFailed',
      },
      {
        name: 'unknown action',
        script: async (w) => {
          w.actions = [{ name: 'x', action: 'reboot', value: 'now' }];
          await w.step();
        },
        phase: 'Pending',
        ready: 'False UnknownAction',
        stalled: 'True UnknownAction',
      },
      {
        name: 'values file without the key',
        script: async (w) => {
          w.files.set('carts/values.yaml', 'image: carts:1\n');
          await w.step();
        },
        phase: 'Pending',
        ready: 'False ValuesFileInvalid',
        stalled: 'True ValuesFileInvalid',
      },
      {
        name: 'webhook answers, then a pass',
        script: async (w) => {
          webhook(w);
          w.outside.outcomes.push({ kind: 'done', detail: 'answered 200' });
          w.evaluations.push(pass);
          await drive(w);
        },
        phase: 'Resolved',
        ready: 'True EvaluationPassed',
        stalled: 'False EvaluationPassed',
      },
      {
        name: 'webhook waits for its callback',
        script: async (w) => {
          webhook(w);
          w.outside.outcomes.push({
            kind: 'waiting',
            detail: 'answered 202',
            deadline: new Date(w.now.getTime() + 600_000),
            execution: {},
          });
          await w.step();
          await w.settle();
          await w.step();
        },
        phase: 'Remediating',
        ready: '-',
        stalled: 'False Progressing',
        reconciling: 'True ActionInProgress',
      },
      {
        name: 'callback reports failure, the next action passes',
        script: async (w) => {
          webhook(w);
          w.outside.outcomes.push({
            kind: 'waiting',
            detail: 'w',
            deadline: new Date(w.now.getTime() + 600_000),
            execution: {},
          });
          await w.step();
          await w.settle();
          await w.step();
          w.callback('failed', 'no luck');
          w.evaluations.push(pass);
          await drive(w);
        },
        phase: 'Resolved',
        ready: 'True EvaluationPassed',
        stalled: 'False EvaluationPassed',
      },
      {
        name: 'no callback before the deadline, then exhausted',
        script: async (w) => {
          webhook(w);
          w.outside.outcomes.push({
            kind: 'waiting',
            detail: 'w',
            deadline: new Date(w.now.getTime() + 60_000),
            execution: {},
          });
          w.evaluations.push(fail);
          await drive(w);
        },
        phase: 'Exhausted',
        ready: 'False ActionsExhausted',
        stalled: 'True ActionsExhausted',
      },
      {
        name: 'webhook rejected, the next action passes',
        script: async (w) => {
          webhook(w);
          w.outside.outcomes.push({ kind: 'failed', reason: 'WebhookRejected', detail: 'answered 404' });
          w.evaluations.push(pass);
          await drive(w);
        },
        phase: 'Resolved',
        ready: 'True EvaluationPassed',
        stalled: 'False EvaluationPassed',
      },
      {
        name: 'webhook outage, retried',
        script: async (w) => {
          webhook(w);
          w.outside.outcomes.push(
            new ReboundError('unreachable', {
              code: 'WebhookUnavailable',
              reason: 'WebhookUnavailable',
              retryable: true,
            }),
          );
          await w.step();
          await w.settle();
          await w.step().catch(() => undefined);
        },
        phase: 'Remediating',
        ready: '-',
        stalled: 'False Progressing',
        reconciling: 'True WebhookUnavailable',
      },
      {
        name: 'webhook fails for good',
        script: async (w) => {
          webhook(w);
          w.outside.outcomes.push(
            new ReboundError('the URL is unusable', {
              code: 'WebhookInvalid',
              reason: 'ActionFailed',
              retryable: false,
            }),
          );
          await w.step();
          await w.settle();
          await w.step();
        },
        phase: 'Remediating',
        ready: 'False ActionFailed',
        stalled: 'True ActionFailed',
      },
      {
        name: 'webhook host refused',
        script: async (w) => {
          webhook(w);
          w.outside.refusal = { ok: false, reason: 'WebhookHostNotAllowed', message: 'not allowed' };
          await w.step();
        },
        phase: 'Pending',
        ready: 'False WebhookHostNotAllowed',
        stalled: 'True WebhookHostNotAllowed',
      },
    ];

    it.each(rows)('$name', async (row) => {
      const w = new World();
      await row.script(w);
      const shown = (type: string): string => {
        const c = w.problem.status?.conditions?.find((x) => x.type === type);
        return c ? `${c.status} ${c.reason}` : '-';
      };
      expect(w.problem.status?.phase).toBe(row.phase);
      expect(shown('Ready')).toBe(row.ready);
      expect(shown('Stalled')).toBe(row.stalled ?? '-');
      expect(shown('Reconciling')).toBe(row.reconciling ?? '-');
      // Every status the loop wrote on the way, not only the last one.
      expect(w.written.length).toBeGreaterThan(0);
      for (const status of w.written) {
        const on = (type: string): boolean =>
          status.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
        expect(on('Reconciling') && on('Stalled'), JSON.stringify(status.conditions)).toBe(false);
        if (on('Ready')) expect(status.phase).toBe('Resolved');
        if (status.phase === 'Exhausted' || status.phase === 'Unhandled') expect(on('Stalled')).toBe(true);
      }
    });
  });

  describe('apply: flux', () => {
    const condition = (w: World, type: string) => w.problem.status?.conditions?.find((c) => c.type === type);

    it('starts the evaluation wait only once Flux reports the commit, never at the push', async () => {
      const w = new World();
      w.stageApply = 'flux';
      w.syncStates = [{ kind: 'pending', detail: 'GitRepository flux-system/app has not fetched the commit yet' }];
      // Commit, then the reconcile request; the worker is free again at the sync pace.
      expect(await w.step()).toBe(2_000);
      const sha = w.commits[0]?.sha ?? '';
      expect(w.applied[0]).toMatchObject({
        branch: 'production',
        commit: sha,
        path: 'carts/values.yaml',
        repoUrl: 'http://127.0.0.1/x.git',
      });
      expect(w.problem.status?.phase).toBe('Remediating');
      expect(w.problem.status?.attempts?.[0]?.appliedTime).toBeUndefined();
      expect(w.problem.status?.attempts?.[0]?.sync).toMatchObject({ engine: 'flux', objects: ['flux-system/carts'] });
      expect(condition(w, 'Reconciling')).toMatchObject({ reason: 'WaitingForSync' });

      w.advance(2_000);
      expect(await w.step()).toBe(2_000);
      expect(condition(w, 'Reconciling')?.message).toBe(
        'attempt 1: GitRepository flux-system/app has not fetched the commit yet',
      );
      const writes = w.writes;
      w.advance(2_000);
      expect(await w.step()).toBe(2_000);
      expect(w.writes).toBe(writes); // the same answer writes nothing
      expect(w.syncChecks.at(-1)).toEqual({
        engine: 'flux',
        branch: 'production',
        commit: sha,
        objects: ['flux-system/carts'],
      });

      w.advance(1_000);
      w.syncStates = [
        { kind: 'synced', revision: sha, detail: `Kustomization flux-system/carts applied production@sha1:${sha}` },
      ];
      expect(await w.step()).toBe(120_000);
      const attempt = w.problem.status?.attempts?.[0];
      expect(w.problem.status?.phase).toBe('Evaluating');
      expect(attempt?.appliedTime).toBe(w.now.toISOString());
      expect(attempt?.sync).toMatchObject({ revision: sha, syncedTime: w.now.toISOString() });
      expect(w.problem.status?.nextEvaluationTime).toBe(new Date(w.now.getTime() + 120_000).toISOString());
      expect(w.events.map((e) => e.split(':')[0])).toEqual([
        'Normal Committed',
        'Normal SyncRequested',
        'Normal Applied',
      ]);
      expect(w.events.at(-1)).toContain(`synced by Flux at ${sha}`);
    });

    it('names Argo CD when it is the engine that reported the commit', async () => {
      const w = new World();
      w.stageApply = 'argocd';
      await w.step();
      const sha = w.commits[0]?.sha ?? '';
      w.syncStates = [{ kind: 'synced', revision: sha, detail: `Application argocd/carts synced to ${sha}` }];
      w.advance(2_000);
      expect(await w.step()).toBe(120_000);
      expect(w.problem.status?.attempts?.[0]?.sync?.engine).toBe('argocd');
      expect(w.events.at(-1)).toContain(`synced by Argo CD at ${sha}`);
    });

    it('counts a later commit that holds ours (a person pushed on top) as synced', async () => {
      const w = new World();
      w.stageApply = 'flux';
      const theirs = 'f'.repeat(40);
      w.syncStates = [{ kind: 'synced', revision: theirs, detail: `applied production@sha1:${theirs}` }];
      await w.step();
      w.advance(2_000);
      expect(await w.step()).toBe(2_000);
      expect(w.problem.status?.phase).toBe('Remediating');
      w.descendants.set(theirs, [w.commits[0]?.sha ?? '']);
      expect(await w.step()).toBe(120_000);
      expect(w.problem.status?.attempts?.[0]?.sync?.revision).toBe(theirs);
    });

    it('stalls with SyncTimedOut after the stage timeout, and carries on when the engine reports the commit', async () => {
      const w = new World();
      w.stageApply = 'flux';
      w.syncStates = [
        { kind: 'pending', detail: 'Kustomization flux-system/carts has not handled the reconcile request yet' },
      ];
      await w.step();
      w.advance(61_000);
      expect(await w.step()).toBe(2_000);
      expect(condition(w, 'Stalled')).toMatchObject({ status: 'True', reason: 'SyncTimedOut' });
      expect(condition(w, 'Stalled')?.message).toMatch(
        /within 60s of the request .*has not handled the reconcile request/,
      );
      w.advance(2_000);
      await w.step();
      expect(w.events.filter((e) => e.includes('SyncTimedOut'))).toHaveLength(1);
      w.syncStates = [{ kind: 'synced', revision: w.commits[0]?.sha ?? '', detail: 'applied' }];
      await w.step();
      expect(w.problem.status?.phase).toBe('Evaluating');
      expect(condition(w, 'Stalled')).toMatchObject({ status: 'False' });
    });

    it("stalls with SyncFailed and the engine's own message", async () => {
      const w = new World();
      w.stageApply = 'flux';
      w.syncStates = [
        {
          kind: 'failed',
          detail:
            'Kustomization flux-system/carts failed at production@sha1:abc: BuildFailed: kustomization.yaml not found',
        },
      ];
      await w.step();
      w.advance(2_000);
      expect(await w.step()).toBe(2_000);
      expect(condition(w, 'Stalled')).toMatchObject({ status: 'True', reason: 'SyncFailed' });
      expect(condition(w, 'Stalled')?.message).toContain('BuildFailed: kustomization.yaml not found');
      expect(w.problem.status?.attempts?.[0]?.result).toBeUndefined();
    });

    it('stalls with SyncTargetNotFound when no Kustomization tracks the branch, keeping the commit', async () => {
      const w = new World();
      w.stageApply = 'flux';
      w.fluxError = new ReboundError('no Flux Kustomization tracks branch production', {
        code: 'SyncTargetNotFound',
        reason: 'SyncTargetNotFound',
        retryable: false,
      });
      expect(await w.step()).toBe(300_000);
      expect(condition(w, 'Stalled')).toMatchObject({ status: 'True', reason: 'SyncTargetNotFound' });
      expect(w.commits).toHaveLength(1);
      // Someone adds the Kustomization: the next look requests the sync for the same commit.
      w.fluxError = undefined;
      w.syncStates = [{ kind: 'pending', detail: 'waiting' }];
      await w.step();
      expect(w.commits).toHaveLength(1);
      expect(w.problem.status?.attempts?.[0]?.sync?.objects).toEqual(['flux-system/carts']);
    });

    it('warns when a kubernetes stage changes a workload a GitOps engine manages', async () => {
      const w = new World();
      w.applyExtra = {
        warning: 'Deployment carts is managed by Flux Kustomization flux-system/carts: it will undo this change',
      };
      await w.step();
      expect(condition(w, 'GitOpsConflict')).toMatchObject({ status: 'True', reason: 'ManagedByGitOps' });
      expect(w.events.some((e) => e.startsWith('Warning ManagedByGitOps'))).toBe(true);
    });
  });
  describe('the forge', () => {
    const withForge = (w: World, approval?: { mode: 'merge'; timeout?: string; onTimeout?: 'Escalate' }): void => {
      const project = w.project as Project;
      w.project = {
        ...project,
        spec: {
          ...project.spec,
          forge: { type: 'gitea', url: 'http://127.0.0.1', repository: 'sock/shop', secretRef: { name: 'forge' } },
          ...(approval ? { approval } : {}),
        },
      };
    };

    it('posts pending on each commit, then failure and success with the verdicts', async () => {
      const w = new World();
      withForge(w);
      w.evaluations.push(fail, pass);
      for (let i = 0; i < 6 && w.problem.status?.phase !== 'Resolved'; i++) {
        const after = await w.step();
        if (after === undefined) break;
        w.advance(after);
      }
      expect(w.problem.status?.phase).toBe('Resolved');
      expect(w.forge.statuses).toEqual([
        'sha10 pending: response_time_p90 (carts in production): attempt 1 (scale +1) is being applied and evaluated',
        'sha10 failure: response_time_p90 (carts in production): attempt 1 (scale +1) evaluated fail with score 0%, escalating',
        'sha20 pending: response_time_p90 (carts in production): attempt 2 (featuretoggle EnablePromotion:off) is being applied and evaluated',
        'sha20 success: response_time_p90 (carts in production): attempt 2 (featuretoggle EnablePromotion:off) evaluated pass with score 100%, resolved',
      ]);
    });

    it('posts nothing for a Project without a forge', async () => {
      const w = new World();
      w.evaluations.push(pass);
      await w.step();
      w.advance(120_000);
      await w.step();
      expect(w.forge.statuses).toEqual([]);
    });

    it('merge mode: opens a pull request with the plan, and the merge is the approval', async () => {
      const w = new World();
      w.stageMode = 'manual';
      withForge(w, { mode: 'merge' });
      expect(await w.step()).toBe(2_000);
      expect(w.problem.status?.phase).toBe('AwaitingApproval');
      expect(w.commits).toEqual([]);
      expect([...w.proposals.keys()]).toEqual(['rebound/p1/1']);
      expect(w.forge.opened).toEqual([
        expect.objectContaining({
          head: 'rebound/p1/1',
          base: 'production',
          title: 'rebound: scale carts in production to 2 replicas (response_time_p90)',
        }),
      ]);
      expect(w.forge.opened[0]?.body).toContain('-replicaCount: 1 # keep');
      expect(w.forge.comments).toHaveLength(1);
      expect(w.forge.comments[0]).toMatch(/^#1 \*\*Rebound proposes attempt 1/);
      const approval = w.problem.status?.attempts?.[0]?.approval;
      expect(approval?.proposal).toEqual({
        branch: 'rebound/p1/1',
        commit: 'prop1'.padEnd(40, '0'),
        number: 1,
        url: 'http://forge/pulls/1',
        state: 'Open',
      });
      expect(
        w.events.some((e) =>
          e.startsWith('Normal ProposalOpened: attempt 1 (scale +1) waits for a person to merge http://forge/pulls/1'),
        ),
      ).toBe(true);

      // Still open: asked again at the poll pace, nothing applied, no second comment.
      w.advance(2_000);
      expect(await w.step()).toBe(2_000);
      expect(w.applied).toEqual([]);
      expect(w.forge.comments).toHaveLength(1);

      // A person merges it: the attempt goes on with the merge commit.
      const merge = 'f'.repeat(40);
      w.forge.pulls[0] = { ...w.forge.pulls[0]!, state: 'merged', mergeCommit: merge, mergedBy: 'alice' };
      // The merge commit on the stage branch, as the store holds it after its fetch.
      w.commits.push({ sha: merge, text: VALUES.replace('replicaCount: 1', 'replicaCount: 2'), attempt: 1 });
      w.advance(2_000);
      expect(await w.step()).toBe(120_000);
      const attempt = w.problem.status?.attempts?.[0];
      expect(attempt?.commit).toBe(merge);
      expect(attempt?.approval?.state).toBe('Approved');
      expect(attempt?.approval?.approvers?.map((a) => a.user)).toEqual(['alice']);
      expect(attempt?.approval?.proposal?.state).toBe('Merged');
      expect(w.applied[0]).toMatchObject({ commit: merge, branch: 'production' });
      expect(
        w.events.some((e) => e.startsWith('Normal ProposalMerged: attempt 1 (scale +1) approved: alice merged')),
      ).toBe(true);

      // The verdict goes to the pull request and the merge commit's status.
      w.evaluations.push(pass);
      w.advance(120_000);
      await w.step();
      expect(w.problem.status?.phase).toBe('Resolved');
      expect(w.forge.comments.at(-1)).toBe(
        '#1 Rebound: attempt 1 (scale +1) evaluated pass with score 100%: the problem is resolved.',
      );
      expect(w.forge.statuses.at(-1)).toMatch(/^fffff success: /);
    });

    it('merge mode: closing the pull request rejects, and nothing reaches the stage branch', async () => {
      const w = new World();
      w.stageMode = 'manual';
      withForge(w, { mode: 'merge' });
      await w.step();
      w.forge.pulls[0] = { ...w.forge.pulls[0]!, state: 'closed' };
      w.advance(2_000);
      await w.step();
      expect(w.problem.status?.phase).toBe('Unhandled');
      expect(w.problem.status?.attempts?.[0]?.approval?.state).toBe('Rejected');
      expect(w.problem.status?.attempts?.[0]?.approval?.proposal?.state).toBe('Closed');
      expect(w.commits).toEqual([]);
      expect(w.applied).toEqual([]);
    });

    it('merge mode: a problem resolved by its source closes its open pull request', async () => {
      const w = new World();
      w.stageMode = 'manual';
      withForge(w, { mode: 'merge' });
      await w.step();
      expect(w.forge.closed).toEqual([]);
      w.problem = { ...w.problem, spec: { ...w.problem.spec, state: 'RESOLVED' } };
      await w.step();
      expect(w.problem.status?.phase).toBe('Resolved');
      expect(w.forge.closed).toEqual([
        '#1 Rebound: the source reported the problem as resolved; this proposal is no longer needed. Closing this pull request unmerged.',
      ]);
      expect(w.problem.status?.attempts?.[0]?.approval?.proposal?.state).toBe('Closed');
      expect(w.commits).toEqual([]);
    });

    it('merge mode: a timed-out proposal is closed, and escalating opens the next one', async () => {
      const w = new World();
      w.stageMode = 'manual';
      withForge(w, { mode: 'merge', timeout: '10m', onTimeout: 'Escalate' });
      await w.step();
      w.advance(600_000);
      await w.step();
      expect(w.forge.closed).toHaveLength(1);
      expect(w.forge.closed[0]).toMatch(
        /^#1 Rebound: attempt 1 \(scale \+1\) was not approved before .*, so this pull request no longer counts as an approval\. Closing this pull request unmerged\.$/,
      );
      const first = w.problem.status?.attempts?.[0];
      expect(first?.approval).toMatchObject({ state: 'TimedOut', proposal: { state: 'Closed' } });
      expect(first?.result).toBe('fail');
    });

    it('merge mode: a forge that is down is retried with backoff, not a rejection', async () => {
      const w = new World();
      w.stageMode = 'manual';
      withForge(w, { mode: 'merge' });
      await w.step();
      w.forge.readError = new ReboundError('503', { code: 'ForgeUnavailable', retryable: true });
      w.advance(2_000);
      await expect(w.step()).rejects.toThrow('503');
      expect(w.problem.status?.phase).toBe('AwaitingApproval');
    });

    it('merge mode without spec.forge stalls with ForgeMisconfigured', async () => {
      const w = new World();
      w.stageMode = 'manual';
      const project = w.project as Project;
      w.project = { ...project, spec: { ...project.spec, approval: { mode: 'merge' } } };
      await w.step();
      const stalled = w.problem.status?.conditions?.find((c) => c.type === 'Stalled');
      expect(stalled).toMatchObject({ status: 'True', reason: 'ForgeMisconfigured' });
      expect(w.proposals.size).toBe(0);
    });
  });
});

describe('ProblemEventReconciler with tracing', () => {
  /** A world whose spans are kept in order, on the world's clock. */
  function traced(): { w: World; spans: FinishedSpan[] } {
    const w = new World();
    const spans: FinishedSpan[] = [];
    let ids = 0;
    w.tracer = new RecordingTracer({
      export: (span) => spans.push(span),
      nowMs: () => w.now.getTime(),
      newSpanId: () => (++ids).toString(16).padStart(16, '0'),
    });
    return { w, spans };
  }
  const annotation = (w: World): string | undefined => w.problem.metadata.annotations?.['rebound.dev/traceparent'];

  it('names the trace once, makes each step a span under the problem, and records the problem span at the end', async () => {
    const { w, spans } = traced();
    w.evaluations.push(fail, pass);
    await w.step();
    const context = parseTraceparent(annotation(w));
    expect(context?.sampled).toBe(true);
    w.advance(120_000);
    await w.step();
    w.advance(120_000);
    await w.step();
    expect(w.problem.status?.phase).toBe('Resolved');
    expect(w.annotations).toHaveLength(1);

    expect(spans.map((s) => s.traceId)).toEqual(spans.map(() => context?.traceId));
    const byName = (name: string): FinishedSpan[] => spans.filter((s) => s.name === name);
    // The steps and the waits hang under the problem's span; their parts under the step.
    const top = spans
      .filter((s) => s.parentSpanId === context?.spanId)
      .map((s) => [s.name, s.attributes['rebound.attempt']]);
    expect(top).toEqual([
      ['start-attempt', 1],
      ['apply-attempt', 1],
      ['evaluate', 1],
      ['evaluation wait', 1],
      ['start-attempt', 2],
      ['apply-attempt', 2],
      ['evaluate', 2],
      ['evaluation wait', 2],
    ]);
    const [firstStart] = byName('start-attempt');
    expect(spans.filter((s) => s.parentSpanId === firstStart?.spanId).map((s) => s.name)).toEqual([
      'policy',
      'commit and push',
    ]);
    expect(byName('commit and push')[0]?.attributes).toMatchObject({
      'git.branch': 'production',
      'git.commit': w.commits[0]?.sha,
      'git.outcome': 'committed',
    });
    expect(byName('apply')[0]?.attributes).toMatchObject({ 'rebound.apply': 'kubernetes', 'rebound.outcome': 'done' });
    expect(byName('evaluate').map((s) => s.attributes)).toEqual([
      expect.objectContaining({
        'rebound.project': 'sockshop',
        'rebound.stage': 'production',
        'rebound.service': 'carts',
        'rebound.problem': 'sockshop/p1',
        'rebound.attempt': 1,
        'rebound.action': 'scale +1',
        'rebound.result': 'fail',
      }),
      expect.objectContaining({
        'rebound.attempt': 2,
        'rebound.action': 'featuretoggle EnablePromotion:off',
        'rebound.result': 'pass',
      }),
    ]);
    const wait = byName('evaluation wait')[0];
    expect(wait && [wait.startMs, wait.endMs]).toEqual([
      Date.parse('2026-11-22T12:00:00Z'),
      Date.parse('2026-11-22T12:02:00Z'),
    ]);
    // The problem's own span has the id the annotation named, from creation to completion, and comes last.
    const problem = spans.at(-1);
    expect(problem).toMatchObject({
      name: 'problem',
      spanId: context?.spanId,
      startMs: Date.parse('2026-11-22T11:59:00Z'),
      endMs: Date.parse('2026-11-22T12:04:00Z'),
    });
    expect(problem?.attributes).toMatchObject({ 'rebound.phase': 'Resolved', 'rebound.attempts': 2 });
    expect(problem?.parentSpanId).toBeUndefined();
    expect(byName('problem')).toHaveLength(1);
  });

  it('continues the trace the annotation names after a restart, and never writes it again', async () => {
    const { w, spans } = traced();
    await w.step();
    const first = annotation(w);
    // A new process: a new tracer, the same stored problem.
    const { spans: later } = ((): { spans: FinishedSpan[] } => {
      const fresh: FinishedSpan[] = [];
      w.tracer = new RecordingTracer({ export: (span) => fresh.push(span), nowMs: () => w.now.getTime() });
      return { spans: fresh };
    })();
    w.advance(120_000);
    w.evaluations.push(pass);
    await w.step();
    expect(annotation(w)).toBe(first);
    expect(w.annotations).toHaveLength(1);
    const context = parseTraceparent(first);
    expect(later.map((s) => s.name)).toEqual(['evaluation', 'evaluate', 'evaluation wait', 'problem']);
    expect(new Set([...spans, ...later].map((s) => s.traceId))).toEqual(new Set([context?.traceId]));
    expect(later.find((s) => s.name === 'evaluate')?.parentSpanId).toBe(context?.spanId);
  });

  it('replaces an annotation that is not a traceparent, and records nothing for an unsampled trace', async () => {
    const { w, spans } = traced();
    w.problem.metadata.annotations = { 'rebound.dev/traceparent': 'not-a-traceparent' };
    await w.step();
    expect(parseTraceparent(annotation(w))).toBeDefined();

    const unsampled = traced();
    const value = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
    unsampled.w.problem.metadata.annotations = { 'rebound.dev/traceparent': value };
    await unsampled.w.step();
    expect(annotation(unsampled.w)).toBe(value);
    expect(unsampled.w.annotations).toHaveLength(0);
    expect(unsampled.spans).toEqual([]);
    expect(spans.length).toBeGreaterThan(0);
  });

  it('leaves the problem alone when tracing is off', async () => {
    const w = new World();
    await w.step();
    expect(w.annotations).toEqual([]);
    expect(annotation(w)).toBeUndefined();
  });

  it('marks a postponed evaluation and a step cut short as failed spans, and goes on in the same trace', async () => {
    const { w, spans } = traced();
    await w.step();
    w.advance(120_000);
    w.evaluations.push(new ReboundError('Prometheus is down', { code: 'PrometheusUnavailable', retryable: true }));
    await w.step();
    w.advance(30_000);
    // Waiting for a scrape from after the action is routine: said on the span, not an error.
    w.evaluations.push(
      new ReboundError('no sample yet', { code: 'NoFreshSample', reason: REASONS.WaitingForMetrics, retryable: true }),
    );
    await w.step();
    w.advance(30_000);
    w.evaluations.push(pass);
    await w.step();
    const evaluates = spans.filter((s) => s.name === 'evaluate');
    expect(evaluates.map((s) => [s.error, s.attributes['rebound.result']])).toEqual([
      ['evaluation postponed: Prometheus is down', undefined],
      [undefined, undefined],
      [undefined, 'pass'],
    ]);
    expect(evaluates[1]?.attributes['rebound.evaluation.postponed']).toBe('evaluation postponed: no sample yet');
    expect(spans.filter((s) => s.name === 'evaluation').map((s) => s.error)).toEqual([
      'Prometheus is down',
      undefined,
      undefined,
    ]);
    expect(spans.at(-1)?.name).toBe('problem');
  });

  it('makes no span for a step that only waits', async () => {
    const { w, spans } = traced();
    await w.step();
    const count = spans.length;
    w.advance(60_000);
    await w.step(); // the evaluation is not due yet
    expect(spans).toHaveLength(count);
  });
});

describe('ProblemEventReconciler: undo after resolve (revertAfter)', () => {
  /** A world whose policy entry asks for its changes to be reverted an hour after the problem resolved. */
  function reverting(): World {
    const w = new World();
    w.remediation = {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Remediation',
      metadata: { name: 'carts', namespace: 'sockshop' },
      spec: {
        project: 'sockshop',
        stage: 'production',
        service: 'carts',
        remediations: [{ problemType: 'response_time_p90', actionsOnOpen: w.actions, revertAfter: '1h' }],
      },
    };
    return w;
  }

  /** Attempt 1 (scale +1) is committed, applied and passes: the problem is Reverting for an hour. */
  async function resolve(w: World): Promise<void> {
    await w.step();
    w.advance(120_000);
    w.evaluations.push(pass);
    expect(await w.step()).toBe(3_600_000);
    expect(w.problem.status?.phase).toBe('Reverting');
  }

  it('waits revertAfter, commits the inverse edit with its trailer, applies, evaluates and ends Reverted', async () => {
    const w = reverting();
    const requests: CommitRequest[] = [];
    const commit = w.repository.commitAction.bind(w.repository);
    w.repository.commitAction = (req) => {
      requests.push(req);
      return commit(req);
    };
    await resolve(w);
    const status = w.problem.status;
    expect(status?.attempts?.[0]?.edits).toEqual([{ key: 'replicaCount', from: '1', to: '2' }]);
    expect(status?.revert).toMatchObject({
      state: 'Waiting',
      after: '1h',
      dueTime: '2026-11-22T13:02:00.000Z',
      reverts: [w.commits[0]?.sha],
    });
    expect(status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    expect(status?.conditions?.find((c) => c.type === 'Reverted')).toMatchObject({
      status: 'False',
      reason: 'RevertScheduled',
    });
    // The service's turn is given back at once: a new problem need not wait an hour.
    expect(w.turnCalls.at(-1)).toBe('release');
    const turns = w.turnCalls.length;

    w.advance(1_800_000);
    expect(await w.step()).toBe(1_800_000);
    expect(w.commits).toHaveLength(1);

    w.advance(1_800_000);
    // Commit and apply in one reconcile; then the evaluation's wait.
    expect(await w.step()).toBe(120_000);
    expect(w.commits[1]?.text).toBe(VALUES);
    expect(requests[1]).toMatchObject({ attempt: 2, actionLabel: 'scale 1', notes: { reverts: [w.commits[0]?.sha] } });
    expect(requests[1]?.subject('replicaCount 2 → 1')).toBe(
      'rebound: revert replicaCount 2 → 1 for carts in production',
    );
    expect(w.applied.at(-1)?.replicas).toBe(1);
    expect(w.problem.status?.revert).toMatchObject({
      state: 'Applied',
      commit: w.commits[1]?.sha,
      edits: [{ key: 'replicaCount', from: '2', to: '1' }],
    });
    expect(w.problem.status?.phase).toBe('Reverting');

    w.advance(120_000);
    w.evaluations.push(pass);
    expect(await w.step()).toBeUndefined();
    expect(w.problem.status?.phase).toBe('Reverted');
    expect(w.problem.status?.revert).toMatchObject({ state: 'Reverted', result: 'pass', score: 100 });
    expect(w.problem.status?.conditions?.find((c) => c.type === 'Reverted')).toMatchObject({
      status: 'True',
      reason: 'Reverted',
    });
    expect(w.recorded.filter((r) => r.startsWith('revert'))).toEqual(['revert Reverted']);
    // The revert window starts at its apply.
    expect(w.windows.at(-1)?.start.toISOString()).toBe('2026-11-22T13:02:00.000Z');
    // The undo never claimed the service's turn.
    expect(w.turnCalls.length).toBe(turns);
    expect(w.events.map((e) => e.split(':')[0]).slice(-4)).toEqual([
      'Normal Resolved',
      'Normal RevertCommitted',
      'Normal RevertApplied',
      'Normal Reverted',
    ]);
    expect(await w.step()).toBeUndefined();
    expect(w.commits).toHaveLength(2);
  });

  it('with a GitOps engine, evaluates the revert only once the engine reports its commit', async () => {
    const w = reverting();
    w.stageApply = 'flux';
    await w.step();
    const remediated = w.commits[0]?.sha ?? '';
    w.syncStates = [{ kind: 'synced', revision: remediated, detail: `applied production@sha1:${remediated}` }];
    w.advance(2_000);
    expect(await w.step()).toBe(120_000);
    w.advance(120_000);
    w.evaluations.push(pass);
    expect(await w.step()).toBe(3_600_000);
    expect(w.problem.status?.phase).toBe('Reverting');

    // The revert is committed and handed to Flux, which has not fetched it yet: no evaluation is due.
    w.syncStates = [{ kind: 'pending', detail: 'GitRepository flux-system/carts has not fetched the commit yet' }];
    w.advance(3_600_000);
    expect(await w.step()).toBe(2_000);
    const revertSha = w.commits[1]?.sha ?? '';
    expect(w.applied.at(-1)).toMatchObject({ commit: revertSha });
    expect(w.problem.status?.revert).toMatchObject({ state: 'Committed', sync: { engine: 'flux' } });
    expect(w.problem.status?.revert?.appliedTime).toBeUndefined();
    expect(w.problem.status?.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({
      reason: 'WaitingForSync',
    });
    w.advance(2_000);
    expect(await w.step()).toBe(2_000);
    expect(w.syncChecks.at(-1)).toMatchObject({ engine: 'flux', commit: revertSha });
    expect(w.problem.status?.conditions?.find((c) => c.type === 'Reconciling')?.message).toBe(
      `revert ${revertSha.slice(0, 12)}: GitRepository flux-system/carts has not fetched the commit yet`,
    );

    // Flux reports it: the revert is applied now, and its evaluation counts from here.
    w.syncStates = [{ kind: 'synced', revision: revertSha, detail: `applied production@sha1:${revertSha}` }];
    w.advance(5_000);
    const reported = w.now.getTime();
    // A clock that moves between reads: synced and applied are still one moment.
    w.clockTick = 1;
    const wait = (await w.step()) ?? 0;
    w.clockTick = 0;
    const revert = w.problem.status?.revert;
    const applied = revert?.appliedTime ?? '';
    expect(revert).toMatchObject({ state: 'Applied', sync: { revision: revertSha, syncedTime: applied } });
    expect(Date.parse(applied) - reported).toBeLessThan(10);
    // The evaluation is due 2 min after the apply, counted from a clock read a few ticks away.
    expect(Math.abs(wait - 120_000)).toBeLessThan(10);
    expect(w.events.at(-1)).toContain(`synced by Flux at ${revertSha}`);
    w.advance(120_000);
    w.evaluations.push(pass);
    expect(await w.step()).toBeUndefined();
    expect(w.problem.status?.phase).toBe('Reverted');
    expect(w.windows.at(-1)?.start.toISOString()).toBe(applied);
  });

  it('restores the remediated values in a new commit when the revert fails its evaluation, and tells a person', async () => {
    const w = reverting();
    await resolve(w);
    w.advance(3_600_000);
    await w.step();
    w.advance(120_000);
    w.evaluations.push(fail);
    expect(await w.step()).toBeUndefined();
    expect(w.commits.map((c) => [c.attempt, c.text.split('\n')[0]])).toEqual([
      [1, 'replicaCount: 2 # keep'],
      [2, 'replicaCount: 1 # keep'],
      [3, 'replicaCount: 2 # keep'],
    ]);
    expect(w.applied.map((a) => a.replicas)).toEqual([2, 1, 2]);
    const status = w.problem.status;
    expect(status?.phase).toBe('Resolved');
    expect(status?.revert).toMatchObject({ state: 'Restored', result: 'fail', restoreCommit: w.commits[2]?.sha });
    expect(status?.conditions?.find((c) => c.type === 'Reverted')).toMatchObject({
      status: 'False',
      reason: 'RevertFailed',
    });
    expect(status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(w.events.filter((e) => e.startsWith('Warning RevertFailed'))).toHaveLength(2);
    expect(w.events.at(-1)).toContain('remediated values restored');
  });

  it('leaves a key a person changed since, naming their commit and author, and commits nothing', async () => {
    const w = reverting();
    await resolve(w);
    // A person sets the replicas to 5 after Rebound's commit.
    const mine = w.commits[0]?.sha ?? '';
    const theirs = 'person1'.padEnd(40, '0');
    const text = 'replicaCount: 5 # keep\nfeatureFlags:\n  EnablePromotion: true\n';
    w.files.set('carts/values.yaml', text);
    w.commits.push({ sha: theirs, text, attempt: 0 });
    w.repository.fileHistory = (_tip, since) =>
      Promise.resolve(
        since === mine ? [{ sha: theirs, parent: mine, author: 'Ann <ann@example.com>', subject: 'more' }] : [],
      );
    w.advance(3_600_000);
    expect(await w.step()).toBeUndefined();
    expect(w.commits).toHaveLength(2);
    const status = w.problem.status;
    expect(status?.phase).toBe('Resolved');
    expect(status?.revert).toMatchObject({
      state: 'Conflicted',
      conflicts: [{ key: 'replicaCount', wrote: '2', found: '5', commit: theirs, author: 'Ann <ann@example.com>' }],
    });
    const reverted = status?.conditions?.find((c) => c.type === 'Reverted');
    expect(reverted).toMatchObject({ status: 'False', reason: 'RevertConflict' });
    expect(reverted?.message).toContain(`since ${theirs.slice(0, 12)} by Ann <ann@example.com>`);
    expect(w.events.at(-1)).toMatch(/^Warning RevertConflict/);
  });

  it('sets back every applied attempt, each key applied as its own action type', async () => {
    const w = reverting();
    const requests: CommitRequest[] = [];
    const commit = w.repository.commitAction.bind(w.repository);
    w.repository.commitAction = (req) => {
      requests.push(req);
      return commit(req);
    };
    // scale +1 fails, the promotion off passes.
    await w.step();
    w.advance(120_000);
    w.evaluations.push(fail);
    await w.step();
    w.advance(120_000);
    w.evaluations.push(pass);
    await w.step();
    expect(w.problem.status?.phase).toBe('Reverting');
    expect(w.problem.status?.revert?.reverts).toEqual([w.commits[0]?.sha, w.commits[1]?.sha]);
    w.advance(3_600_000);
    await w.step();
    expect(w.commits[2]).toMatchObject({ attempt: 3, text: VALUES });
    expect(requests[2]?.actionLabel).toBe('scale 1; featuretoggle EnablePromotion:on');
    // The kubernetes applier is told the replicas by the scale action and the flags by the toggle.
    expect(w.applied.slice(-2).map((a) => [a.replicas, a.featureFlags])).toEqual([
      [1, undefined],
      [undefined, { EnablePromotion: true }],
    ]);
    w.advance(120_000);
    w.evaluations.push(pass);
    await w.step();
    expect(w.problem.status?.phase).toBe('Reverted');
  });

  it('waits for the revert to roll out before its evaluation, and restores when it does not roll out', async () => {
    const w = reverting();
    const figures = { observedGeneration: 3, replicas: 1, updatedReplicas: 1, readyReplicas: 0, availableReplicas: 0 };
    const rolling: RolloutObservation = {
      kind: 'observed',
      workloads: ['Deployment/carts'],
      rollout: {
        kind: 'progressing',
        reason: 'AvailableReplicas',
        message: 'Deployment/carts: 0 of 1 available',
        figures,
      },
    };
    const done: RolloutObservation = {
      ...rolling,
      rollout: { kind: 'complete', figures: { ...figures, readyReplicas: 1, availableReplicas: 1 } },
    };
    w.applyExtra = { rollout: true };
    w.rollouts = [done];
    await w.step();
    w.advance(120_000);
    w.evaluations.push(pass);
    await w.step();
    expect(w.problem.status?.phase).toBe('Reverting');
    w.advance(3_600_000);
    w.rollouts = [rolling];
    // Commit, apply and the first look: not live, no evaluation due yet.
    expect(await w.step()).toBe(1_000);
    expect(w.problem.status?.revert).toMatchObject({ state: 'Applied', rollout: { state: 'Progressing' } });
    expect(w.problem.status?.nextEvaluationTime).toBeUndefined();
    w.advance(5_000);
    w.rollouts = [done];
    expect(await w.step()).toBe(120_000);
    const live = '2026-11-22T13:02:05.000Z';
    expect(w.problem.status?.revert).toMatchObject({ liveTime: live, rollout: { state: 'Complete' } });
    w.advance(120_000);
    w.evaluations.push(pass);
    await w.step();
    expect(w.windows.at(-1)?.start.toISOString()).toBe(live);
    expect(w.problem.status?.phase).toBe('Reverted');

    // A revert whose rollout fails is restored.
    const v = reverting();
    v.applyExtra = { rollout: true };
    v.rollouts = [done];
    await v.step();
    v.advance(120_000);
    v.evaluations.push(pass);
    await v.step();
    v.advance(3_600_000);
    v.rollouts = [
      { ...rolling, rollout: { kind: 'failed', reason: 'ProgressDeadlineExceeded', message: 'stuck', figures } },
    ];
    await v.step();
    await v.step();
    expect(v.problem.status?.phase).toBe('Resolved');
    expect(v.problem.status?.revert).toMatchObject({ state: 'Restored', rollout: { state: 'Failed' } });
    expect(v.problem.status?.revert?.message).toContain('the revert did not roll out');
    expect(v.commits.map((c) => c.attempt)).toEqual([1, 2, 3]);
  });

  it('calls the undo off when a new problem of the service opens before revertAfter', async () => {
    const w = reverting();
    await resolve(w);
    w.others = [
      {
        ...w.problem,
        metadata: { ...w.problem.metadata, name: 'p2', uid: 'uid-2' },
        status: { phase: 'Remediating' },
      },
    ];
    expect(await w.step()).toBeUndefined();
    expect(w.problem.status?.phase).toBe('Resolved');
    expect(w.problem.status?.revert?.state).toBe('Cancelled');
    expect(w.problem.status?.conditions?.find((c) => c.type === 'Reverted')?.reason).toBe('RevertCancelled');
    expect(w.commits).toHaveLength(1);
  });

  it('finishes Resolved as before when the entry asks for no revert', async () => {
    const w = new World();
    await w.step();
    w.advance(120_000);
    w.evaluations.push(pass);
    expect(await w.step()).toBeUndefined();
    expect(w.problem.status?.phase).toBe('Resolved');
    expect(w.problem.status?.revert).toBeUndefined();
  });
});
