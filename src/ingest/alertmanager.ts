// Prometheus Alertmanager webhook payload (version 4) → one ProblemEvent per alert of the group.
//
// Unlike Keptn's prometheus-service (which used alerts[0] only and dropped resolved notifications),
// every alert counts and `status: resolved` resolves. The de-duplication key is the alert's
// fingerprint plus its startsAt: Alertmanager re-sends a firing alert with both unchanged, and a
// resolved notification carries the same pair, while the same alert firing again after it cleared is
// a new problem (a new startsAt) and gets a new ProblemEvent rather than reopening a resolved one.
import { createHash } from 'node:crypto';
import {
  expectArray,
  expectObject,
  InvalidPayloadError,
  joinPath,
  optionalString,
  optionalStringMap,
} from './fields.ts';
import { problemName } from './names.ts';
import { checkSpec, compact } from './spec.ts';
import type { FieldOrigins } from './spec.ts';
import { resolveFieldNames, SOURCES } from './types.ts';
import type { FieldNames, MappedProblem, MappingOptions, ProblemSpec } from './types.ts';

export const ALERTMANAGER_NAME_PREFIX = 'am';

export function isAlertmanagerPayload(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Array.isArray((value as { alerts?: unknown }).alerts);
}

export function mapAlertmanagerPayload(value: unknown, options?: MappingOptions): MappedProblem[] {
  const payload = expectObject(value, '');
  const version = payload['version'];
  if (version !== undefined && version !== '4') {
    throw new InvalidPayloadError(
      'version',
      `unsupported webhook payload version ${JSON.stringify(version)}; expected "4"`,
    );
  }
  const alerts = expectArray(payload['alerts'], 'alerts');
  if (alerts.length === 0) throw new InvalidPayloadError('alerts', 'must contain at least one alert');
  const groupStatus = optionalString(payload, 'status', '');
  const receiver = optionalString(payload, 'receiver', '');
  const names = resolveFieldNames(options);
  return alerts.map((alert, index) =>
    mapAlert(alert, joinPath('alerts', index), { groupStatus, receiver, names, options }),
  );
}

interface AlertContext {
  groupStatus: string | undefined;
  receiver: string | undefined;
  names: FieldNames;
  options: MappingOptions | undefined;
}

function mapAlert(value: unknown, path: string, ctx: AlertContext): MappedProblem {
  const alert = expectObject(value, path);
  const labels = optionalStringMap(alert, 'labels', path);
  const annotations = optionalStringMap(alert, 'annotations', path);
  const status = optionalString(alert, 'status', path) ?? ctx.groupStatus;
  if (status !== 'firing' && status !== 'resolved') {
    throw new InvalidPayloadError(
      joinPath(path, 'status'),
      `must be "firing" or "resolved", got ${JSON.stringify(status ?? null)}`,
    );
  }
  const startsAt = optionalString(alert, 'startsAt', path);
  const fingerprint = optionalString(alert, 'fingerprint', path) ?? labelSetFingerprint(labels);
  const origins: FieldOrigins = {};

  const lookup = (field: keyof FieldNames): string | undefined => {
    for (const name of ctx.names[field]) {
      // Identity fields are labels first (they route the alert); text fields annotations first.
      const order =
        field === 'problemTitle' || field === 'rootCause'
          ? ([
              ['annotations', annotations],
              ['labels', labels],
            ] as const)
          : ([
              ['labels', labels],
              ['annotations', annotations],
            ] as const);
      for (const [where, map] of order) {
        const v = map[name]?.trim();
        if (v) {
          origins[field] = joinPath(joinPath(path, where), name);
          return v;
        }
      }
    }
    return undefined;
  };
  const required = (field: 'project' | 'stage' | 'service' | 'problemTitle'): string => {
    const found = lookup(field) ?? (field === 'problemTitle' ? undefined : ctx.options?.defaults?.[field]);
    if (found === undefined) {
      throw new InvalidPayloadError(
        joinPath(joinPath(path, 'labels'), ctx.names[field][0] ?? field),
        `no ${field}: set one of the labels or annotations ${ctx.names[field].map((n) => JSON.stringify(n)).join(', ')}`,
      );
    }
    return found;
  };

  const spec: ProblemSpec = compact({
    project: required('project'),
    stage: required('stage'),
    service: required('service'),
    problemTitle: required('problemTitle'),
    rootCause: lookup('rootCause'),
    state: status === 'resolved' ? ('RESOLVED' as const) : ('OPEN' as const),
    problemID: fingerprint,
    source: SOURCES.alertmanager,
    impactedEntity: lookup('impactedEntity'),
    details: compact({
      alertname: labels['alertname'],
      summary: annotations['summary'],
      description: annotations['description'] ?? annotations['descriptions'],
      generatorURL: optionalString(alert, 'generatorURL', path),
      startsAt,
      fingerprint,
      receiver: ctx.receiver,
      // The alert's labels: SLI queries read them as $LABEL.<name> (and `deployment` as $DEPLOYMENT).
      labels: Object.keys(labels).length > 0 ? labels : undefined,
    }),
  });
  checkSpec(spec, origins);
  const dedupKey = startsAt === undefined ? fingerprint : `${fingerprint}@${startsAt}`;
  return { name: problemName(ALERTMANAGER_NAME_PREFIX, spec.service, dedupKey), spec };
}

/** For hand-written payloads without a fingerprint: a stable hash of the sorted label set. */
function labelSetFingerprint(labels: Record<string, string>): string {
  const hash = createHash('sha256');
  for (const key of Object.keys(labels).sort())
    hash
      .update(key)
      .update('\0')
      .update(labels[key] ?? '')
      .update('\0');
  return hash.digest('hex').slice(0, 16);
}
