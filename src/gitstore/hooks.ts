// Verification of Git hosting push webhooks (mounted at POST /hooks/git by the ingest server). A push
// only tells Rebound to fetch sooner; still, an unverified call is refused so nobody can make the
// controller hammer the Git server.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ReboundError } from '../errors.ts';

export type GitHookProvider = 'github' | 'gitea' | 'gitlab';

export interface GitPushEvent {
  provider: GitHookProvider;
  /** The repository's clone URL as the host reports it (http(s)). */
  repoUrl: string;
  /** Full ref name, e.g. `refs/heads/production`. */
  ref: string;
  /** Branch name, or null when the push was to a tag or another kind of ref. */
  branch: string | null;
  /** Head after the push; all zeros when the branch was deleted. */
  after: string;
}

/** Error codes: map `WebhookUnauthorized` to HTTP 401 and `InvalidPayload` to 400. */
export const HOOK_ERROR = { unauthorized: 'WebhookUnauthorized', invalid: 'InvalidPayload' } as const;

export type HookHeaders = Record<string, string | string[] | undefined>;

export function parseGitPushHook(headers: HookHeaders, rawBody: Buffer | string, secret: string): GitPushEvent {
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody) : rawBody;
  const header = (name: string): string | undefined => {
    const value = headers[name] ?? headers[name.toLowerCase()] ?? findHeader(headers, name);
    return Array.isArray(value) ? value[0] : value;
  };
  if (secret === '') throw unauthorized('no webhook secret is configured; unsigned pushes are refused');

  let provider: GitHookProvider;
  let event: string | undefined;
  const giteaSignature = header('x-gitea-signature');
  const githubSignature = header('x-hub-signature-256');
  const gitlabToken = header('x-gitlab-token');
  if (giteaSignature !== undefined) {
    // Gitea also sends X-Hub-Signature-256, so its own header is checked first.
    provider = 'gitea';
    event = header('x-gitea-event');
    verifyHmac(giteaSignature, body, secret);
  } else if (githubSignature !== undefined) {
    provider = 'github';
    event = header('x-github-event');
    if (!githubSignature.startsWith('sha256=')) throw unauthorized('X-Hub-Signature-256 must start with sha256=');
    verifyHmac(githubSignature.slice('sha256='.length), body, secret);
  } else if (gitlabToken !== undefined) {
    provider = 'gitlab';
    event = header('x-gitlab-event');
    if (!constantTimeEqual(gitlabToken, secret)) throw unauthorized('X-Gitlab-Token does not match the webhook secret');
  } else {
    throw unauthorized('the request carries no X-Hub-Signature-256, X-Gitea-Signature or X-Gitlab-Token header');
  }

  if (event !== undefined && !['push', 'Push Hook'].includes(event)) {
    throw invalid(`${provider} event "${event}" is not a push event`);
  }
  const payload = decodeBody(body, header('content-type'));
  const ref = stringField(payload, ['ref'], 'ref');
  const after = stringField(payload, ['after'], 'after');
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(after)) throw invalid('after must be a commit id');
  const repoUrl =
    provider === 'gitlab'
      ? stringField(payload, ['project', 'git_http_url'], 'project.git_http_url', ['repository', 'git_http_url'])
      : stringField(payload, ['repository', 'clone_url'], 'repository.clone_url');
  const branch = ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : null;
  return { provider, repoUrl, ref, branch, after };
}

function findHeader(headers: HookHeaders, name: string): string | string[] | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function verifyHmac(givenHex: string, body: Buffer, secret: string): void {
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = /^[0-9a-f]{64}$/i.test(givenHex.trim()) ? Buffer.from(givenHex.trim(), 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw unauthorized('the payload signature does not match the webhook secret');
  }
}

function constantTimeEqual(a: string, b: string): boolean {
  // Compare digests so neither the content nor the length leaks through timing.
  const da = createHmac('sha256', 'rebound').update(a).digest();
  const db = createHmac('sha256', 'rebound').update(b).digest();
  return timingSafeEqual(da, db);
}

function decodeBody(body: Buffer, contentType: string | undefined): unknown {
  let text = body.toString('utf8');
  if (contentType?.startsWith('application/x-www-form-urlencoded') === true) {
    // GitHub's form-encoded deliveries put the JSON in a `payload` field.
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw invalid('the form-encoded body has no payload field');
    text = payload;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalid('the body is not valid JSON');
  }
}

function stringField(value: unknown, path: string[], name: string, fallback?: string[]): string {
  let current: unknown = value;
  for (const key of path) {
    current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[key] : undefined;
  }
  if (typeof current === 'string' && current !== '') return current;
  if (fallback !== undefined) return stringField(value, fallback, name);
  throw invalid(`${name} is missing or not a string`);
}

function unauthorized(message: string): ReboundError {
  return new ReboundError(message, { code: HOOK_ERROR.unauthorized, retryable: false });
}

function invalid(message: string): ReboundError {
  return new ReboundError(message, { code: HOOK_ERROR.invalid, retryable: false });
}

/** Whether a pushed repository URL names the Project's repository (ignoring `.git`, case of the
 * host, trailing slashes and credentials). */
export function sameRepository(a: string, b: string): boolean {
  const norm = (url: string): string => {
    try {
      const u = new URL(url);
      return `${u.protocol}//${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, '').replace(/\.git$/, '')}`;
    } catch {
      return url;
    }
  };
  return norm(a) === norm(b);
}
