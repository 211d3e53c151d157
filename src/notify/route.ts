// Which steps of which problems a Notification takes (pure): projects, stages, services (empty or
// absent: all), steps (absent: all), and a minimum severity.
import { NOTIFICATION_SEVERITIES } from '../api/index.ts';
import type { NotificationSeverity, NotificationSpec } from '../api/index.ts';
import type { NotificationEvent, ProblemSummary } from './events.ts';

export type Route = Pick<NotificationSpec, 'projects' | 'stages' | 'services' | 'steps' | 'minSeverity'>;

/** The Notification is about this problem at all. */
export function routesProblem(route: Route, problem: Pick<ProblemSummary, 'project' | 'stage' | 'service'>): boolean {
  return (
    inList(route.projects, problem.project) &&
    inList(route.stages, problem.stage) &&
    inList(route.services, problem.service)
  );
}

/** The Notification takes this step. */
export function routes(route: Route, event: NotificationEvent): boolean {
  return (
    routesProblem(route, event.problem) &&
    inList(route.steps, event.step) &&
    rank(event.severity) >= rank(route.minSeverity ?? 'info')
  );
}

function inList<T extends string>(list: readonly T[] | undefined, value: T): boolean {
  return list === undefined || list.length === 0 || list.includes(value);
}

function rank(severity: NotificationSeverity): number {
  return NOTIFICATION_SEVERITIES.indexOf(severity);
}
