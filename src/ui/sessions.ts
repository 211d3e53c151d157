// Signed-in users: a random session id in an HttpOnly, SameSite=Strict cookie points at the user's
// bearer token, kept in memory only (never in a URL, a log line or the page). Each session has its
// own CSRF token, which every form that changes something carries back.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { UserInfo } from './ports.ts';

export const SESSION_COOKIE = 'rebound_ui_session';

export interface Session {
  id: string;
  token: string;
  user: UserInfo;
  csrf: string;
  createdMs: number;
  seenMs: number;
}

export interface SessionOptions {
  now: () => number;
  /** A session unused this long ends (default 1 h). */
  idleMs?: number;
  /** A session ends this long after sign-in whatever happens (default 8 h). */
  maxAgeMs?: number;
  /** At most this many sessions; the least recently used goes first (default 10,000). */
  max?: number;
}

export class Sessions {
  readonly #byId = new Map<string, Session>();
  readonly #now: () => number;
  readonly #idleMs: number;
  readonly #maxAgeMs: number;
  readonly #max: number;

  constructor(options: SessionOptions) {
    this.#now = options.now;
    this.#idleMs = options.idleMs ?? 3_600_000;
    this.#maxAgeMs = options.maxAgeMs ?? 8 * 3_600_000;
    this.#max = options.max ?? 10_000;
  }

  create(token: string, user: UserInfo): Session {
    const now = this.#now();
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      token,
      user,
      csrf: randomBytes(24).toString('base64url'),
      createdMs: now,
      seenMs: now,
    };
    this.#byId.set(session.id, session);
    while (this.#byId.size > this.#max) {
      const oldest = this.#byId.keys().next().value;
      if (oldest === undefined) break;
      this.#byId.delete(oldest);
    }
    return session;
  }

  /** The live session for an id (and marks it used), or undefined. */
  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const s = this.#byId.get(id);
    if (!s) return undefined;
    const now = this.#now();
    if (now - s.seenMs > this.#idleMs || now - s.createdMs > this.#maxAgeMs) {
      this.#byId.delete(id);
      return undefined;
    }
    s.seenMs = now;
    // Map order is the eviction order: most recently used last.
    this.#byId.delete(id);
    this.#byId.set(id, s);
    return s;
  }

  delete(id: string): void {
    this.#byId.delete(id);
  }

  size(): number {
    return this.#byId.size;
  }
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfMatches(session: Session, submitted: string | undefined): boolean {
  if (submitted === undefined) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The value of one cookie from a Cookie header. */
export function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether a state-changing request comes from our own pages: browsers send `Sec-Fetch-Site` and
 * `Origin` on form posts, and a cross-site one is refused whatever its cookies (with the CSRF token,
 * a second line).
 */
export function sameOrigin(headers: {
  origin?: string | undefined;
  host?: string | undefined;
  'sec-fetch-site'?: string | string[] | undefined;
}): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === headers.host;
  } catch {
    return false;
  }
}
