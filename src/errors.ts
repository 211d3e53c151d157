// Errors are classified once, where they enter (git, kube, helm, prometheus, user files), so nobody
// above matches message strings. `code` is the boundary's own stable name; `reason` is the API's
// condition reason the failure shows as, so no layer above has to translate it.
import type { Reason } from './api/constants.ts';

export interface ReboundErrorOptions {
  /** Stable and free-form per boundary (`KubeConflict`, `GitPushRejected`, `HelmFailed`): logs, metrics, callers' checks. */
  code: string;
  /**
   * The condition reason on a resource's status. Left out where a failure never reaches a status (CLI
   * flags, HTTP answers, the test harness) or where only the caller's context can name it (the
   * Kubernetes API: a Secret read during a commit is a failed commit).
   */
  reason?: Reason;
  retryable: boolean;
  cause?: unknown;
}

export class ReboundError extends Error {
  readonly code: string;
  readonly reason: Reason | undefined;
  readonly retryable: boolean;

  constructor(message: string, options: ReboundErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReboundError';
    this.code = options.code;
    this.reason = options.reason;
    this.retryable = options.retryable;
  }
}

/** The condition reason for a failure: its own, or `fallback` (the caller's context) when it has none. */
export function failureReason(err: unknown, fallback: Reason): Reason {
  return err instanceof ReboundError && err.reason !== undefined ? err.reason : fallback;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Why a fetch() failed, for a message: undici hides the socket error in `cause`, so the
 * `ECONNREFUSED connect ECONNREFUSED 127.0.0.1:9090` that says what happened is read from there.
 */
export function describeFetchError(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code === undefined ? cause.message : `${code} ${cause.message}`;
  }
  return errorMessage(err);
}
