// Errors are classified once, where they enter (git, kube, helm, prometheus, user files), so nobody
// above matches message strings. `reason` is the PascalCase condition reason they map to.
export interface ReboundErrorOptions {
  code: string;
  reason: string;
  retryable: boolean;
  cause?: unknown;
}

export class ReboundError extends Error {
  readonly code: string;
  readonly reason: string;
  readonly retryable: boolean;

  constructor(message: string, options: ReboundErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReboundError';
    this.code = options.code;
    this.reason = options.reason;
    this.retryable = options.retryable;
  }
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
