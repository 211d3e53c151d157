// The action interface the remediation loop drives. An action starts and then is either done (the
// evaluation's wait begins), waiting for a callback until a deadline, or failed (the loop escalates
// without an evaluation). Values edits (scale, featuretoggle) are one implementation, committed to
// Git before they run; webhooks and Keptn-style external executors are others.
import { TASK_NAME_PATTERN } from '../api/index.ts';
import type {
  ActionExecution,
  Attempt,
  AttemptSync,
  ProblemEvent,
  Project,
  Reason,
  Remediation,
  RemediationAction,
} from '../api/index.ts';
import type { ResolvedStage, StageRepository } from '../remediation/stage.ts';
import type { ActionRequest, EditOptions, EditResult } from '../remediation/value-edits.ts';
import { REDACTED, describeUrl } from '../net/scrub.ts';
import type { ActionProblem } from './webhook-call.ts';

/** What an action may look at before it runs, to refuse what only a person can fix. */
export interface ActionScope {
  problem: ProblemEvent;
  project: Project;
  stage: ResolvedStage;
  /** The Remediation resource for the service, when there is one (webhook settings live there). */
  remediation: Remediation | undefined;
}

/** Everything an action needs to carry out one attempt. */
export interface ActionContext extends ActionScope {
  attempt: Attempt;
  /** Stable across restarts and replicas: the callback id and the Idempotency-Key. */
  actionId: string;
  repository: StageRepository;
  signal: AbortSignal;
}

/** Fields of the attempt's `execution` an action reports (the loop adds id, state and times). */
export type ExecutionReport = Partial<
  Pick<ActionExecution, 'executor' | 'target' | 'responseCode' | 'tries' | 'message'>
>;

export type ActionOutcome =
  /**
   * The action took effect: the evaluation's wait starts now; or, with `sync`, once the GitOps
   * engine that was asked to sync the commit reports it. `warning`: a person should know (the
   * workload is managed by a GitOps engine that will undo the change).
   */
  | {
      kind: 'done';
      detail: string;
      helmRevision?: number;
      execution?: ExecutionReport;
      sync?: AttemptSync;
      warning?: string;
      /** The apply started a rollout: the change is live (and the evaluation's wait starts) once it has finished. */
      rollout?: boolean;
    }
  /** Started: it finishes when its callback arrives, or fails at `deadline`. */
  | { kind: 'waiting'; detail: string; deadline: Date; execution: ExecutionReport }
  /** It did not work: the attempt fails without an evaluation, and the loop escalates. */
  | { kind: 'failed'; reason: Reason; detail: string; execution?: ExecutionReport };

export type ActionCheck = { ok: true } | { ok: false; reason: Reason; message: string };

export interface ActionHandler {
  /** Which implementation runs the action, as the attempt's status shows it. */
  readonly executor: string;
  /**
   * For an action that changes the values file: the edit, committed and pushed before the action
   * runs (the audit trail, and what the applier makes live). Absent for actions outside Git.
   */
  readonly editValues?: (request: ActionRequest, text: string, options: EditOptions) => EditResult;
  /** Runs off the worker: its endpoint may be slow, and must never hold up other services. */
  readonly background: boolean;
  /** Before anything happens: refuse what only a person can fix (a host not allowed, an unknown endpoint). */
  check(action: RemediationAction, scope: ActionScope): ActionCheck;
  /** Carries the action out. Throws a retryable ReboundError for a passing outage (backoff), any other to stall. */
  run(context: ActionContext): Promise<ActionOutcome>;
}

/** Where a background action stands, by action id. */
export type BackgroundState =
  | { kind: 'none' }
  | { kind: 'running' }
  | { kind: 'settled'; outcome: ActionOutcome }
  | { kind: 'errored'; error: unknown };

/** Runs actions off the reconcile worker (actions/runner.ts); the loop polls them by action id. */
export interface BackgroundRunner {
  state(actionId: string): BackgroundState;
  /** Starts `run` unless it is already running or settled for this id; `key` is the problem's queue key. */
  start(actionId: string, key: string, run: (signal: AbortSignal) => Promise<ActionOutcome>): void;
  /** The outcome is recorded (or no longer needed): forget it. */
  acknowledge(actionId: string): void;
  /** The problem is over or gone: stop what still runs for it. */
  cancel(key: string): void;
}

export interface ActionRegistry {
  /** The handler for an action type, or undefined when nothing can carry it out. */
  handlerFor(action: string): ActionHandler | undefined;
  /** For messages: the action types that are built in. */
  readonly builtIn: readonly string[];
  /** Whether unknown action types go to an external executor. */
  readonly external: boolean;
}

/**
 * The id a runbook or an executor reports back with: namespace, name and attempt, plus the uid's
 * start so a re-created ProblemEvent of the same name never takes an old callback. `~` cannot occur
 * in Kubernetes names and needs no escaping in a URL path.
 */
export function actionIdFor(problem: ProblemEvent, index: number): string {
  const uid = (problem.metadata.uid ?? '').replace(/-/g, '').slice(0, 12);
  return [problem.metadata.namespace ?? 'default', problem.metadata.name ?? '', String(index), uid].join('~');
}

/** A task of the remediation sequence run for attempt `index`: the action's id and the task's name. */
export function taskIdFor(problem: ProblemEvent, index: number, task: string): string {
  return `${actionIdFor(problem, index)}~${task}`;
}

const TASK_NAME = new RegExp(TASK_NAME_PATTERN);

/** An action id, or a task id (with `task`). */
export function parseActionId(
  id: string,
): { namespace: string; name: string; index: number; task?: string } | undefined {
  const parts = id.split('~');
  if (parts.length !== 4 && parts.length !== 5) return undefined;
  const [namespace, name, index, , task] = parts as [string, string, string, string, string | undefined];
  const n = Number(index);
  if (!namespace || !name || !Number.isInteger(n) || n < 1) return undefined;
  if (task === undefined) return { namespace, name, index: n };
  return TASK_NAME.test(task) ? { namespace, name, index: n, task } : undefined;
}

/** The problem as a runbook or an executor sees it: plain values, no Kubernetes types. */
export function actionProblem(problem: ProblemEvent, stage: string): ActionProblem {
  const { spec, metadata } = problem;
  return {
    namespace: metadata.namespace ?? 'default',
    name: metadata.name ?? '',
    uid: metadata.uid ?? '',
    project: spec.project,
    stage,
    service: spec.service,
    title: spec.problemTitle,
    state: spec.state,
    ...(spec.rootCause ? { rootCause: spec.rootCause } : {}),
    ...(spec.problemID ? { problemID: spec.problemID } : {}),
    ...(spec.source ? { source: spec.source } : {}),
    ...(spec.impactedEntity ? { impactedEntity: spec.impactedEntity } : {}),
  };
}

/** An endpoint for status and messages: scheme, host and path only (userinfo and a query may hold secrets). */
export function endpointLabel(url: string): string {
  return describeUrl(url);
}

/**
 * An action's value as messages, Events and status show it: a URL (a webhook) without its
 * userinfo, query or fragment, which may carry a secret; anything else as it is.
 */
export function actionValueLabel(value: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return describeUrl(value);
  return value.replace(/^[^\s/@]*@/, `${REDACTED}@`);
}
