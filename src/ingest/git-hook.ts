// POST /hooks/git: a Git host's push webhook (GitHub, Gitea, GitLab) tells Rebound to fetch a branch
// now instead of at the next poll. The request is authenticated by the host's signature (HMAC of the
// body with the shared secret), not by the bearer token, so the route reads the raw body itself.
import { errorMessage, ReboundError } from '../errors.ts';
import { HOOK_ERROR, parseGitPushHook } from '../gitstore/hooks.ts';
import type { GitPushEvent } from '../gitstore/hooks.ts';
import type { Route, RouteResponse } from './server.ts';

export const GIT_HOOK_PATH = '/hooks/git';

export interface GitHookRouteOptions {
  /** The shared webhook secret; a function so a rotated Secret takes effect without a restart. */
  secret: () => string;
  /** Called once per verified push. It must only enqueue work: the host waits for our answer. */
  onPush: (event: GitPushEvent) => void;
}

export function gitHookRoute(options: GitHookRouteOptions): Route {
  return {
    method: 'POST',
    path: GIT_HOOK_PATH,
    auth: 'none',
    contentTypes: ['application/json', 'application/x-www-form-urlencoded'],
    handle: (request) => Promise.resolve(handlePush(request.headers, request.body, options)),
  };
}

function handlePush(
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
  options: GitHookRouteOptions,
): RouteResponse {
  let event: GitPushEvent;
  try {
    event = parseGitPushHook(headers, body, options.secret());
  } catch (err) {
    if (err instanceof ReboundError && err.code === HOOK_ERROR.unauthorized) {
      return { status: 401, body: { error: err.message, field: null } };
    }
    if (err instanceof ReboundError && err.code === HOOK_ERROR.invalid) {
      return { status: 400, body: { error: err.message, field: null } };
    }
    throw new ReboundError(`git hook: ${errorMessage(err)}`, { code: 'GitHookFailed', retryable: false, cause: err });
  }
  options.onPush(event);
  return { status: 202, body: { accepted: 1, provider: event.provider, ref: event.ref, branch: event.branch } };
}
