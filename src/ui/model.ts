// What the problem list shows and how it is cut: the phase as it really is, filters and paging done
// on the server over the informer cache. Pure: the caller hands in the objects and the clock.
import { PHASES, REASONS } from '../api/constants.ts';
import type { Phase } from '../api/constants.ts';
import { isSettled } from '../api/phases.ts';
import type { ProblemEvent } from '../api/types.ts';

/**
 * The phases a person sees: the controller's, plus `ClosedBySource` (the alert cleared while Rebound
 * was still at work, or it ended the problem for that reason), which `Resolved` would hide.
 */
export const DISPLAY_PHASES = [...PHASES, 'ClosedBySource'] as const;
export type DisplayPhase = (typeof DISPLAY_PHASES)[number];

export const PHASE_LABELS: Record<DisplayPhase, string> = {
  Pending: 'Pending',
  AwaitingApproval: 'Awaiting approval',
  Remediating: 'Remediating',
  Evaluating: 'Evaluating',
  Reverting: 'Resolved, revert pending',
  Resolved: 'Resolved',
  Reverted: 'Reverted',
  Exhausted: 'Exhausted',
  Unhandled: 'Unhandled',
  ClosedBySource: 'Closed by its source',
};

export function isDisplayPhase(value: string): value is DisplayPhase {
  return (DISPLAY_PHASES as readonly string[]).includes(value);
}

/** The phase as it really is: see DISPLAY_PHASES. */
export function displayPhase(problem: ProblemEvent): DisplayPhase {
  const phase: Phase = problem.status?.phase ?? 'Pending';
  const closedBySource =
    (problem.spec.state === 'RESOLVED' && !isSettled(phase)) ||
    (phase === 'Resolved' && (problem.status?.conditions ?? []).some((c) => c.reason === REASONS.ProblemResolved));
  return closedBySource ? 'ClosedBySource' : phase;
}

export const problemKey = (p: ProblemEvent): string => `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;

export interface ProblemQuery {
  project?: string;
  stage?: string;
  service?: string;
  phase?: DisplayPhase;
  /** Case-insensitive text in the title, root cause, name, problem id or source. */
  text?: string;
  /** From 1. */
  page: number;
  size: number;
}

export const PAGE_SIZES = [25, 50, 100, 200] as const;
export const DEFAULT_PAGE_SIZE = 50;

/** A query from URL parameters, every value bounded; unknown or bad values fall back to "no filter". */
export function parseProblemQuery(params: URLSearchParams): ProblemQuery {
  const text = (name: string): string | undefined => {
    const v = params.get(name)?.trim();
    return v ? v.slice(0, 256) : undefined;
  };
  const page = Number(params.get('page'));
  const size = Number(params.get('size'));
  const phase = params.get('phase') ?? '';
  const q: ProblemQuery = {
    page: Number.isInteger(page) && page >= 1 && page <= 1_000_000 ? page : 1,
    size: (PAGE_SIZES as readonly number[]).includes(size) ? size : DEFAULT_PAGE_SIZE,
  };
  const project = text('project');
  const stage = text('stage');
  const service = text('service');
  const t = text('q');
  if (project) q.project = project;
  if (stage) q.stage = stage;
  if (service) q.service = service;
  if (t) q.text = t;
  if (isDisplayPhase(phase)) q.phase = phase;
  return q;
}

/** The URL parameters of a query (page 1 and the default size left out). */
export function queryParams(q: ProblemQuery, page = q.page): Record<string, string | number | undefined> {
  return {
    project: q.project,
    stage: q.stage,
    service: q.service,
    phase: q.phase,
    q: q.text,
    page: page === 1 ? undefined : page,
    size: q.size === DEFAULT_PAGE_SIZE ? undefined : q.size,
  };
}

export interface ProblemRow {
  namespace: string;
  name: string;
  title: string;
  source: string;
  project: string;
  stage: string;
  service: string;
  phase: DisplayPhase;
  suspended: boolean;
  attempt: number;
  action: string;
  created: number;
}

export function problemRow(p: ProblemEvent): ProblemRow {
  return {
    namespace: p.metadata.namespace ?? '',
    name: p.metadata.name ?? '',
    title: p.spec.problemTitle,
    source: p.spec.source ?? p.metadata.labels?.['rebound.dev/source'] ?? '',
    project: p.spec.project,
    stage: p.spec.stage,
    service: p.spec.service,
    phase: displayPhase(p),
    suspended: p.metadata.annotations?.['rebound.dev/suspend'] === 'true',
    attempt: p.status?.currentAttempt ?? p.status?.attempts?.length ?? 0,
    action: p.status?.currentAction ?? '',
    created: createdMs(p),
  };
}

function createdMs(p: ProblemEvent): number {
  const t = Date.parse(String(p.metadata.creationTimestamp ?? p.status?.startTime ?? ''));
  return Number.isNaN(t) ? 0 : t;
}

export interface ProblemPage {
  rows: ProblemRow[];
  /** Problems that match the filters. */
  total: number;
  page: number;
  pages: number;
  /** Values to offer in the filters, from every visible problem (sorted). */
  facets: { projects: string[]; stages: string[]; services: string[] };
}

function matches(p: ProblemEvent, q: ProblemQuery, needle: string | undefined): boolean {
  if (q.project !== undefined && p.spec.project !== q.project) return false;
  if (q.stage !== undefined && p.spec.stage !== q.stage) return false;
  if (q.service !== undefined && p.spec.service !== q.service) return false;
  if (q.phase !== undefined && displayPhase(p) !== q.phase) return false;
  if (needle !== undefined) {
    const hay = [p.spec.problemTitle, p.spec.rootCause, p.metadata.name, p.spec.problemID, p.spec.source];
    if (!hay.some((h) => h?.toLowerCase().includes(needle))) return false;
  }
  return true;
}

/**
 * One page of the problems that match, newest first (ties by namespace and name, so paging is
 * stable). Only the page's rows are built; a page past the end shows the last one.
 */
export function pageProblems(problems: readonly ProblemEvent[], q: ProblemQuery): ProblemPage {
  const needle = q.text?.toLowerCase();
  const projects = new Set<string>();
  const stages = new Set<string>();
  const services = new Set<string>();
  const hits: { p: ProblemEvent; created: number; key: string }[] = [];
  for (const p of problems) {
    projects.add(p.spec.project);
    stages.add(p.spec.stage);
    services.add(p.spec.service);
    if (matches(p, q, needle)) hits.push({ p, created: createdMs(p), key: problemKey(p) });
  }
  hits.sort((a, b) => b.created - a.created || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const pages = Math.max(1, Math.ceil(hits.length / q.size));
  const page = Math.min(q.page, pages);
  const rows = hits.slice((page - 1) * q.size, page * q.size).map((h) => problemRow(h.p));
  const sorted = (s: Set<string>): string[] => [...s].sort();
  return {
    rows,
    total: hits.length,
    page,
    pages,
    facets: { projects: sorted(projects), stages: sorted(stages), services: sorted(services) },
  };
}

/** `3m`, `2h`, `4d`: how long ago, for the age column. */
export function age(fromMs: number, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - fromMs) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** `1.2s`, `3m 4s`, `2h 5m`: a step's duration. */
export function duration(ms: number): string {
  if (ms < 0) return '';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
