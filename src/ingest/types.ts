// What every way in produces: a ProblemEvent name that is the same for every delivery of the same
// problem, and the spec to store under it.

export type ProblemState = 'OPEN' | 'RESOLVED';

/** The ProblemEvent spec as written by ingestion (a structural match of src/api's ProblemEventSpec). */
export interface ProblemSpec {
  project: string;
  stage: string;
  service: string;
  problemTitle: string;
  rootCause?: string;
  state: ProblemState;
  problemID?: string;
  source?: string;
  impactedEntity?: string;
  details?: Record<string, unknown>;
}

export interface MappedProblem {
  /** Deterministic DNS-1123 name: the same problem always maps to the same name. */
  name: string;
  spec: ProblemSpec;
}

/**
 * The label (Alertmanager), tag (Dynatrace) or annotation names each ProblemEvent field is read from,
 * tried in order. Defaults cover both Rebound's own names and Keptn's `keptn_*` tags.
 */
export interface FieldNames {
  project: string[];
  stage: string[];
  service: string[];
  problemTitle: string[];
  rootCause: string[];
  impactedEntity: string[];
}

export interface MappingOptions {
  /** Overrides, per field; a field given here replaces that field's default list. */
  fieldNames?: Partial<FieldNames>;
  /** Used when a payload names no project, stage or service (a single-project installation). */
  defaults?: Partial<Pick<ProblemSpec, 'project' | 'stage' | 'service'>>;
}

export const DEFAULT_FIELD_NAMES: Readonly<FieldNames> = Object.freeze({
  project: ['project', 'keptn_project'],
  stage: ['stage', 'keptn_stage'],
  service: ['service', 'keptn_service'],
  // `alertname` last: an explicit title annotation wins over the rule's name.
  problemTitle: ['problemTitle', 'problem_title', 'alertname'],
  rootCause: ['rootCause', 'root_cause'],
  impactedEntity: ['impactedEntity', 'pod_name', 'pod', 'instance'],
});

export function resolveFieldNames(options: MappingOptions | undefined): FieldNames {
  return { ...DEFAULT_FIELD_NAMES, ...options?.fieldNames };
}

/** The value of `source` (and of the rebound.dev/source label) for each way in. */
export const SOURCES = {
  alertmanager: 'alertmanager',
  cloudevent: 'cloudevent',
  dynatrace: 'dynatrace',
  kubectl: 'kubectl',
} as const;
