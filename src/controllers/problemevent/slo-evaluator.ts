// The loop's Evaluator: the service's slo.yaml and sli.yaml (beside it, or where Keptn's SLI
// providers kept it: prometheus/sli.yaml, dynatrace/sli.yaml) from the stage branch (last good
// versions), SLI values from the metrics source over the window since the action was applied, and
// Keptn's scoring. Earlier attempts of the same problem are the comparison history, newest first.
import type { Attempt, IndicatorResult, Project, ProblemEvent, Remediation } from '../../api/index.ts';
import { REASONS } from '../../api/index.ts';
import { ReboundError } from '../../errors.ts';
import { evaluateSlo } from '../../evaluation/engine.ts';
import type { SliProvider } from '../../evaluation/provider.ts';
import type { IndicatorResult as EngineIndicatorResult, PreviousEvaluation, Target } from '../../evaluation/types.ts';
import type { Sli } from '../../formats/sli.ts';
import { sliFilePaths } from '../../formats/sli.ts';
import type { Slo } from '../../formats/slo.ts';
import { CONFIG_PARSERS, ConfigCache } from '../../remediation/config-cache.ts';
import { readOffered } from '../config-caches.ts';
import type { ConfigVersion } from '../../remediation/config-cache.ts';
import type { ResolvedStage } from '../../remediation/stage.ts';
import type { StoreProvider } from '../ports.ts';
import type { EvaluationOutcome, Evaluator } from './ports.ts';
import type { Span } from '../../observability/tracing/tracer.ts';
import type { QueryRecord } from '../../evaluation/provider.ts';

export interface SloEvaluatorOptions {
  stores: StoreProvider;
  /** The metrics source for a Prometheus URL (the Remediation's, or the controller's default). */
  providerFor: (prometheusUrl: string | undefined) => SliProvider;
  findRemediation: (problem: ProblemEvent) => Remediation | undefined;
  /** Shared with the Project controller, which feeds them when a stage branch moves. */
  caches?: { slo: ConfigCache<Slo>; sli: ConfigCache<Sli> };
}

export class SloEvaluator implements Evaluator {
  private readonly options: SloEvaluatorOptions;
  private readonly slos: ConfigCache<Slo>;
  private readonly slis: ConfigCache<Sli>;

  constructor(options: SloEvaluatorOptions) {
    this.options = options;
    this.slos = options.caches?.slo ?? new ConfigCache<Slo>(CONFIG_PARSERS.slo);
    this.slis = options.caches?.sli ?? new ConfigCache<Sli>(CONFIG_PARSERS.sli);
  }

  async evaluate(args: {
    problem: ProblemEvent;
    project: Project;
    stage: ResolvedStage;
    window: { start: Date; end: Date };
    signal?: AbortSignal;
    span?: Span;
  }): Promise<EvaluationOutcome> {
    const { problem, project, stage } = args;
    const service = problem.spec.service;
    const remediation = this.options.findRemediation(problem);
    const sloPath = remediation?.spec.evaluation?.sloFile ?? `${service}/slo.yaml`;
    const sliPaths =
      remediation?.spec.evaluation?.sliFile !== undefined
        ? [remediation.spec.evaluation.sliFile]
        : sliFilePaths(service);
    const slo = await this.load(this.slos, project, stage, service, sloPath);
    if (!slo) {
      // Keptn's lighthouse passed an evaluation without an SLO file; so does Rebound, and says so.
      return {
        result: 'pass',
        score: 100,
        indicatorResults: [],
        message: `no ${sloPath} on branch ${stage.branch}: nothing to evaluate, counted as pass (as Keptn did)`,
      };
    }
    let sli: ConfigVersion<Sli> | undefined;
    for (const path of sliPaths) {
      sli = await this.load(this.slis, project, stage, service, path);
      if (sli) break;
    }
    if (!sli) {
      throw new ReboundError(
        `${sloPath} names indicators but there is no ${sliPaths.join(' or ')} on branch ${stage.branch}`,
        { code: 'SliNotFound', reason: REASONS.SLONotFound, retryable: false },
      );
    }
    const context = queryContext(problem);
    const indicators = await this.options.providerFor(remediation?.spec.evaluation?.prometheusURL).getIndicators({
      project: problem.spec.project,
      stage: stage.name,
      service,
      ...context,
      customFilters: slo.value.filter,
      indicators: slo.value.objectives.map((o) => o.sli),
      queries: sli.value.indicators,
      start: args.window.start,
      end: args.window.end,
      ...(args.signal ? { signal: args.signal } : {}),
      ...(args.span ? { onQuery: querySpan(args.span) } : {}),
    });
    const result = evaluateSlo({ slo: slo.value, indicators, previous: history(problem.status?.attempts ?? []) });
    return {
      result: result.result,
      score: result.score,
      indicatorResults: result.indicatorResults.map(statusIndicator),
      message: result.message,
    };
  }

  private async load<T>(
    cache: ConfigCache<T>,
    project: Project,
    stage: ResolvedStage,
    service: string,
    path: string,
  ): Promise<ConfigVersion<T> | undefined> {
    const store = await this.options.stores.storeFor(project);
    const version = await readOffered(() => store.readFile(stage.branch, path));
    const offered = cache.offer(
      { project: project.metadata.name ?? '', stage: stage.name, service, file: path },
      version,
    );
    if (offered.status === 'removed') return undefined;
    if (offered.status === 'invalid' && !offered.inForce) {
      throw new ReboundError(offered.message, { code: 'SloInvalid', reason: REASONS.SLOInvalid, retryable: false });
    }
    return offered.inForce;
  }
}

/** Longest query kept in status: 64 SLIs of 64 attempts must stay far below etcd's object limit. */
export const MAX_STATUS_QUERY = 1024;
const MAX_TARGETS = 8;

/**
 * One SLI's result as the attempt's status keeps it: the value, the verdict, the resolved query (cut
 * to MAX_STATUS_QUERY, and then marked) and each target with the number it was checked against.
 */
export function statusIndicator(r: EngineIndicatorResult): IndicatorResult {
  const targets = (list: readonly Target[]): NonNullable<IndicatorResult['passTargets']> =>
    list.slice(0, MAX_TARGETS).map((t) => ({
      criteria: t.criteria.slice(0, 64),
      ...(Number.isFinite(t.targetValue) ? { targetValue: t.targetValue } : {}),
      violated: t.violated,
    }));
  const query = r.query ?? '';
  return {
    metric: r.metric,
    ...(r.value === null ? {} : { value: r.value }),
    status: r.status,
    score: r.score,
    ...(r.message ? { message: r.message.slice(0, 1024) } : {}),
    ...(query === ''
      ? {}
      : query.length > MAX_STATUS_QUERY
        ? { query: `${query.slice(0, MAX_STATUS_QUERY - 1)}…`, queryTruncated: true }
        : { query }),
    ...(r.passTargets.length > 0 ? { passTargets: targets(r.passTargets) } : {}),
    ...(r.warningTargets.length > 0 ? { warningTargets: targets(r.warningTargets) } : {}),
  };
}

/**
 * What the problem's source said about where it happened, for $LABEL.<name> and $DEPLOYMENT in SLI
 * queries: the alert's labels or the Keptn event's labels and deployment, kept in spec.details.
 */
function queryContext(problem: ProblemEvent): { labels?: Record<string, string>; deployment?: string } {
  const details = problem.spec.details ?? {};
  const raw = details['labels'];
  const labels =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string'))
      : {};
  const deployment = details['deployment'];
  return {
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(typeof deployment === 'string' && deployment !== '' ? { deployment } : {}),
  };
}

/** Earlier evaluated attempts of this problem, newest first, as comparison history. */
function history(attempts: readonly Attempt[]): PreviousEvaluation[] {
  return attempts
    .filter((a) => a.result !== undefined && a.indicatorResults !== undefined)
    .sort((a, b) => b.index - a.index)
    .map((a) => ({
      ...(a.result ? { result: a.result } : {}),
      indicatorResults: (a.indicatorResults ?? [])
        .filter((r) => r.value !== undefined)
        .map((r) => ({ metric: r.metric, value: r.value ?? 0, success: true })),
    }));
}

/** Each metrics query as a child of the evaluation's span: its indicator, its text, its value. */
function querySpan(parent: Span): (record: QueryRecord) => void {
  return (record) => {
    const span = parent.child(
      'prometheus query',
      {
        'rebound.sli': record.metric,
        'db.system.name': 'prometheus',
        'db.query.text': record.query,
        ...(record.value === undefined ? {} : { 'rebound.sli.value': record.value }),
      },
      new Date(record.startMs),
    );
    if (record.error !== undefined) span.fail(record.error);
    span.end(new Date(record.endMs));
  };
}
