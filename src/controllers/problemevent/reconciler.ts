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
// Crash safety comes from the order of writes: the commit carries trailers (problem uid, attempt),
// so a restart between push and status write finds the commit instead of making a second one; an
// attempt with a commit but no appliedTime is applied again (helm upgrade is idempotent).
import { CONDITION_TYPES, REASONS } from '../../api/index.ts';
import type { ActionExecution, Attempt, Condition, EvaluationResult, Phase, ProblemEvent, ProblemEventStatus, Project, Reason, Remediation } from '../../api/index.ts';
import { actionIdFor } from '../../actions/types.ts';
import type { ActionContext, ActionHandler, ActionOutcome } from '../../actions/types.ts';
import { ReboundError, errorMessage } from '../../errors.ts';
import { isConflict, isNotFound } from '../../kube/errors.ts';
import { describeChange } from '../../remediation/actions.ts';
import type { Change } from '../../remediation/actions.ts';
import type { Reconciler, ReconcileContext, ReconcileResult } from '../../runtime/controller.ts';
import { timed } from '../../observability/timing.ts';
import { removeCondition, setCondition } from '../conditions.ts';
import { gitFailureReason, isReason } from '../git-errors.ts';
import type { ConditionUpdate } from '../conditions.ts';
import { decide, keyOf, parseDuration } from './decide.ts';
import type { Decision } from './decide.ts';
import type { PolicyResolution, ProblemLoopPorts, ResolvedStage } from './ports.ts';

/** Ask to be reconciled again right away (the next step of the loop). */
const NEXT_STEP: ReconcileResult = { requeueAfterMs: 1 };
/** An action running in the background enqueues its problem when it settles; this is only the safety net. */
const BACKGROUND_RECHECK_MS = 60_000;

export class ProblemEventReconciler implements Reconciler {
  private readonly ports: ProblemLoopPorts;

  constructor(ports: ProblemLoopPorts) {
    this.ports = ports;
  }

  async reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult | undefined> {
    const cached = this.ports.cache.get(key);
    if (!cached) {
      // Deleted: an action still running for it has nobody left to report to.
      this.ports.background.cancel(key);
      return undefined;
    }
    let problem: ProblemEvent = cached;
    // A step that asks for the next one at once (commit → apply, escalate → commit) continues here
    // from the object its status write returned: no queue round trip, and no decision taken on a
    // cache that has not yet seen our own write. Each step still writes its status first, so a crash
    // between them loses nothing.
    for (let chained = 1; ; chained++) {
      const step: Step = new Step(this.ports, problem, ctx);
      const result = await step.run();
      const written: ProblemEvent | undefined = step.written;
      if (result !== NEXT_STEP || !written || chained >= MAX_CHAINED_STEPS || ctx.signal.aborted) return result;
      problem = written;
    }
  }
}

/** Steps one reconcile may chain; the loop is bounded, and a long chain yields the worker. */
const MAX_CHAINED_STEPS = 4;

/** One reconcile of one problem: the state it read and the status it will write. */
class Step {
  private readonly ports: ProblemLoopPorts;
  private readonly problem: ProblemEvent;
  private readonly ctx: ReconcileContext;
  private readonly now: Date;
  private status: ProblemEventStatus;
  /** A retryable failure was written to the status and rethrown for the queue's backoff. */
  private reported = false;
  /** The stored object after this step's last status write. */
  written: ProblemEvent | undefined;

  constructor(ports: ProblemLoopPorts, problem: ProblemEvent, ctx: ReconcileContext) {
    this.ports = ports;
    this.problem = problem;
    this.ctx = ctx;
    this.now = ports.clock();
    this.status = structuredClone(problem.status ?? {});
  }

  async run(): Promise<ReconcileResult | undefined> {
    try {
      return await this.step();
    } catch (err) {
      // Deleted while we worked (our status write found no object): nothing left to do.
      if (isNotFound(err)) return undefined;
      // Our status write was conditional on the version we read and someone wrote in between: a
      // stale view, not a failure of the step. The queue retries with a fresh read.
      if (isConflict(err)) throw err;
      // Errors already written to the status are on their way to the queue's backoff; any other
      // classified failure (Git out of reach while reading the policy, a Secret gone) gets its
      // condition here, so no problem ever fails silently.
      if (this.reported || !(err instanceof ReboundError)) throw err;
      const reason = gitFailureReason(err, REASONS.CommitFailed);
      return this.failStep(err, reason, 'the remediation step could not run');
    }
  }

  private async step(): Promise<ReconcileResult | undefined> {
    const { spec, metadata } = this.problem;
    const namespace = metadata.namespace ?? 'default';
    const project = this.ports.projects.getProject(namespace, spec.project);
    if (!project) {
      return this.stall(REASONS.ProjectNotFound, `Project ${namespace}/${spec.project} does not exist`);
    }
    const stage = await this.ports.projects.resolveStage(project, spec.stage);
    if (!stage) {
      return this.stall(REASONS.StageNotFound, `Project ${spec.project} has no stage "${spec.stage}"`);
    }
    const remediation = this.ports.projects.findRemediation(namespace, spec.project, spec.stage, spec.service);
    const decision = decide({
      problem: this.problem,
      siblings: this.siblings(),
      now: this.now,
      stage,
      limits: remediation?.spec.limits,
    });
    this.ctx.log.debug({ decision: decision.kind }, 'decided next step');
    return this.execute(decision, project, stage);
  }

  private async execute(decision: Decision, project: Project, stage: ResolvedStage): Promise<ReconcileResult | undefined> {
    switch (decision.kind) {
      case 'done':
        return undefined;
      case 'resolve-by-source':
        return this.finish('Resolved', REASONS.ProblemResolved, 'the source reported the problem as resolved', 'Normal');
      case 'unhandled-by-stage': {
        const reason = decision.mode === 'manual' ? REASONS.RemediationManual : REASONS.RemediationDisabled;
        return this.finish('Unhandled', reason, `remediation is ${decision.mode} for stage ${stage.name}`, 'Normal');
      }
      case 'wait-turn':
        await this.write({ phase: this.status.phase ?? 'Pending' }, [
          { type: CONDITION_TYPES.Reconciling, status: 'True', reason: REASONS.Queued, message: `waiting for ${decision.holder}: one remediation at a time per service` },
        ]);
        return { requeueAfterMs: this.ports.settings.turnPollMs };
      case 'throttled': {
        const reason = decision.limit === 'cooldown' ? REASONS.CoolingDown : REASONS.LimitReached;
        const what = decision.limit === 'cooldown' ? 'cooldown between actions' : 'maximum actions per hour';
        await this.write({ phase: this.status.phase ?? 'Pending' }, [
          { type: CONDITION_TYPES.Reconciling, status: 'True', reason, message: `${what} holds the next action back until ${decision.until.toISOString()}` },
        ]);
        return { requeueAfterMs: Math.max(1, decision.until.getTime() - this.now.getTime()) };
      }
      case 'start-attempt':
        return this.startAttempt(decision.index, project, stage);
      case 'apply-attempt':
        return this.applyAttempt(decision.index, project, stage);
      case 'wait-action':
        return { requeueAfterMs: Math.max(1, decision.until.getTime() - this.now.getTime()) };
      case 'complete-action':
        return this.completeAction(decision.index, stage);
      case 'action-timed-out':
        return this.actionTimedOut(decision.index);
      case 'wait-evaluation':
        return { requeueAfterMs: Math.max(1, decision.at.getTime() - this.now.getTime()) };
      case 'evaluate':
        return this.evaluate(decision.index, project, stage);
    }
  }

  /** Choose action k, turn it into a commit on the stage branch, record it. */
  private async startAttempt(index: number, project: Project, stage: ResolvedStage): Promise<ReconcileResult | undefined> {
    const remediation = this.ports.projects.findRemediation(this.namespace, this.problem.spec.project, stage.name, this.problem.spec.service);
    const policy = await timed(
      (result, seconds) => (remediation ? undefined : this.ports.metrics?.gitOperation?.('fetch', result, seconds)),
      () => this.ports.policies.resolve({ problem: this.problem, project, stage, remediation }),
    );
    if (!policy.ok) {
      this.status.conditions = setCondition(this.status.conditions, { type: CONDITION_TYPES.PolicyResolved, status: 'False', reason: REASONS[policy.reason], message: policy.message }, this.now);
      return this.finish('Unhandled', REASONS[policy.reason], policy.message, 'Warning');
    }
    this.status.policySource = policy.source;
    this.status.conditions = setCondition(this.status.conditions, {
      type: CONDITION_TYPES.PolicyResolved,
      status: 'True',
      reason: REASONS.PolicyFound,
      message: policy.warning ?? `${describeSource(policy)} has ${policy.actions.length} action(s) for this problem`,
    }, this.now);

    const action = policy.actions[index - 1];
    if (!action) {
      const tried = index - 1;
      return this.finish('Exhausted', REASONS.ActionsExhausted, `all ${tried} action(s) were tried and none passed its evaluation`, 'Warning');
    }
    const handler = this.ports.actions.handlerFor(action.action);
    if (!handler) {
      const known = this.ports.actions.builtIn.join(', ');
      return this.stall(REASONS.UnknownAction, `action ${index} "${action.action}" is not one Rebound can carry out (${known}); other types need an external executor (--action-sink)`);
    }
    const value = typeof action.value === 'string' ? action.value : JSON.stringify(action.value);
    const label = `${action.action} ${value}`;
    const check = handler.check(action, { problem: this.problem, project, stage, remediation });
    if (!check.ok) return this.stall(check.reason, `action ${index} (${label}): ${check.message}`);
    const editValues = handler.editValues?.bind(handler);
    if (!editValues) {
      const described = { ...(action.name ? { name: action.name } : {}), ...(action.description ? { description: action.description } : {}) };
      return this.recordAttempt(index, { ...described, action: action.action, value }, handler, label);
    }
    const repository = await this.ports.repositories.forProject(project);
    let change: Change | undefined;
    let outcome;
    try {
      outcome = await timed((result, seconds) => this.ports.metrics?.gitOperation?.('push', result, seconds), () => repository.commitAction({
        branch: stage.branch,
        path: policy.valuesFile,
        problem: {
          namespace: this.namespace,
          name: this.problem.metadata.name ?? '',
          uid: this.problem.metadata.uid ?? '',
          ...(this.problem.metadata.creationTimestamp ? { created: new Date(this.problem.metadata.creationTimestamp) } : {}),
        },
        attempt: index,
        actionLabel: label,
        edit: (text) => {
          const result = editValues(action.value, text, {
            file: policy.valuesFile,
            ...(policy.replicasPath ? { replicasPath: policy.replicasPath } : {}),
            ...(policy.flagsPath ? { flagsPath: policy.flagsPath } : {}),
            ...(policy.limits ? { limits: policy.limits } : {}),
          });
          change = result.change;
          return result.changed ? { text: result.text, summary: result.summary } : { unchanged: result.reason };
        },
        subject: () => `rebound: ${change ? describeChange(change, this.problem.spec.service, stage.name) : label}`,
      }, this.ctx.signal));
    } catch (err) {
      this.ports.metrics?.attempt(action.action, 'commit_failed');
      return this.failStep(err, REASONS.CommitFailed, `attempt ${index} (${label}) could not be committed`);
    }
    const attempt: Attempt = {
      index,
      ...(action.name ? { name: action.name } : {}),
      action: action.action,
      value,
      branch: stage.branch,
      commit: outcome.sha,
      path: policy.valuesFile,
      // When the push finished, not when this reconcile began: the audit trail and the latency split read it.
      committedTime: this.ports.clock().toISOString(),
      ...(outcome.kind === 'no-change' ? { message: `nothing to commit: ${outcome.reason}` } : {}),
    };
    this.status.attempts = [...(this.status.attempts ?? []).filter((a) => a.index !== index), attempt];
    this.status.currentAttempt = index;
    this.status.currentAction = label;
    this.status.startTime ??= this.now.toISOString();
    const verb = outcome.kind === 'committed' ? 'committed' : outcome.kind === 'already-committed' ? 'found its earlier commit' : 'found the value already set';
    const message = `attempt ${index}: ${label} ${verb} on ${stage.branch} (${outcome.sha.slice(0, 12)})`;
    await this.write({ phase: 'Remediating' }, [{ type: CONDITION_TYPES.Reconciling, status: 'True', reason: REASONS.ActionCommitted, message }]);
    await this.event('Normal', 'Committed', message);
    return NEXT_STEP;
  }

  /** An action that does not edit values (a webhook, an external executor): recorded, then run. */
  private async recordAttempt(index: number, action: Pick<Attempt, 'name' | 'description' | 'action' | 'value'>, handler: ActionHandler, label: string): Promise<ReconcileResult | undefined> {
    const execution: ActionExecution = { id: actionIdFor(this.problem, index), executor: handler.executor, state: 'Running', startedTime: this.now.toISOString() };
    const attempt: Attempt = { index, ...action, execution };
    this.status.attempts = [...(this.status.attempts ?? []).filter((a) => a.index !== index), attempt];
    this.status.currentAttempt = index;
    this.status.currentAction = label;
    this.status.startTime ??= this.now.toISOString();
    const message = `attempt ${index}: ${label} starting (${handler.executor}, action id ${execution.id})`;
    await this.write({ phase: 'Remediating' }, [{ type: CONDITION_TYPES.Reconciling, status: 'True', reason: REASONS.ActionInProgress, message }]);
    await this.event('Normal', 'ActionStarted', message);
    return NEXT_STEP;
  }

  /** Carry the attempt's action out: apply its commit, call its webhook, hand it to an executor. */
  private async applyAttempt(index: number, project: Project, stage: ResolvedStage): Promise<ReconcileResult | undefined> {
    const attempt = this.attempt(index);
    if (!attempt) return this.stall(REASONS.ApplyFailed, `attempt ${index} is not in the status`);
    const handler = this.ports.actions.handlerFor(attempt.action);
    if (!handler) {
      return this.stall(REASONS.UnknownAction, `attempt ${index} "${attempt.action}" has nothing to carry it out any more (was the executor sink removed?)`);
    }
    const remediation = this.ports.projects.findRemediation(this.namespace, this.problem.spec.project, stage.name, this.problem.spec.service);
    const context = async (signal: AbortSignal): Promise<ActionContext> => ({
      problem: this.problem,
      project,
      stage,
      remediation,
      attempt,
      actionId: attempt.execution?.id ?? actionIdFor(this.problem, index),
      repository: await this.ports.repositories.forProject(project),
      signal,
    });
    if (handler.background) return this.runInBackground(attempt, handler, context);
    let outcome: ActionOutcome;
    try {
      outcome = await handler.run(await context(this.ctx.signal));
    } catch (err) {
      this.ports.metrics?.attempt(attempt.action, 'apply_failed');
      const how = handler.editValues ? `applied with ${stage.apply}` : `carried out by ${handler.executor}`;
      return this.failStep(err, REASONS.ApplyFailed, `attempt ${index} could not be ${how}`);
    }
    return this.recordOutcome(attempt, outcome, stage);
  }

  /**
   * A slow endpoint must never hold a worker: the action runs in the background and enqueues the
   * problem when it settles; this step only starts it, or records what it came to.
   */
  private async runInBackground(attempt: Attempt, handler: ActionHandler, context: (signal: AbortSignal) => Promise<ActionContext>): Promise<ReconcileResult | undefined> {
    const background = this.ports.background;
    const id = attempt.execution?.id ?? actionIdFor(this.problem, attempt.index);
    const state = background.state(id);
    if (state.kind === 'none') {
      background.start(id, keyOf(this.problem), async (signal) => handler.run(await context(signal)));
      return { requeueAfterMs: BACKGROUND_RECHECK_MS };
    }
    if (state.kind === 'running') return { requeueAfterMs: BACKGROUND_RECHECK_MS };
    if (state.kind === 'errored') {
      // Forgotten first: a retry after the backoff starts the action again.
      background.acknowledge(id);
      this.ports.metrics?.attempt(attempt.action, 'apply_failed');
      return this.failStep(state.error, REASONS.ApplyFailed, `attempt ${attempt.index} (${attempt.action} ${attempt.value}) could not be carried out by ${handler.executor}`);
    }
    const result = await this.recordOutcome(attempt, state.outcome, undefined);
    background.acknowledge(id);
    return result;
  }

  /** What the action came to: the evaluation's wait starts, a callback is awaited, or the attempt fails. */
  private async recordOutcome(attempt: Attempt, outcome: ActionOutcome, stage: ResolvedStage | undefined): Promise<ReconcileResult | undefined> {
    const index = attempt.index;
    const execution = (state: ActionExecution['state'], extra: Partial<ActionExecution> = {}): ActionExecution | undefined =>
      attempt.execution || outcome.execution ? { ...attempt.execution, id: attempt.execution?.id ?? actionIdFor(this.problem, index), ...outcome.execution, ...extra, state } : undefined;
    switch (outcome.kind) {
      case 'done': {
        const finished = this.ports.clock();
        const done = execution('Succeeded', { finishedTime: finished.toISOString() });
        return this.startEvaluationWait({ ...attempt, ...(done ? { execution: done } : {}), ...(outcome.helmRevision ? { helmRevision: outcome.helmRevision } : {}) }, finished, outcome.detail, stage);
      }
      case 'waiting': {
        const waiting = execution('Waiting', { deadline: outcome.deadline.toISOString() });
        this.replaceAttempt({ ...attempt, ...(waiting ? { execution: waiting } : {}) });
        const message = `attempt ${index} (${attempt.action} ${attempt.value}): ${outcome.detail}`;
        await this.write({ phase: 'Remediating' }, [{ type: CONDITION_TYPES.Reconciling, status: 'True', reason: REASONS.ActionInProgress, message }]);
        await this.event('Normal', 'ActionStarted', message);
        return { requeueAfterMs: Math.max(1, outcome.deadline.getTime() - this.now.getTime()) };
      }
      case 'failed': {
        const failed = execution('Failed', { finishedTime: this.ports.clock().toISOString() });
        return this.failAttempt({ ...attempt, ...(failed ? { execution: failed } : {}) }, outcome.reason, outcome.detail);
      }
    }
  }

  /** The runbook (or executor) reported back: success starts the evaluation's wait, failure fails the attempt. */
  private async completeAction(index: number, stage: ResolvedStage): Promise<ReconcileResult | undefined> {
    const attempt = this.attempt(index);
    const recorded = attempt?.execution;
    if (!attempt || !recorded?.callbackStatus) return NEXT_STEP;
    // A callback can overtake the loop's record of the call it answers: keep what the call reported
    // (status code, tries) when it has settled, and stop it when it has not.
    const call = this.ports.background.state(recorded.id);
    const execution = call.kind === 'settled' ? { ...call.outcome.execution, ...recorded } : recorded;
    this.ports.background.acknowledge(recorded.id);
    const said = execution.callbackMessage ? `: ${execution.callbackMessage}` : '';
    const finishedTime = execution.callbackTime ?? this.now.toISOString();
    if (execution.callbackStatus === 'succeeded') {
      const done: Attempt = { ...attempt, execution: { ...execution, state: 'Succeeded', finishedTime } };
      return this.startEvaluationWait(done, this.now, `${execution.executor ?? 'the action'} reported success${said}`, stage);
    }
    const failed: Attempt = { ...attempt, execution: { ...execution, state: 'Failed', finishedTime } };
    return this.failAttempt(failed, REASONS.ActionFailed, `${execution.executor ?? 'the action'} reported failure${said}`);
  }

  private async actionTimedOut(index: number): Promise<ReconcileResult | undefined> {
    const attempt = this.attempt(index);
    const execution = attempt?.execution;
    if (!attempt || !execution) return NEXT_STEP;
    this.ports.background.acknowledge(execution.id);
    const timedOut: Attempt = { ...attempt, execution: { ...execution, state: 'Failed', finishedTime: this.now.toISOString() } };
    return this.failAttempt(timedOut, REASONS.ActionTimedOut, `no callback for action ${execution.id} before its deadline ${execution.deadline ?? ''}`);
  }

  /** The action took effect: record it and wait before evaluating. */
  private async startEvaluationWait(attempt: Attempt, appliedAt: Date, detail: string, stage: ResolvedStage | undefined): Promise<ReconcileResult> {
    const waitMs = this.currentWait(stage?.name ?? this.problem.spec.stage);
    // The evaluation window starts when the action took effect (a Helm run or a runbook can take a while).
    const due = new Date(appliedAt.getTime() + waitMs);
    this.replaceAttempt({ ...attempt, appliedTime: appliedAt.toISOString() });
    this.status.nextEvaluationTime = due.toISOString();
    const message = `attempt ${attempt.index} applied: ${detail}; evaluation at ${due.toISOString()}`;
    await this.write({ phase: 'Evaluating' }, [{ type: CONDITION_TYPES.Reconciling, status: 'True', reason: REASONS.WaitingForEvaluation, message }]);
    await this.event('Normal', 'Applied', message);
    return { requeueAfterMs: Math.max(1, waitMs) };
  }

  /** The action itself failed: the attempt fails without an evaluation, and the loop moves on. */
  private async failAttempt(attempt: Attempt, reason: Reason, detail: string): Promise<ReconcileResult> {
    this.replaceAttempt({ ...attempt, result: 'fail', message: truncate(detail, 4096) });
    this.status.lastResult = 'fail';
    delete this.status.nextEvaluationTime;
    this.ports.metrics?.attempt(attempt.action, 'action_failed');
    const message = `attempt ${attempt.index} (${attempt.action} ${attempt.value}) failed: ${detail}: escalating to the next action`;
    await this.write({ phase: 'Remediating' }, [{ type: CONDITION_TYPES.Reconciling, status: 'True', reason, message }]);
    await this.event('Warning', 'ActionFailed', message);
    return NEXT_STEP;
  }

  /** Did the action help? Pass or warning resolves, fail escalates. */
  private async evaluate(index: number, project: Project, stage: ResolvedStage): Promise<ReconcileResult | undefined> {
    const attempt = this.attempt(index);
    if (!attempt?.appliedTime) return NEXT_STEP;
    const repository = await this.ports.repositories.forProject(project);
    let outcome;
    const started = performance.now();
    const observe = (result: EvaluationResult | 'error'): void => this.ports.metrics?.evaluation?.(result, (performance.now() - started) / 1000);
    try {
      outcome = await this.ports.evaluator.evaluate({
        problem: this.problem,
        project,
        stage,
        repository,
        ...(attempt.commit ? { commit: attempt.commit } : {}),
        window: { start: new Date(attempt.appliedTime), end: this.now },
        signal: this.ctx.signal,
      });
    } catch (err) {
      observe('error');
      if (err instanceof ReboundError && err.retryable) {
        // The metrics source being down says nothing about the service: try later, never a failed attempt.
        await this.write({}, [{ type: CONDITION_TYPES.Reconciling, status: 'True', reason: REASONS.PrometheusUnavailable, message: `evaluation postponed: ${err.message}` }]);
        return { requeueAfterMs: this.ports.settings.evaluationRetryMs };
      }
      const reason = err instanceof ReboundError && isReason(err.reason) ? err.reason : REASONS.EvaluationErrored;
      return this.stall(reason, `attempt ${index} could not be evaluated: ${errorMessage(err)}`);
    }
    observe(outcome.result);
    this.replaceAttempt({
      ...attempt,
      evaluationTime: this.now.toISOString(),
      result: outcome.result,
      score: outcome.score,
      indicatorResults: outcome.indicatorResults.slice(0, 64),
      message: outcome.message,
    });
    this.status.lastResult = outcome.result;
    delete this.status.nextEvaluationTime;
    this.ports.metrics?.attempt(attempt.action, outcome.result);
    const summary = `attempt ${index} (${attempt.action} ${attempt.value}) evaluated ${outcome.result} with score ${formatScore(outcome.score)}%`;
    if (outcome.result !== 'fail') {
      const reason = outcome.result === 'pass' ? REASONS.EvaluationPassed : REASONS.EvaluationWarning;
      await this.event('Normal', 'Evaluated', summary);
      return this.finish('Resolved', reason, summary, 'Normal');
    }
    await this.write({ phase: 'Remediating' }, [{ type: CONDITION_TYPES.Reconciling, status: 'True', reason: REASONS.Escalated, message: `${summary}: escalating to the next action` }]);
    await this.event('Warning', 'Escalated', `${summary}: escalating to the next action`);
    return NEXT_STEP;
  }

  /** The service's problems from the cache, with this one as we hold it (the cache may lag behind our writes). */
  private siblings(): ProblemEvent[] {
    const self = keyOf(this.problem);
    const others = this.ports.cache.siblings(this.problem).filter((p) => keyOf(p) !== self);
    return [...others, this.problem];
  }

  // ---- status writing ----

  private get namespace(): string {
    return this.problem.metadata.namespace ?? 'default';
  }

  private attempt(index: number): Attempt | undefined {
    return this.status.attempts?.find((a) => a.index === index);
  }

  private replaceAttempt(attempt: Attempt): void {
    this.status.attempts = (this.status.attempts ?? []).map((a) => (a.index === attempt.index ? attempt : a));
  }

  /** The policy's wait, without reading the policy again (the wait never comes from Git). */
  private currentWait(stage: string): number {
    const remediation: Remediation | undefined = this.ports.projects.findRemediation(this.namespace, this.problem.spec.project, stage, this.problem.spec.service);
    return safeDuration(this.ports.policies.evaluationWait(remediation));
  }

  /** A final phase: Resolved, Exhausted or Unhandled. */
  private async finish(phase: Phase, reason: Reason, message: string, type: 'Normal' | 'Warning'): Promise<ReconcileResult | undefined> {
    this.ports.background.cancel(keyOf(this.problem));
    this.status.completionTime = this.now.toISOString();
    delete this.status.nextEvaluationTime;
    const ready = phase === 'Resolved';
    this.status.conditions = removeCondition(this.status.conditions, CONDITION_TYPES.Reconciling);
    await this.write({ phase }, [
      { type: CONDITION_TYPES.Ready, status: ready ? 'True' : 'False', reason, message },
      { type: CONDITION_TYPES.Stalled, status: 'False', reason, message },
    ]);
    await this.event(type, phase, message);
    return undefined;
  }

  /** Only a person can fix this: say so, and look again later in case they did. */
  private async stall(reason: Reason, message: string): Promise<ReconcileResult> {
    await this.write({ phase: this.status.phase ?? 'Pending' }, [
      { type: CONDITION_TYPES.Stalled, status: 'True', reason, message },
      { type: CONDITION_TYPES.Ready, status: 'False', reason, message },
    ]);
    await this.event('Warning', reason, message);
    return { requeueAfterMs: this.ports.settings.stalledRecheckMs };
  }

  /** A failed step: retryable errors go back to the queue's backoff, the rest stall. */
  private async failStep(err: unknown, fallback: Reason, context: string): Promise<ReconcileResult> {
    const reason = gitFailureReason(err, fallback);
    const message = `${context}: ${errorMessage(err)}`;
    if (err instanceof ReboundError && err.retryable) {
      this.ctx.log.warn({ reason, err: message }, 'remediation step failed; retrying with backoff');
      await this.write({ phase: this.status.phase ?? 'Pending' }, [{ type: CONDITION_TYPES.Reconciling, status: 'True', reason, message }]);
      this.reported = true;
      throw err;
    }
    if (!(err instanceof ReboundError)) this.ctx.log.error({ err }, 'unexpected error in a remediation step');
    return this.stall(reason, message);
  }

  private async write(change: { phase?: Phase }, updates: ConditionUpdate[]): Promise<void> {
    const generation = this.problem.metadata.generation;
    let conditions: Condition[] | undefined = this.status.conditions;
    for (const update of updates) conditions = setCondition(conditions, update, this.now, generation);
    if (updates.every((u) => u.type !== CONDITION_TYPES.Stalled)) {
      conditions = setCondition(conditions, { type: CONDITION_TYPES.Stalled, status: 'False', reason: REASONS.Progressing, message: 'the loop is making progress' }, this.now, generation);
    }
    const previousPhase = this.problem.status?.phase;
    const next: ProblemEventStatus = {
      ...this.status,
      ...(change.phase ? { phase: change.phase } : {}),
      conditions: conditions ?? [],
      ...(generation === undefined ? {} : { observedGeneration: generation }),
    };
    this.written = await this.ports.writer.patchStatus(this.problem, next);
    this.status = next;
    if (next.phase !== previousPhase && next.phase) {
      this.ctx.log.info({ from: previousPhase ?? 'none', to: next.phase, attempt: next.currentAttempt }, 'problem phase changed');
    }
  }

  /**
   * An event is a courtesy for `kubectl describe`; the status already holds the truth. So the loop
   * does not wait for it (one API round trip less per step); a failure is logged, never thrown.
   */
  private event(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const log = this.ctx.log;
    void this.ports.writer.recordEvent(this.problem, type, reason, message).catch((err: unknown) => {
      log.warn({ err: errorMessage(err), reason }, 'could not record a Kubernetes event');
    });
    return Promise.resolve();
  }
}

function describeSource(policy: Extract<PolicyResolution, { ok: true }>): string {
  const s = policy.source;
  return s.kind === 'Remediation' ? `Remediation ${s.name ?? ''}` : `${s.path ?? 'remediation.yaml'} on ${s.branch ?? '?'}`;
}

function safeDuration(text: string): number {
  try {
    return parseDuration(text);
  } catch {
    return 120_000;
  }
}

function formatScore(score: number): string {
  return Number.isInteger(score) ? String(score) : score.toFixed(2);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
