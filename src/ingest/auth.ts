// Bearer-token authentication for the ways in. Tokens come from a Secret mounted as a file
// (config/token-file.ts re-reads it); the source is a function so a rotated Secret takes effect
// without a restart, and several lines mean several valid tokens (old and new during a rotation).
import { createHash, timingSafeEqual } from 'node:crypto';

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
export function presentedAuthorization(headers: {
  authorization?: string | undefined;
  'x-token'?: string | string[] | undefined;
}): string | undefined {
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
