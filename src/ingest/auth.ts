// Bearer-token authentication for the ways in. Tokens come from a Secret mounted as a file; the
// source is a function so a rotated Secret (kubelet rewrites the file) takes effect without a restart,
// and several lines mean several valid tokens (old and new during a rotation).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

export type TokenSource = () => readonly string[];

/**
 * True when the Authorization header carries one of the tokens. Both sides are hashed first so the
 * comparison is over equal-length digests (timingSafeEqual needs that, and the token length does not
 * leak); every token is compared, without stopping early at a match.
 */
export function isAuthorized(authorization: string | undefined, tokens: readonly string[]): boolean {
  const presented = bearerToken(authorization);
  if (presented === undefined) return false;
  const digest = sha256(presented);
  let ok = false;
  for (const token of tokens) {
    if (token === '') continue;
    ok = timingSafeEqual(digest, sha256(token)) || ok;
  }
  return ok;
}

/**
 * The credential a request presents, as an Authorization value: the Authorization header, or Keptn's
 * `x-token` header (what `keptn send event` and Keptn's services send), which counts as a bearer token.
 */
export function presentedAuthorization(headers: { authorization?: string | undefined; 'x-token'?: string | string[] | undefined }): string | undefined {
  const keptnToken = headers['x-token'];
  return headers.authorization ?? (typeof keptnToken === 'string' ? `Bearer ${keptnToken}` : undefined);
}

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive), or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization);
  return match?.[1];
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export interface FileTokenSourceOptions {
  /** How long a read is reused before the file is checked again. Default 5 s. */
  recheckMs?: number;
  now?: () => number;
}

/**
 * Tokens from a file, one per line (blank lines and `#` comments ignored), re-read when its
 * modification time or size changes. If the file becomes unreadable the last good tokens stay in
 * force (a Secret update briefly swaps symlinks); if it was never readable there are no tokens and
 * every request is refused.
 */
export function fileTokenSource(path: string, options: FileTokenSourceOptions = {}): TokenSource {
  const recheckMs = options.recheckMs ?? 5_000;
  const now = options.now ?? Date.now;
  let tokens: readonly string[] = [];
  let version = '';
  let checkedAt = -Infinity;
  return () => {
    if (now() - checkedAt < recheckMs) return tokens;
    checkedAt = now();
    try {
      const stat = statSync(path);
      const current = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
      if (current !== version) {
        tokens = parseTokens(readFileSync(path, 'utf8'));
        version = current;
      }
    } catch {
      // Keep the last good tokens; see above.
    }
    return tokens;
  };
}

export function parseTokens(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
