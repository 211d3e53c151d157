// The one entry point for every problem payload Rebound accepts: it recognises the payload type and
// maps it to ProblemEvents with deterministic names. Used by the HTTP server, `rebound send` and
// `rebound plan --problem`.
import { isAlertmanagerPayload, mapAlertmanagerPayload } from './alertmanager.ts';
import { InvalidPayloadError, isObject } from './fields.ts';
import { isCloudEvent, isDynatraceProblem, mapCloudEvent, mapDynatraceProblem } from './keptn.ts';
import { isProblemEventManifest, mapProblemEventManifest } from './manifest.ts';
import type { MappedProblem, MappingOptions } from './types.ts';

export { mapAlertmanagerPayload } from './alertmanager.ts';
export { mapCloudEvent, mapDynatraceProblem } from './keptn.ts';
export { mapProblemEventManifest } from './manifest.ts';
export { InvalidPayloadError } from './fields.ts';
export { DEFAULT_FIELD_NAMES, SOURCES } from './types.ts';
export type { FieldNames, MappedProblem, MappingOptions, ProblemSpec, ProblemState } from './types.ts';

export const PAYLOAD_KINDS = ['manifest', 'alertmanager', 'cloudevent', 'dynatrace'] as const;
export type PayloadKind = (typeof PAYLOAD_KINDS)[number];

/** Which kind of payload this is, or an InvalidPayload error saying what was expected. */
export function detectPayloadKind(value: unknown): PayloadKind {
  if (!isObject(value)) {
    throw new InvalidPayloadError(
      '(root)',
      'expected a JSON object (a ProblemEvent, an Alertmanager webhook payload, a Keptn CloudEvent or a Dynatrace problem notification)',
    );
  }
  // Order matters: a CloudEvent wrapping a Dynatrace problem is a CloudEvent.
  if (isProblemEventManifest(value)) return 'manifest';
  if (isAlertmanagerPayload(value)) return 'alertmanager';
  if (isCloudEvent(value)) return 'cloudevent';
  if (isDynatraceProblem(value)) return 'dynatrace';
  throw new InvalidPayloadError(
    '(root)',
    'not a recognised problem payload: expected a ProblemEvent (apiVersion/kind), an Alertmanager webhook payload (alerts), a Keptn CloudEvent (type, data) or a Dynatrace problem notification (PID, ProblemTitle)',
  );
}

export function mapPayload(kind: PayloadKind, value: unknown, options?: MappingOptions): MappedProblem[] {
  switch (kind) {
    case 'manifest':
      return mapProblemEventManifest(value);
    case 'alertmanager':
      return mapAlertmanagerPayload(value, options);
    case 'cloudevent':
      return mapCloudEvent(value, options);
    case 'dynatrace':
      return mapDynatraceProblem(value, options);
  }
}

export function mapProblemDocument(value: unknown, options?: MappingOptions): MappedProblem[] {
  return mapPayload(detectPayloadKind(value), value, options);
}
