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
import { ANNOTATIONS, REASONS, isTerminal } from '../../api/index.ts';
import type { ProblemEvent } from '../../api/index.ts';
import { ReboundError, errorMessage } from '../../errors.ts';
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
import type { Chain, StepContext, StepResult } from './steps/types.ts';
import { NO_SPAN } from '../../observability/tracing/tracer.ts';
import type { Span, Tracer } from '../../observability/tracing/tracer.ts';
import {
  closedWaits,
  decisionIndex,
  finishedProblemSpan,
  problemAttributes,
  stepTracing,
  traceparentOf,
} from './tracing.ts';

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
    if (this.ports.tracer && !isTerminal(problem.status?.phase) && !traceparentOf(problem)) {
      const annotated = await this.startTrace(problem, this.ports.tracer);
      if (!annotated) return undefined;
      problem = annotated;
    }
    // A step that asks for the next one at once (commit → apply, escalate → commit) continues here
    // from the object its status write returned: no queue round trip, and no decision taken on a
    // cache that has not yet seen our own write. Each step writes its status first, so a crash
    // between them loses nothing; a commit followed at once by a quick apply leaves its status to
    // the apply's write (StatusDraft.carry), found again by its trailers if that write never comes.
    const chain: Chain = { turnConfirmed: false };
    for (let chained = 1; ; chained++) {
      const draft = new StatusDraft(problem, this.ports.clock(), this.ports.writer, ctx.log);
      const result = await this.step(draft, ctx, chain);
      // Deleted while we worked (our status write found no object): nothing left to do.
      if (draft.gone || 'done' in result) return undefined;
      if ('retry' in result) throw result.retry;
      if ('requeueAfterMs' in result) return result;
      const next = draft.written ?? draft.carried;
      if (!next) return NEXT_STEP;
      if (chained >= MAX_CHAINED_STEPS || ctx.signal.aborted) {
        // A status carried to the next step is written before the chain yields: the queue's next
        // reconcile starts from what the cache will hold.
        if (!draft.written) await draft.write();
        return draft.gone ? undefined : NEXT_STEP;
      }
      problem = next;
    }
  }

  /** One step: what it needs, the decision, the step that carries it out; failures become status. */
  private async step(draft: StatusDraft, ctx: ReconcileContext, chain: Chain): Promise<StepResult> {
    try {
      const step = await this.prepare(draft, ctx);
      if ('result' in step) return step.result;
      ctx.log.debug({ decision: step.decision.kind }, 'decided next step');
      const waiting = await claimTurn(draft, this.ports, step, chain);
      if (waiting) return waiting;
      const span = this.stepSpan(draft, step);
      try {
        const result = await run(draft, this.ports, { ...step, span });
        this.endStep(draft, step, span, result);
        return result;
      } catch (err) {
        span.fail(errorMessage(err));
        span.end();
        throw err;
      }
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
    const inProject = (): ProblemEvent[] => this.inProject(draft.problem);
    const holds = (): HoldOutcome =>
      holdFor({
        problem: draft.problem,
        project,
        // Copied from the cache only when a Project rule counts them.
        get projectProblems() {
          return inProject();
        },
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
    return { decision, project, stage, remediation, log: ctx.log, signal: ctx.signal, span: NO_SPAN };
  }

  /**
   * Names the problem's trace once: a new traceparent on the annotation, written conditionally on the
   * version read, so two writers (or a cache that lags behind our own write) never give one problem
   * two traces. A value already there that is not a valid traceparent is replaced. Returns the stored
   * object, or undefined when the problem is gone.
   */
  private async startTrace(problem: ProblemEvent, tracer: Tracer): Promise<ProblemEvent | undefined> {
    try {
      return await this.ports.writer.annotate(problem, { [ANNOTATIONS.traceparent]: tracer.newTraceparent() });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      // A conflict (our cache was behind) or the API server out of reach: the queue retries.
      throw err;
    }
  }

  /** The step's span under the problem's span, or NO_SPAN when tracing is off or the step only waits. */
  private stepSpan(draft: StatusDraft, step: StepContext): Span {
    const tracer = this.ports.tracer;
    const traceparent = traceparentOf(draft.problem);
    if (!tracer || !traceparent || stepTracing(step.decision) === 'none') return NO_SPAN;
    const index = decisionIndex(step.decision);
    const attempt = index === undefined ? undefined : draft.attempt(index);
    return tracer.start(traceparent, step.decision.kind, {
      ...problemAttributes(draft.problem, attempt),
      ...(index === undefined ? {} : { 'rebound.attempt': index }),
      'rebound.decision': step.decision.kind,
    });
  }

  /**
   * Ends the step's span with what it came to, records the waits the step closed (an approval
   * decided, an evaluation run) and, when the problem reached a final phase, the problem's own span.
   */
  private endStep(draft: StatusDraft, step: StepContext, span: Span, result: StepResult): void {
    const tracer = this.ports.tracer;
    const traceparent = traceparentOf(draft.problem);
    if (!tracer || !traceparent) return;
    const written = draft.written ?? draft.carried;
    if (stepTracing(step.decision) === 'when-written' && !written) {
      span.drop();
      return;
    }
    const index = decisionIndex(step.decision) ?? written?.status?.currentAttempt;
    const after = index === undefined ? undefined : written?.status?.attempts?.find((a) => a.index === index);
    span.setAttributes({
      ...problemAttributes(draft.problem, after),
      ...(written?.status?.phase ? { 'rebound.phase': written.status.phase } : {}),
      ...(after?.result ? { 'rebound.result': after.result } : {}),
    });
    if ('retry' in result) span.fail(errorMessage(result.retry));
    const stalled = written?.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    if (stalled) span.fail(`${stalled.reason}: ${stalled.message}`);
    span.end();
    if (!written) return;
    const before = index === undefined ? undefined : draft.problem.status?.attempts?.find((a) => a.index === index);
    for (const wait of closedWaits(before, after)) {
      const waitSpan = tracer.start(
        traceparent,
        wait.name,
        { ...problemAttributes(written, after), ...wait.attributes },
        wait.start,
      );
      if (wait.error) waitSpan.fail(wait.error);
      waitSpan.end(wait.end);
    }
    const problemSpan = finishedProblemSpan(draft.problem, written, this.ports.clock());
    if (problemSpan) tracer.record(traceparent, problemSpan);
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
