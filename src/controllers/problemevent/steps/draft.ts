// The status one step of the loop is building: a working copy of the ProblemEvent's status, the
// attempt bookkeeping every step shares, the Ready/Reconciling/Stalled calls (src/controllers/status.ts)
// and the write. Steps change the draft and write it; they never assemble a status patch themselves.
import type { Attempt, Phase, ProblemEvent, ProblemEventStatus, Reason } from '../../../api/index.ts';
import { actionValueLabel } from '../../../actions/types.ts';
import type { ConditionUpdate } from '../../conditions.ts';
import { conditionsOf, statusWith, writeStatus } from '../../status.ts';
import type { Conditions } from '../../status.ts';
import { errorMessage } from '../../../errors.ts';
import type { ProblemWriter } from '../ports.ts';
import type { StepLog } from './types.ts';

type ActionLike = Pick<Attempt, 'action' | 'value'>;

export class StatusDraft {
  /** The problem as this step read it. */
  readonly problem: ProblemEvent;
  readonly now: Date;
  /** The stored object after this step's last status write. */
  written: ProblemEvent | undefined;
  /** The last write found the object deleted: there is nothing left to act on. */
  gone = false;
  /** The problem as this step left it for the next one to write (carry()), unwritten. */
  carried: ProblemEvent | undefined;
  #status: ProblemEventStatus;
  readonly #conditions: Conditions;
  readonly #writer: ProblemWriter;
  readonly #log: StepLog;

  constructor(problem: ProblemEvent, now: Date, writer: ProblemWriter, log: StepLog) {
    this.problem = problem;
    this.now = now;
    this.#status = structuredClone(problem.status ?? {});
    this.#conditions = conditionsOf(problem, now);
    this.#writer = writer;
    this.#log = log;
  }

  get status(): Readonly<ProblemEventStatus> {
    return this.#status;
  }

  get namespace(): string {
    return this.problem.metadata.namespace ?? 'default';
  }

  // ---- attempts ----

  attempt(index: number): Attempt | undefined {
    return this.#status.attempts?.find((a) => a.index === index);
  }

  /** A new (or re-recorded) attempt becomes the current one. */
  upsertAttempt(attempt: Attempt): void {
    this.#status.attempts = [...(this.#status.attempts ?? []).filter((a) => a.index !== attempt.index), attempt];
    this.#status.currentAttempt = attempt.index;
    this.#status.currentAction = label(attempt);
    this.#status.startTime ??= this.now.toISOString();
  }

  /** An attempt already recorded, updated in place. */
  replaceAttempt(attempt: Attempt): void {
    this.#status.attempts = (this.#status.attempts ?? []).map((a) => (a.index === attempt.index ? attempt : a));
  }

  /** Other status fields: policySource, nextEvaluationTime, lastResult, completionTime, revert. */
  update(
    fields: Partial<
      Pick<
        ProblemEventStatus,
        'policySource' | 'nextEvaluationTime' | 'lastResult' | 'completionTime' | 'hold' | 'revert'
      >
    >,
  ): void {
    Object.assign(this.#status, fields);
  }

  clearNextEvaluation(): void {
    delete this.#status.nextEvaluationTime;
  }

  /** A healthy wait until `t`: at least a millisecond, so the queue never spins. */
  delayUntil(t: Date): { requeueAfterMs: number } {
    return { requeueAfterMs: Math.max(1, t.getTime() - this.now.getTime()) };
  }

  // ---- conditions (kstatus: see src/controllers/status.ts) ----

  setCondition(update: ConditionUpdate): void {
    this.#conditions.set(update);
  }

  markReconciling(reason: Reason, message: string): void {
    this.#conditions.markReconciling(reason, message);
  }

  markStalled(reason: Reason, message: string): void {
    this.#conditions.markStalled(reason, message);
  }

  markReady(reason: Reason, message: string): void {
    this.#conditions.markReady(reason, message);
  }

  // ---- writing ----

  /** Writes the draft (conditional on the version read); `phase` when it changes. */
  async write(phase?: Phase): Promise<void> {
    if (phase) this.#status.phase = phase;
    const stored = await writeStatus(this.#writer, this.problem, this.#fields(), this.#conditions);
    if (!stored) {
      this.gone = true;
      return;
    }
    this.written = stored;
    this.#logPhase();
  }

  /**
   * Leaves the draft to the step chained next instead of writing it: that step's write carries both
   * (one status write per action rather than two: commit, then apply). Only for a step whose effect
   * outside is found again if the status is lost (a commit, by its trailers) and whose next step
   * follows at once: a crash, a conflict or a cut chain in between redoes the step and finds it.
   */
  carry(phase: Phase): void {
    this.#status.phase = phase;
    this.carried = { ...this.problem, status: statusWith(this.problem, this.#fields(), this.#conditions) };
    this.#logPhase();
  }

  #fields(): Omit<ProblemEventStatus, 'conditions' | 'observedGeneration'> {
    const { conditions: _c, observedGeneration: _g, ...fields } = this.#status;
    return fields;
  }

  #logPhase(): void {
    const previous = this.problem.status?.phase;
    const next = this.#status.phase;
    if (next && next !== previous)
      this.#log.info(
        { from: previous ?? 'none', to: next, attempt: this.#status.currentAttempt },
        'problem phase changed',
      );
  }

  /**
   * An event is a courtesy for `kubectl describe`; the status already holds the truth. So the loop
   * does not wait for it (one API round trip less per step); a failure is logged, never thrown.
   */
  event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.gone) return;
    const log = this.#log;
    this.#writer.recordEvent(this.problem, type, reason, message).catch((err: unknown) => {
      log.warn({ err: errorMessage(err), reason }, 'could not record a Kubernetes event');
    });
  }
}

/**
 * How an attempt's action reads in messages and the commit trailer: `scale +1` (`restart` without a
 * value). A webhook URL may carry user:password@ or a token in its query: it shows without them.
 */
export function label(action: ActionLike): string {
  return action.value === '' ? action.action : `${action.action} ${actionValueLabel(action.value)}`;
}
