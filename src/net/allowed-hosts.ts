// The SSRF guard for calls Rebound makes on a user's behalf: a webhook URL is called only when its
// host is listed in the Remediation's spec.webhook.allowedHosts, so a policy cannot point the
// controller at the cluster's internal services or a cloud metadata endpoint.
//
// The URL and each entry go through the same WHATWG URL host parsing (lower case, punycode,
// percent-decoding, IPv4 in dotted decimal, IPv6 compressed) before the exact comparison, so no
// spelling of an address (`2130706433`, `0x7f.0.0.1`, `[0:0::1]`) reaches a host that is not listed
// under its normalised form.

export type AllowedUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

interface AllowedHost {
  /** Normalised host name or IP literal; for a wildcard, the domain below which subdomains match. */
  host: string;
  wildcard: boolean;
  /** Decimal port without leading zeros; absent: any port. */
  port?: string;
}

const FIELD = "the Remediation's spec.webhook.allowedHosts";
const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };
/** `*.` (optional), a bracketed IPv6 literal or a host without URL delimiters, `:port` (optional). */
const ENTRY = /^(\*\.)?(\[[^\]]*\]|[^:[\]/?#@\\\s]+)(?::(\d{1,5}))?$/;
const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

/**
 * Whether `url` may be called given `allowedHosts` (entries `host`, `host:port`, `[v6]:port`,
 * `*.domain` for subdomains of domain only). Only http and https, no credentials in the URL. The
 * refusal names the host only: a webhook URL's path and query often carry a secret.
 */
export function checkAllowedUrl(url: string, allowedHosts: readonly string[], field = FIELD): AllowedUrlCheck {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'the webhook URL is not a valid absolute URL' };
  }
  const port = DEFAULT_PORTS[parsed.protocol] === undefined ? undefined : effectivePort(parsed);
  if (port === undefined) {
    return {
      ok: false,
      reason: `the webhook URL's scheme ${JSON.stringify(parsed.protocol.replace(/:$/, ''))} is not allowed: only http and https`,
    };
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return {
      ok: false,
      reason: `the webhook URL for host "${parsed.host}" carries credentials (user:password@): put them in the webhook's Secret instead`,
    };
  }

  const invalid: string[] = [];
  for (const entry of allowedHosts) {
    const allowed = parseEntry(entry);
    if (allowed === undefined) invalid.push(entry);
    else if (matches(allowed, parsed.hostname, port)) return { ok: true, url: parsed };
  }

  const listAs = `"${parsed.hostname}" or "${parsed.hostname}:${port}"`;
  const ignored =
    invalid.length === 0 ? '' : ` (entries ignored as invalid: ${invalid.map((e) => JSON.stringify(e)).join(', ')})`;
  if (allowedHosts.length === 0) {
    return {
      ok: false,
      reason: `host "${parsed.host}" is not allowed: ${field} is empty; list the host there as ${listAs}`,
    };
  }
  return {
    ok: false,
    reason: `host "${parsed.host}" is not allowed: it must be listed in ${field}, as ${listAs}${ignored}`,
  };
}

function effectivePort(url: URL): string {
  return url.port === '' ? (DEFAULT_PORTS[url.protocol] ?? '') : url.port;
}

function matches(allowed: AllowedHost, hostname: string, port: string): boolean {
  if (allowed.port !== undefined && allowed.port !== port) return false;
  if (!allowed.wildcard) return hostname === allowed.host;
  return hostname.endsWith(`.${allowed.host}`);
}

/** The entry in normalised form, or undefined when it is not a host, host:port or *.domain. */
function parseEntry(entry: string): AllowedHost | undefined {
  const match = ENTRY.exec(entry);
  if (!match) return undefined;
  const [, star, rawHost = '', rawPort] = match;
  let host: string;
  try {
    host = new URL(`http://${rawHost}/`).hostname;
  } catch {
    return undefined;
  }
  const wildcard = star !== undefined;
  // `*.10.0.0.1` names no subdomains: an IP literal has none.
  if (wildcard && (host.startsWith('[') || IPV4.test(host))) return undefined;
  if (rawPort === undefined) return { host, wildcard };
  const port = Number(rawPort);
  if (port < 1 || port > 65535) return undefined;
  return { host, wildcard, port: String(port) };
}
