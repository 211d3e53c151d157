// OTLP over HTTP with the JSON encoding (https://opentelemetry.io/docs/specs/otlp/#otlphttp): spans
// are queued as they end and sent in batches to `<endpoint>/v1/traces`. Delivery never holds the
// loop up: the queue is bounded (the oldest spans are dropped past it), one request is in flight at
// a time, a retryable answer (429, 502, 503, 504, no connection) is tried again a few times with
// backoff, and what still cannot be sent is dropped and counted.
import type { AttributeValue, FinishedSpan } from './tracer.ts';

export interface OtlpExporterOptions {
  /** The traces URL itself, e.g. http://collector:4318/v1/traces. */
  url: string;
  /** Extra request headers (OTEL_EXPORTER_OTLP_HEADERS: an API key, say); never logged. */
  headers?: Readonly<Record<string, string>>;
  /** Resource attributes: service.name, service.version, service.instance.id. */
  resource: Readonly<Record<string, AttributeValue>>;
  /** Instrumentation scope. */
  scope: { name: string; version?: string };
  /** Spans held while the backend is slow or away (default 2048). */
  maxQueue?: number;
  /** Spans per request (default 512). */
  maxBatch?: number;
  /** How long a span may wait for its batch (default 1s). */
  flushMs?: number;
  /** One request's timeout (default 10s). */
  timeoutMs?: number;
  /** Tries per batch before it is dropped (default 4). */
  tries?: number;
  /** Backoff before the second try, doubled each time (default 500ms). */
  backoffMs?: number;
  fetch?: typeof fetch;
  /** How many spans went out, and how many were dropped (queue full, or the backend kept failing). */
  onResult?: (result: 'exported' | 'dropped', spans: number) => void;
  /** A batch was dropped: the URL (without credentials) and why. */
  onError?: (message: string) => void;
}

type AnyValue = { stringValue: string } | { boolValue: boolean } | { intValue: string } | { doubleValue: number };

function anyValue(value: AttributeValue): AnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: value };
}

function keyValues(attributes: Readonly<Record<string, AttributeValue>>): { key: string; value: AnyValue }[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: anyValue(value) }));
}

/** Milliseconds since the epoch (fractions kept to the microsecond) as OTLP's decimal nanoseconds. */
export function unixNanos(ms: number): string {
  return (BigInt(Math.round(ms * 1000)) * 1000n).toString();
}

const SPAN_KIND_INTERNAL = 1;
const STATUS_ERROR = 2;

/** One ExportTraceServiceRequest in OTLP/JSON: ids as hex strings, times as decimal strings. */
export function encodeTraces(
  spans: readonly FinishedSpan[],
  resource: Readonly<Record<string, AttributeValue>>,
  scope: { name: string; version?: string },
): object {
  return {
    resourceSpans: [
      {
        resource: { attributes: keyValues(resource) },
        scopeSpans: [
          {
            scope: { name: scope.name, ...(scope.version ? { version: scope.version } : {}) },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
              name: s.name,
              kind: SPAN_KIND_INTERNAL,
              startTimeUnixNano: unixNanos(s.startMs),
              endTimeUnixNano: unixNanos(s.endMs),
              attributes: keyValues(s.attributes),
              events: s.events.map((e) => ({
                timeUnixNano: unixNanos(e.timeMs),
                name: e.name,
                attributes: keyValues(e.attributes),
              })),
              ...(s.error !== undefined ? { status: { code: STATUS_ERROR, message: s.error } } : {}),
            })),
          },
        ],
      },
    ],
  };
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/** The URL as it may be shown: no user, password, query or fragment. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export class OtlpHttpExporter {
  readonly #options: OtlpExporterOptions;
  readonly #queue: FinishedSpan[] = [];
  readonly #maxQueue: number;
  readonly #maxBatch: number;
  readonly #fetch: typeof fetch;
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  #closed = false;

  constructor(options: OtlpExporterOptions) {
    this.#options = options;
    this.#maxQueue = options.maxQueue ?? 2048;
    this.#maxBatch = options.maxBatch ?? 512;
    this.#fetch = options.fetch ?? fetch;
  }

  /** Queues a finished span; never blocks, never throws. */
  export(span: FinishedSpan): void {
    if (this.#closed) {
      this.#options.onResult?.('dropped', 1);
      return;
    }
    if (this.#queue.length >= this.#maxQueue) {
      this.#queue.shift();
      this.#options.onResult?.('dropped', 1);
    }
    this.#queue.push(span);
    if (this.#queue.length >= this.#maxBatch) this.#kick();
    else this.#timer ??= setTimeout(() => this.#kick(), this.#options.flushMs ?? 1000).unref();
  }

  /** Sends everything queued so far (and waits for a send already under way). */
  async flush(): Promise<void> {
    this.#clearTimer();
    while (this.#sending || this.#queue.length > 0) {
      this.#kick();
      await this.#sending;
    }
  }

  /** Sends what is queued, then refuses new spans. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #kick(): void {
    this.#clearTimer();
    if (this.#sending || this.#queue.length === 0) return;
    this.#sending = this.#drain().finally(() => {
      this.#sending = undefined;
      // Spans that ended while we sent wait for their own flush interval (or the next full batch).
      if (this.#queue.length > 0 && !this.#timer)
        this.#timer = setTimeout(() => this.#kick(), this.#options.flushMs ?? 1000).unref();
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      const error = await this.#send(batch);
      if (error === undefined) this.#options.onResult?.('exported', batch.length);
      else {
        this.#options.onResult?.('dropped', batch.length);
        this.#options.onError?.(`${displayUrl(this.#options.url)}: ${error}`);
      }
    }
  }

  /** Sends one batch with retries; undefined when it was accepted, else why it was not. */
  async #send(batch: readonly FinishedSpan[]): Promise<string | undefined> {
    const body = JSON.stringify(encodeTraces(batch, this.#options.resource, this.#options.scope));
    const tries = this.#options.tries ?? 4;
    let backoff = this.#options.backoffMs ?? 500;
    let last = '';
    for (let attempt = 1; attempt <= tries; attempt++) {
      try {
        const response = await this.#fetch(this.#options.url, {
          method: 'POST',
          headers: { ...this.#options.headers, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
        });
        // The body may say which spans were rejected (partial success); it is read and not kept.
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return undefined;
        last = `HTTP ${String(response.status)}`;
        if (!RETRYABLE_STATUS.has(response.status)) return last;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      if (attempt < tries) {
        await new Promise((resolve) => setTimeout(resolve, backoff).unref());
        backoff *= 2;
      }
    }
    return `${last} after ${String(tries)} tries`;
  }
}
