// One scrubber for every outbound client: it is told the credentials a request carried and
// removes every form of them an answer may echo back before the answer reaches a message, a
// condition, an Event or a log. Servers and proxies echo in many spellings: the raw token, the
// header value (`Bearer x`, `Basic eA==`), base64 Basic decoded to `user:password`, URL userinfo,
// percent-encoded or form-encoded, or escaped inside a JSON string.

export const REDACTED = '[redacted]';

/** Values shorter than this are not scrubbed: they cannot be told apart from ordinary text. */
const MIN_SECRET_LENGTH = 4;
/** Header values not known to be credentials are scrubbed only when this long. */
const MIN_HEADER_LENGTH = 8;
/** Headers whose values are never secret, so an answer quoting them is left alone. */
const PLAIN_HEADERS: ReadonlySet<string> = new Set(['content-type', 'accept', 'user-agent', 'idempotency-key']);

export interface SentCredentials {
  /** Request headers as sent (Authorization, X-Api-Key, ...). */
  headers?: Readonly<Record<string, string>>;
  /** A URL that may carry userinfo (`https://user:password@host/`). */
  url?: string | URL;
  /** Raw secrets (a token read from a Secret, a password). */
  secrets?: readonly (string | undefined)[];
}

export type Scrub = (text: string) => string;

/** A function that replaces every known form of the credentials in `sent` with [redacted]. */
export function scrubberFor(sent: SentCredentials): Scrub {
  const forms = new Set<string>();
  const addSecret = (value: string | undefined, min = MIN_SECRET_LENGTH): void => {
    if (value === undefined || value.length < min) return;
    for (const form of spellings(value)) if (form.length >= min) forms.add(form);
  };
  for (const secret of sent.secrets ?? []) addSecret(secret);
  for (const [name, value] of Object.entries(sent.headers ?? {})) {
    if (PLAIN_HEADERS.has(name.toLowerCase())) continue;
    addSecret(value, MIN_HEADER_LENGTH);
    // `Bearer <token>`, `Basic <base64>`: the credential may come back without its scheme.
    const match = /^(\S+)\s+(\S+)$/.exec(value);
    const [, scheme, credential] = match ?? [];
    addSecret(credential);
    if (scheme?.toLowerCase() === 'basic' && credential !== undefined)
      addUserPassword(Buffer.from(credential, 'base64').toString('utf8'), addSecret);
  }
  if (sent.url !== undefined) {
    const url = typeof sent.url === 'string' ? tryUrl(sent.url) : sent.url;
    if (url !== undefined && (url.username !== '' || url.password !== '')) {
      addUserPassword(`${safeDecode(url.username)}:${safeDecode(url.password)}`, addSecret);
      addSecret(`${url.username}:${url.password}`);
    }
  }
  const longestFirst = [...forms].sort((a, b) => b.length - a.length);
  if (longestFirst.length === 0) return (text) => text;
  return (text) => longestFirst.reduce((t, secret) => (t.includes(secret) ? t.split(secret).join(REDACTED) : t), text);
}

/** Scrubs with several scrubbers (a client that sent credentials from more than one place). */
export function combineScrubbers(...scrubs: Scrub[]): Scrub {
  return (text) => scrubs.reduce((t, scrub) => scrub(t), text);
}

/** `user:password`: the pair and the password alone (a user name by itself is not secret). */
function addUserPassword(pair: string, add: (value: string | undefined) => void): void {
  const colon = pair.indexOf(':');
  if (colon < 0) return;
  const password = pair.slice(colon + 1);
  if (password === '') return;
  add(pair);
  add(password);
}

/** The ways one secret is written in an echoed answer. */
function spellings(value: string): string[] {
  const percent = encodeURIComponent(value);
  return [
    value,
    percent,
    percent.replace(/%20/g, '+'),
    // RFC 3986 userinfo leaves these unencoded.
    percent.replace(/%3A/gi, ':'),
    JSON.stringify(value).slice(1, -1),
    Buffer.from(value, 'utf8').toString('base64'),
  ];
}

function tryUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A URL for messages: its origin and path without userinfo, query or fragment (they carry secrets). */
export function describeUrl(url: string | URL): string {
  const parsed = typeof url === 'string' ? tryUrl(url) : url;
  if (parsed === undefined) return '(an invalid URL)';
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}
