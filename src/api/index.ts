// The rebound.dev/v1alpha1 API: resource types, their schemas and the shared vocabulary.
export * from './constants.ts';
export { DURATION_PATTERN, parseDuration } from './duration.ts';
export { isSettled, isTerminal } from './phases.ts';
export type * from './types.ts';
export {
  approvalSchema,
  attemptSchema,
  conditionSchema,
  notificationSchema,
  problemEventSchema,
  projectSchema,
  remediationActionSchema,
  remediationEntrySchema,
  remediationSchema,
} from './schemas.ts';
export { customResourceDefinitions, renderCrdFiles } from './crds.ts';
