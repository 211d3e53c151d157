// A ProblemEvent manifest (what `kubectl apply` would take), validated like the CRD would.
import { expectObject, getField, InvalidPayloadError, isObject, optionalString } from './fields.ts';
import { isDns1123Label, problemName } from './names.ts';
import { checkSpec, compact } from './spec.ts';
import type { FieldOrigins } from './spec.ts';
import type { MappedProblem, ProblemSpec, ProblemState } from './types.ts';

export const PROBLEM_EVENT_API_VERSION = 'rebound.dev/v1alpha1';
export const PROBLEM_EVENT_KIND = 'ProblemEvent';
export const MANIFEST_NAME_PREFIX = 'pe';
const MAX_OBJECT_NAME = 253;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isProblemEventManifest(value: unknown): boolean {
  return (
    isObject(value) &&
    (value['kind'] === PROBLEM_EVENT_KIND ||
      (typeof value['apiVersion'] === 'string' && value['apiVersion'].startsWith('rebound.dev/')))
  );
}

export function mapProblemEventManifest(value: unknown): MappedProblem[] {
  const manifest = expectObject(value, '');
  if (manifest['apiVersion'] !== PROBLEM_EVENT_API_VERSION) {
    throw new InvalidPayloadError(
      'apiVersion',
      `must be ${PROBLEM_EVENT_API_VERSION}, got ${JSON.stringify(manifest['apiVersion'] ?? null)}`,
    );
  }
  if (manifest['kind'] !== PROBLEM_EVENT_KIND) {
    throw new InvalidPayloadError(
      'kind',
      `must be ${PROBLEM_EVENT_KIND}, got ${JSON.stringify(manifest['kind'] ?? null)}`,
    );
  }
  const metadata = manifest['metadata'] === undefined ? {} : expectObject(manifest['metadata'], 'metadata');
  const spec = expectObject(manifest['spec'], 'spec');
  const origins: FieldOrigins = {};
  const field = (key: keyof ProblemSpec): string | undefined => {
    // Manifests are Kubernetes objects: keys are case-sensitive, as the API server reads them.
    const v = spec[key];
    if (v === undefined || v === null) return undefined;
    origins[key] = `spec.${key}`;
    if (typeof v !== 'string') throw new InvalidPayloadError(`spec.${key}`, 'expected a string');
    return v;
  };
  const required = (key: 'project' | 'stage' | 'service' | 'problemTitle'): string => {
    const v = field(key);
    if (v === undefined || v.trim() === '')
      throw new InvalidPayloadError(`spec.${key}`, 'is required and must be a non-empty string');
    return v;
  };
  const details = spec['details'];
  if (details !== undefined && !isObject(details)) throw new InvalidPayloadError('spec.details', 'expected an object');
  const mapped: ProblemSpec = compact({
    project: required('project'),
    stage: required('stage'),
    service: required('service'),
    problemTitle: required('problemTitle'),
    rootCause: field('rootCause'),
    state: readManifestState(field('state')),
    problemID: field('problemID'),
    source: field('source'),
    impactedEntity: field('impactedEntity'),
    details,
  });
  checkSpec(mapped, origins);
  return [{ name: manifestName(metadata, mapped), spec: mapped }];
}

function readManifestState(state: string | undefined): ProblemState {
  if (state === undefined) return 'OPEN';
  if (state === 'OPEN' || state === 'RESOLVED') return state;
  throw new InvalidPayloadError('spec.state', `must be OPEN or RESOLVED, got ${JSON.stringify(state)}`);
}

function manifestName(metadata: Record<string, unknown>, spec: ProblemSpec): string {
  const name = optionalString(metadata, 'name', 'metadata');
  if (name !== undefined) {
    if (name.length > MAX_OBJECT_NAME || !DNS1123_SUBDOMAIN.test(name)) {
      throw new InvalidPayloadError(
        'metadata.name',
        `${JSON.stringify(name)} is not a valid object name (DNS-1123 subdomain)`,
      );
    }
    return name;
  }
  if (getField(metadata, 'generateName') !== undefined) {
    throw new InvalidPayloadError(
      'metadata.generateName',
      'is not supported: a generated name would defeat de-duplication; set metadata.name or leave both out',
    );
  }
  // No name: derive one from what identifies the problem, so sending the file twice is one problem.
  const key = [
    spec.project,
    spec.stage,
    spec.service,
    spec.problemID ?? '',
    spec.problemTitle,
    spec.rootCause ?? '',
  ].join('\0');
  const derived = problemName(MANIFEST_NAME_PREFIX, spec.service, key);
  return isDns1123Label(derived) ? derived : problemName(MANIFEST_NAME_PREFIX, '', key);
}
