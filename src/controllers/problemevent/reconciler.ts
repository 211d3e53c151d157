// The ProblemEvent reconciler: takes a key, re-reads the world, does ONE step of the loop
// (commit an action, apply it, evaluate it, or finish), writes the status, and says when to look again.
//
//   Pending ──commit──▶ Remediating ──apply──▶ Evaluating ──pass/warning──▶ Resolved
//                           ▲                      │ fail
//                           └──────next action─────┘        no action left ──▶ Exhausted
//   no policy / manual stage ──▶ Unhandled;  source says RESOLVED ──▶ Resolved
//
// "apply" runs the attempt's action (src/actions): a values edit applied by helm/kubernetes/none, a
// webhook, an external executor. An action may wait for a callback (Remediating until it arrives or
// its deadline passes); an action that fails fails its attempt without an evaluation, and escalates.
//
// decide() chooses the step; steps/ carries it out over a StatusDraft (steps/index.ts maps one to
// the other). This file only reads what a step needs, runs it, and turns its result into the
// queue's: the only place that throws for the queue's backoff.
//
// Crash safety comes from the order of writes: the commit carries trailers (problem uid, attempt),
// so a restart between push and status write finds the commit instead of making a second one; an
// attempt with a commit but no appliedTime is applied again (helm upgrade is idempotent).
import { REASONS } from '../../api/index.ts';
import type { ProblemEvent } from '../../api/index.ts';
import { ReboundError } from '../../errors.ts';
import { isConflict, isNotFound } from '../../kube/errors.ts';
import type { Reconciler, ReconcileContext, ReconcileResult } from '../../runtime/controller.ts';
import { holdFor } from '../../rules/holds.ts';
import type { HoldOutcome } from '../../rules/holds.ts';
import { decide, keyOf } from './decide.ts';
import type { Decision } from './decide.ts';
import type { ProblemLoopPorts } from './ports.ts';
import { StatusDraft } from './steps/draft.ts';
import { failStep, stall } from './steps/finish.ts';
import { STEPS } from './steps/index.ts';
import { claimTurn } from './steps/turn.ts';
import type { StepContext, StepResult } from './steps/types.ts';

/** Ask to be reconciled again right away (a chain cut short). */
const NEXT_STEP: ReconcileResult = { requeueAfterMs: 1 };
/** Steps one reconcile may chain; the loop is bounded, and a long chain yields the worker. */
const MAX_CHAINED_STEPS = 4;

export class ProblemEventReconciler implements Reconciler {
  private readonly ports: ProblemLoopPorts;

  constructor(ports: ProblemLoopPorts) {
    this.ports = ports;
  }

  async reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult | undefined> {
    const cached = this.ports.cache.get(key);
    if (!cached) {
      // Deleted: an action still running for it has nobody left to report to, and its turn is free.
      this.ports.background.cancel(key);
      await this.ports.turns.forget(key);
      return undefined;
    }
    let problem: ProblemEvent = cached;
    // A step that asks for the next one at once (commit → apply, escalate → commit) continues here
    // from the object its status write returned: no queue round trip, and no decision taken on a
    // cache that has not yet seen our own write. Each step still writes its status first, so a crash
    // between them loses nothing.
    for (let chained = 1; ; chained++) {
      const draft = new StatusDraft(problem, this.ports.clock(), this.ports.writer, ctx.log);
      const result = await this.step(draft, ctx);
      // Deleted while we worked (our status write found no object): nothing left to do.
      if (draft.gone || 'done' in result) return undefined;
      if ('retry' in result) throw result.retry;
      if ('requeueAfterMs' in result) return result;
      if (!draft.written || chained >= MAX_CHAINED_STEPS || ctx.signal.aborted) return NEXT_STEP;
      problem = draft.written;
    }
  }

  /** One step: what it needs, the decision, the step that carries it out; failures become status. */
  private async step(draft: StatusDraft, ctx: ReconcileContext): Promise<StepResult> {
    try {
      const step = await this.prepare(draft, ctx);
      if ('result' in step) return step.result;
      ctx.log.debug({ decision: step.decision.kind }, 'decided next step');
      const waiting = await claimTurn(draft, this.ports, step);
      if (waiting) return waiting;
      return await run(draft, this.ports, step);
    } catch (err) {
      if (isNotFound(err)) return { done: true };
      // Our status write was conditional on the version we read and someone wrote in between: a
      // stale view, not a failure of the step. The queue retries with a fresh read.
      if (isConflict(err) || !(err instanceof ReboundError)) return { retry: err };
      // Any other classified failure (Git out of reach while reading the policy, a Secret gone)
      // gets its condition here, so no problem ever fails silently.
      return failStep(draft, this.ports, ctx.log, err, REASONS.CommitFailed, 'the remediation step could not run');
    }
  }

  /** The Project, the stage and the policy's limits, then decide(); a missing Project or stage stalls. */
  private async prepare(draft: StatusDraft, ctx: ReconcileContext): Promise<StepContext | { result: StepResult }> {
    const { spec } = draft.problem;
    const project = this.ports.projects.getProject(draft.namespace, spec.project);
    if (!project) {
      return {
        result: await stall(
          draft,
          this.ports,
          REASONS.ProjectNotFound,
          `Project ${draft.namespace}/${spec.project} does not exist`,
        ),
      };
    }
    const stage = await this.ports.projects.resolveStage(project, spec.stage);
    if (!stage) {
      return {
        result: await stall(
          draft,
          this.ports,
          REASONS.StageNotFound,
          `Project ${spec.project} has no stage "${spec.stage}"`,
        ),
      };
    }
    const remediation = this.ports.projects.findRemediation(draft.namespace, spec.project, spec.stage, spec.service);
    const holds = (): HoldOutcome =>
      holdFor({
        problem: draft.problem,
        project,
        projectProblems: this.inProject(draft.problem),
        remediation,
        now: draft.now,
      });
    const decision = decide({
      problem: draft.problem,
      siblings: this.siblings(draft.problem),
      now: draft.now,
      stage,
      limits: remediation?.spec.limits,
      holds,
    });
    return { decision, project, stage, remediation, log: ctx.log, signal: ctx.signal };
  }

  /** The service's problems from the cache, with this one as we hold it (the cache may lag behind our writes). */
  private siblings(problem: ProblemEvent): ProblemEvent[] {
    const self = keyOf(problem);
    const others = this.ports.cache.siblings(problem).filter((p) => keyOf(p) !== self);
    return [...others, problem];
  }

  /** The Project's problems, with this one as we hold it. */
  private inProject(problem: ProblemEvent): ProblemEvent[] {
    const self = keyOf(problem);
    return [...this.ports.cache.inProject(problem).filter((p) => keyOf(p) !== self), problem];
  }
}

/** The step for the context's decision (the table is keyed by kind; TypeScript cannot pair them itself). */
function run<D extends Decision>(
  draft: StatusDraft,
  ports: ProblemLoopPorts,
  ctx: StepContext<D>,
): Promise<StepResult> {
  const step = STEPS[ctx.decision.kind] as (
    draft: StatusDraft,
    deps: ProblemLoopPorts,
    ctx: StepContext<D>,
  ) => Promise<StepResult>;
  return step(draft, ports, ctx);
}
