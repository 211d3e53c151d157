// One outbound request of a sink: the host allow-list (src/net) before anything leaves, a timeout,
// answers read with a size cap, and every failure classified and scrubbed of the credentials sent.
import { checkAllowedUrl } from '../net/allowed-hosts.ts';
import { describeUrl, scrubberFor } from '../net/scrub.ts';
import { ReboundError, describeFetchError } from '../errors.ts';
import { httpFailure } from './sink.ts';

/** Answers are small JSON objects (Slack's); more than this is not read. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface SinkRequest {
  /** Names the sink in messages: `slack`, `teams`, ... */
  sink: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Hosts the controller may call (--notification-allowed-hosts). */
  allowedHosts: readonly string[];
  timeoutMs: number;
  signal: AbortSignal;
  /** Secrets that are not in a header (an HMAC key, a token in the URL's query). */
  secrets?: readonly string[];
}

export interface SinkAnswer {
  status: number;
  text: string;
}

/** POSTs the body; resolves with a 2xx answer, throws a classified ReboundError otherwise. */
export async function post(request: SinkRequest): Promise<SinkAnswer> {
  const allowed = checkAllowedUrl(request.url, request.allowedHosts);
  if (!allowed.ok)
    throw new ReboundError(
      `${request.sink}: ${allowed.reason.replace("the Remediation's spec.webhook.allowedHosts", "the controller's --notification-allowed-hosts")}`,
      { code: 'SinkHostNotAllowed', reason: 'SinkHostNotAllowed', retryable: false },
    );
  const scrub = scrubberFor({ headers: request.headers, url: request.url, secrets: request.secrets ?? [] });
  const query = allowed.url.search;
  const redact = (text: string): string => scrub(query.length > 1 ? text.split(query).join('?[redacted]') : text);
  let response: Response;
  try {
    response = await fetch(allowed.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'error',
      signal: AbortSignal.any([request.signal, AbortSignal.timeout(request.timeoutMs)]),
    });
  } catch (err) {
    throw new ReboundError(
      redact(`${request.sink}: ${describeUrl(allowed.url)} could not be reached: ${describeFetchError(err)}`),
      { code: 'SinkUnreachable', reason: 'DeliveryFailing', retryable: true, cause: err },
    );
  }
  const text = await readCapped(response);
  if (response.status < 200 || response.status > 299)
    throw httpFailure(request.sink, response.status, redact(text.slice(0, 200)));
  return { status: response.status, text };
}

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_ANSWER_BYTES) break;
      chunks.push(value);
    }
  } catch {
    // A body cut short says nothing more than its status.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8');
}
