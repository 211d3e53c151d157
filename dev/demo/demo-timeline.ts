// The demo's timeline: what happened to one ProblemEvent, read from its status only (the controller
// does the work; the demo observes). Status snapshots are polled, so several steps may appear in one
// snapshot; every step is derived from facts the status keeps (an attempt's commit, appliedTime,
// result), never from a transition seen in passing, so nothing is missed and nothing is told twice.
import type { Attempt, IndicatorResult, ProblemEvent } from '../../src/api/index.ts';

export type TimelineStep =
  | { kind: 'received'; namespace: string; name: string; problemTitle: string; source: string | undefined }
  | { kind: 'policy'; description: string }
  | {
      kind: 'committed';
      attempt: number;
      total: number | undefined;
      action: string;
      value: string;
      commit: string;
      branch: string;
      path: string | undefined;
    }
  | {
      kind: 'applied';
      attempt: number;
      helmRevision: number | undefined;
      /** `apply: argocd`/`flux`: the engine that reported the change, at which commit. */
      sync?: { engine: string; revision: string };
    }
  /**
   * The rollout has finished: the change is live, `durationMs` after `since`. After the apply for
   * helm and kubernetes; after the push when an engine applied it, as Argo CD and Flux report a
   * change once it is healthy, so the apply's time would leave the rollout out.
   */
  | {
      kind: 'rolled-out';
      attempt: number;
      durationMs: number;
      since: 'apply' | 'push';
      ready: number | undefined;
      replicas: number | undefined;
    }
  | { kind: 'evaluated'; attempt: number; result: string; score: number | undefined; indicators: IndicatorResult[] }
  | { kind: 'escalated'; from: number; to: number }
  | { kind: 'finished'; phase: string; reason: string | undefined; message: string | undefined };

export const TERMINAL_PHASES: readonly string[] = ['Resolved', 'Exhausted', 'Unhandled'];

/** Turns successive snapshots of one ProblemEvent into the steps not told yet, in the order they happened. */
export class TimelineTracker {
  readonly #told = new Set<string>();
  /** How many actions the policy has, when the caller knows (printed as "action 1 of 2"). */
  readonly #actionCount: number | undefined;

  constructor(options: { actionCount?: number } = {}) {
    this.#actionCount = options.actionCount;
  }

  observe(problem: ProblemEvent): TimelineStep[] {
    const steps: TimelineStep[] = [];
    const once = (key: string, step: () => TimelineStep | undefined): void => {
      if (this.#told.has(key)) return;
      const made = step();
      if (made === undefined) return;
      this.#told.add(key);
      steps.push(made);
    };
    once('received', () => ({
      kind: 'received',
      namespace: problem.metadata.namespace ?? '',
      name: problem.metadata.name ?? '',
      problemTitle: problem.spec.problemTitle,
      source: problem.metadata.labels?.['rebound.dev/source'] ?? problem.spec.source,
    }));
    const status = problem.status;
    const source = status?.policySource;
    if (source) once('policy', () => ({ kind: 'policy', description: describePolicySource(source) }));
    for (const attempt of status?.attempts ?? []) {
      const k = attempt.index;
      if (k > 1) once(`escalated:${k}`, () => ({ kind: 'escalated', from: k - 1, to: k }));
      once(`committed:${k}`, () => committedStep(attempt, this.#actionCount));
      once(`applied:${k}`, () =>
        attempt.appliedTime
          ? {
              kind: 'applied',
              attempt: k,
              helmRevision: attempt.helmRevision,
              ...(attempt.sync?.revision
                ? { sync: { engine: attempt.sync.engine, revision: attempt.sync.revision } }
                : {}),
            }
          : undefined,
      );
      once(`rolled-out:${k}`, () => {
        if (!attempt.liveTime || !attempt.appliedTime || !attempt.rollout) return undefined;
        const pushed = attempt.sync?.revision !== undefined ? attempt.committedTime : undefined;
        return {
          kind: 'rolled-out',
          attempt: k,
          durationMs: Date.parse(attempt.liveTime) - Date.parse(pushed ?? attempt.appliedTime),
          since: pushed !== undefined ? 'push' : 'apply',
          ready: attempt.rollout.readyReplicas,
          replicas: attempt.rollout.replicas,
        };
      });
      once(`evaluated:${k}`, () =>
        attempt.result
          ? {
              kind: 'evaluated',
              attempt: k,
              result: attempt.result,
              score: attempt.score,
              indicators: attempt.indicatorResults ?? [],
            }
          : undefined,
      );
    }
    const phase = status?.phase;
    if (phase !== undefined && TERMINAL_PHASES.includes(phase)) {
      const ready = status?.conditions?.find((c) => c.type === 'Ready');
      once('finished', () => ({ kind: 'finished', phase, reason: ready?.reason, message: ready?.message }));
    }
    return steps;
  }
}

function committedStep(attempt: Attempt, total: number | undefined): TimelineStep | undefined {
  if (!attempt.commit) return undefined;
  return {
    kind: 'committed',
    attempt: attempt.index,
    total,
    action: attempt.action,
    value: attempt.value,
    commit: attempt.commit,
    branch: attempt.branch ?? '',
    path: attempt.path,
  };
}

type PolicySourceStatus = NonNullable<NonNullable<ProblemEvent['status']>['policySource']>;

function describePolicySource(source: PolicySourceStatus): string {
  const where =
    source.kind === 'Remediation'
      ? `Remediation ${source.name ?? ''}`
      : `${source.branch ?? '?'}:${source.path ?? '?'}`;
  const entry = source.problemType === undefined ? '' : ` entry "${source.problemType}"`;
  const how = source.match === undefined ? '' : ` (matched on ${source.match})`;
  return `${where}${entry}${how}`;
}

export interface FormatContext {
  /** Milliseconds since the alert was fired. */
  elapsedMs: number;
  /** The changed lines of a commit (`-old`/`+new`), shown under "committed". */
  diff?: readonly string[];
}

const LABEL_WIDTH = 26;
const INDENT = ' '.repeat(10 + LABEL_WIDTH);

/** `   +6.6s   label               text`: one timeline line. */
export function formatLine(elapsedMs: number, label: string, text: string): string {
  const t = `+${(elapsedMs / 1000).toFixed(1)}s`.padStart(7);
  return `${t}   ${label.padEnd(LABEL_WIDTH - 1)} ${text}`;
}

function indicators(list: readonly IndicatorResult[]): string {
  return list
    .map((i) => `${i.metric} = ${i.value === undefined ? 'no data' : String(i.value)} (${i.status ?? '?'})`)
    .join(', ');
}

/** One step as terminal lines: `  +6.6s   evaluated           fail, score 0%: response_time_p95 = 636 (fail)`. */
export function formatStep(step: TimelineStep, context: FormatContext): string[] {
  const t = context.elapsedMs;
  switch (step.kind) {
    case 'received':
      return [
        formatLine(
          t,
          'received',
          `ProblemEvent ${step.namespace}/${step.name} "${step.problemTitle}"${step.source ? ` from ${step.source}` : ''}`,
        ),
      ];
    case 'policy':
      return [formatLine(t, 'policy', step.description)];
    case 'committed': {
      const of = step.total === undefined ? '' : ` of ${String(step.total)}`;
      const head = formatLine(
        t,
        `action ${String(step.attempt)}${of} committed`,
        `${step.action} ${step.value}: ${step.commit.slice(0, 12)} on ${step.branch}${step.path ? ` (${step.path})` : ''}`,
      );
      return [head, ...(context.diff ?? []).map((d) => `${INDENT}${d}`)];
    }
    case 'applied':
      return [formatLine(t, 'applied', appliedText(step))];
    case 'rolled-out': {
      const pods =
        step.ready === undefined || step.replicas === undefined
          ? ''
          : `: ${String(step.ready)}/${String(step.replicas)} pods Ready`;
      return [formatLine(t, 'rolled out', `in ${(step.durationMs / 1000).toFixed(1)}s after the ${step.since}${pods}`)];
    }
    case 'evaluated': {
      const score = step.score === undefined ? '' : `, score ${String(Math.round(step.score))}%`;
      const values = step.indicators.length === 0 ? '' : `: ${indicators(step.indicators)}`;
      return [formatLine(t, 'evaluated', `${step.result}${score}${values}`)];
    }
    case 'escalated':
      return [
        formatLine(t, 'escalated', `action ${String(step.from)} did not fix it: trying action ${String(step.to)}`),
      ];
    case 'finished': {
      const why = [step.reason, step.message].filter((s) => s !== undefined && s !== '').join(': ');
      return [formatLine(t, step.phase.toLowerCase(), why === '' ? `phase ${step.phase}` : why)];
    }
  }
}

function appliedText(step: Extract<TimelineStep, { kind: 'applied' }>): string {
  if (step.sync) {
    // Flux names `<branch>@sha1:<sha>`, Argo CD the commit alone.
    const sha = (step.sync.revision.split(':').pop() ?? '').slice(0, 12);
    if (step.sync.engine === 'argocd') return `synced by Argo CD at ${sha}`;
    if (step.sync.engine === 'flux') return `applied by Flux at ${sha}`;
    return `reported by ${step.sync.engine} at ${sha}`;
  }
  return step.helmRevision === undefined
    ? 'change applied'
    : `helm upgrade: release revision ${String(step.helmRevision)}`;
}

/** The `-`/`+` lines of `git show --unified=0` output, without the file headers. */
export function changedLines(gitShowOutput: string): string[] {
  return gitShowOutput.split('\n').filter((l) => /^[-+]/.test(l) && !l.startsWith('---') && !l.startsWith('+++'));
}
