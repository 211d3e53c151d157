// The Git store's error reasons in the API's condition vocabulary. The store classifies its errors
// once, at the boundary; this only renames the few reasons that are spelled differently there.
import { REASONS } from '../api/index.ts';
import type { Reason } from '../api/index.ts';
import { ReboundError } from '../errors.ts';

const STORE_REASONS: Record<string, Reason> = {
  GitAuthenticationFailed: REASONS.GitAuthFailed,
  GitRepositoryNotFound: REASONS.GitUnreachable,
  GitPushRejected: REASONS.PushRejected,
};

export function isReason(value: string): value is Reason {
  return (Object.values(REASONS) as string[]).includes(value);
}

/** The condition reason for an error from Git or from reading the Project's Secret. */
export function gitFailureReason(err: unknown, fallback: Reason = REASONS.GitUnreachable): Reason {
  if (!(err instanceof ReboundError)) return fallback;
  const mapped = STORE_REASONS[err.reason];
  if (mapped) return mapped;
  return isReason(err.reason) ? err.reason : fallback;
}
