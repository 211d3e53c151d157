// Each ProblemEvent's remediation as one trace (docs/observability.md#traces). The trace's id and the
// id of the problem's own span are written once to the `rebound.dev/traceparent` annotation, so every
// step, in this process or after a restart, is a child of the same span; that span itself is recorded
// when the problem reaches a final phase, from the problem's creation to its completion.
//
//   problem (recorded at the end)
//   ├─ start-attempt            ─ policy, commit and push
//   ├─ approval wait            (requested → decided, recorded when decided)
//   ├─ apply-attempt            ─ apply
//   ├─ rollout wait             (the GitOps engine's sync: requested → reported)
//   ├─ evaluation wait          (applied → evaluated)
//   └─ evaluate                 ─ evaluation ─ one span per Prometheus query
//
// Steps that only look again later (a wait that is not over) make no span. The helpers here are pure:
// what a step's span is called and carries, and which waits a status change closed.
import { isTerminal } from '../../api/index.ts';
import type { Attempt, ProblemEvent } from '../../api/index.ts';
import { ANNOTATIONS } from '../../api/index.ts';
import { parseTraceparent } from '../../observability/tracing/traceparent.ts';
import type { Attributes } from '../../observability/tracing/tracer.ts';
import type { Decision } from './decide.ts';
import { label } from './steps/draft.ts';

/** Decisions that only wait (a requeue with nothing done): no span. */
const WAITING: ReadonlySet<Decision['kind']> = new Set([
  'done',
  'throttled',
  'held',
  'wait-action',
  'wait-task',
  'wait-evaluation',
  'wait-revert',
]);
/** Decisions that poll: their span is kept only when the step changed the status. */
const POLLING: ReadonlySet<Decision['kind']> = new Set([
  'await-approval',
  'wait-sync',
  'wait-revert-sync',
  'wait-revert-live',
]);

export type StepTracing = 'none' | 'when-written' | 'always';

export function stepTracing(decision: Decision): StepTracing {
  if (WAITING.has(decision.kind)) return 'none';
  return POLLING.has(decision.kind) ? 'when-written' : 'always';
}

/** The problem's trace context, when its annotation holds a valid one. */
export function traceparentOf(problem: ProblemEvent): string | undefined {
  const value = problem.metadata.annotations?.[ANNOTATIONS.traceparent];
  return parseTraceparent(value) ? value : undefined;
}

/** What every span of a problem's trace carries: which problem, and the attempt when there is one. */
export function problemAttributes(problem: ProblemEvent, attempt?: Attempt): Attributes {
  const { spec, metadata } = problem;
  return {
    'rebound.problem': `${metadata.namespace ?? 'default'}/${metadata.name ?? ''}`,
    'rebound.project': spec.project,
    'rebound.stage': spec.stage,
    'rebound.service': spec.service,
    ...(attempt
      ? { 'rebound.attempt': attempt.index, 'rebound.action': label(attempt), 'rebound.action.type': attempt.action }
      : {}),
  };
}

/** The attempt a decision is about, when it names one. */
export function decisionIndex(decision: Decision): number | undefined {
  return 'index' in decision ? decision.index : undefined;
}

export interface WaitSpan {
  name: 'approval wait' | 'rollout wait' | 'evaluation wait' | 'action wait';
  start: Date;
  end: Date;
  attributes: Attributes;
  error?: string;
}

/**
 * The waits a step closed, from the attempt before and after it: an approval decided, a GitOps engine
 * that reported the commit, an action's callback, an evaluation that ran. Each is a span from the
 * stored start to the stored end, so a wait that spanned a restart is still one span.
 */
export function closedWaits(before: Attempt | undefined, after: Attempt | undefined): WaitSpan[] {
  if (!after) return [];
  const waits: WaitSpan[] = [];
  const approval = after.approval;
  if (approval?.decidedTime && !before?.approval?.decidedTime) {
    waits.push({
      name: 'approval wait',
      start: new Date(approval.requestedTime),
      end: new Date(approval.decidedTime),
      attributes: { 'rebound.approval.state': approval.state },
      ...(approval.state === 'Approved' ? {} : { error: `approval ${approval.state.toLowerCase()}` }),
    });
  }
  const sync = after.sync;
  if (sync?.syncedTime && !before?.sync?.syncedTime && sync.requestedTime) {
    waits.push({
      name: 'rollout wait',
      start: new Date(sync.requestedTime),
      end: new Date(sync.syncedTime),
      attributes: {
        'rebound.sync.engine': sync.engine,
        ...(sync.revision ? { 'rebound.sync.revision': sync.revision } : {}),
      },
    });
  }
  const execution = after.execution;
  if (
    execution?.finishedTime &&
    !before?.execution?.finishedTime &&
    execution.startedTime &&
    before?.execution?.state === 'Waiting'
  ) {
    waits.push({
      name: 'action wait',
      start: new Date(execution.startedTime),
      end: new Date(execution.finishedTime),
      attributes: { 'rebound.executor': execution.executor ?? '', 'rebound.action.state': execution.state },
      ...(execution.state === 'Succeeded' ? {} : { error: `action ${execution.state.toLowerCase()}` }),
    });
  }
  if (after.evaluationTime && !before?.evaluationTime && after.appliedTime) {
    waits.push({
      name: 'evaluation wait',
      start: new Date(after.appliedTime),
      end: new Date(after.evaluationTime),
      attributes: {},
    });
  }
  return waits;
}

/** The problem's own span, once its phase became final with this step: from creation to completion. */
export function finishedProblemSpan(
  before: ProblemEvent,
  after: ProblemEvent,
  now: Date,
): { name: string; start: Date; end: Date; attributes: Attributes; error?: string } | undefined {
  const phase = after.status?.phase;
  if (!isTerminal(phase) || isTerminal(before.status?.phase)) return undefined;
  const status = after.status ?? {};
  const attempts = status.attempts ?? [];
  const created = after.metadata.creationTimestamp ? new Date(after.metadata.creationTimestamp) : undefined;
  const end = status.completionTime ? new Date(status.completionTime) : now;
  return {
    name: 'problem',
    start: created ?? (status.startTime ? new Date(status.startTime) : end),
    end,
    attributes: {
      ...problemAttributes(after),
      'rebound.problem.title': after.spec.problemTitle,
      'rebound.phase': phase ?? '',
      'rebound.attempts': attempts.length,
      ...(status.lastResult ? { 'rebound.result': status.lastResult } : {}),
    },
    ...(phase === 'Resolved' ? {} : { error: `problem ${String(phase)}` }),
  };
}
