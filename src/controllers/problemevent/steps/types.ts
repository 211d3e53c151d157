// The shape every step of the ProblemEvent loop shares (fluxcd/helm-controller's internal/reconcile:
// one small action per file, driven by a loop that stops when a step says so). A step reads the
// draft and the context, does its one thing, writes the draft, and says what comes next. It never
// throws for a failure it understands: a retryable one comes back as `retry`, and only the
// reconciler turns that into the queue's backoff.
import type { Project, Remediation } from '../../../api/index.ts';
import type { Span } from '../../../observability/tracing/tracer.ts';
import type { ReconcileContext } from '../../../runtime/controller.ts';
import type { Decision } from '../decide.ts';
import type { ResolvedStage } from '../../../remediation/stage.ts';
import type { ProblemLoopPorts } from '../ports.ts';
import type { StatusDraft } from './draft.ts';

export type StepResult =
  /** Take the next step at once, from the object this step wrote (commit → apply, fail → next action). */
  | { next: true }
  /** A healthy wait: look again after this long. */
  | { requeueAfterMs: number }
  /** Nothing more to do until something changes. */
  | { done: true }
  /** A failure that may pass (already on the status): the queue's backoff retries the key. */
  | { retry: unknown };

export const NEXT: StepResult = { next: true };
export const DONE: StepResult = { done: true };

export type StepLog = ReconcileContext['log'];

/** What a step knows about the problem beyond its status: the decision and what it was taken on. */
export interface StepContext<D extends Decision = Decision> {
  decision: D;
  project: Project;
  stage: ResolvedStage;
  /** The Remediation resource for the problem's service, when there is one. */
  remediation: Remediation | undefined;
  log: StepLog;
  signal: AbortSignal;
  /** This step's span in the problem's trace (NO_SPAN when tracing is off): its parts are children. */
  span: Span;
}

export type Step<D extends Decision = Decision> = (
  draft: StatusDraft,
  deps: ProblemLoopPorts,
  ctx: StepContext<D>,
) => Promise<StepResult>;

/** The step for one kind of decision. */
export type StepFor<K extends Decision['kind']> = Step<Extract<Decision, { kind: K }>>;

/**
 * What the steps of one reconcile share. The service's turn, confirmed on the API server before the
 * chain's first step outside the status, covers the steps chained after it (commit, then apply): they
 * are one action, carried out by one worker without a pause.
 */
export interface Chain {
  turnConfirmed: boolean;
}
