// Spans for the remediation loop: the interface the loop depends on (Tracer, Span), the no-op used
// when tracing is off, and the recording tracer that hands finished spans to an exporter.
//
// Why not the OpenTelemetry SDK: a problem's trace outlives any one process. Its id, and the id of
// the problem's own span, are chosen when the problem is first seen and kept on the ProblemEvent
// (the `rebound.dev/traceparent` annotation); every later step, in this process or after a restart,
// is a child of that span, and the problem's span itself is recorded when the problem finishes.
// The SDK's API cannot record a span under an id chosen earlier; here a span is plain data.
import { newSpanId, parseTraceparent, formatTraceparent, newTraceContext } from './traceparent.ts';
import type { TraceContext } from './traceparent.ts';

export type AttributeValue = string | number | boolean;
/** Span attributes; undefined values are left out. */
export type Attributes = Readonly<Record<string, AttributeValue | undefined>>;

export interface SpanEvent {
  name: string;
  /** Milliseconds since the epoch (fractions allowed). */
  timeMs: number;
  attributes: Record<string, AttributeValue>;
}

/** A span as it is exported. */
export interface FinishedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** Milliseconds since the epoch (fractions allowed). */
  startMs: number;
  endMs: number;
  attributes: Record<string, AttributeValue>;
  events: SpanEvent[];
  /** Set when the span failed: its status is ERROR with this message. */
  error?: string;
}

export interface Span {
  /** This span's context as a traceparent (its children's parent); undefined for the no-op span. */
  readonly traceparent: string | undefined;
  setAttributes(attributes: Attributes): void;
  addEvent(name: string, attributes?: Attributes, time?: Date): void;
  /** A child span, started now or at `start`. */
  child(name: string, attributes?: Attributes, start?: Date): Span;
  /** The span failed (status ERROR); the message is shown with it. */
  fail(message: string): void;
  /** Ends the span (now or at `time`) and exports it. Later calls do nothing. */
  end(time?: Date): void;
  /** Ends the span without exporting it (it turned out to say nothing). */
  drop(): void;
}

export interface Tracer {
  /** A new sampled traceparent: a fresh trace and the id of the span the problem will have. */
  newTraceparent(): string;
  /** A span under `parent` (a traceparent); a no-op span when the parent is invalid or not sampled. */
  start(parent: string | undefined, name: string, attributes?: Attributes, start?: Date): Span;
  /**
   * A finished span recorded whole with the ids `context` names (its span id is the span's own),
   * e.g. a problem's span at its end; nothing when `context` is invalid or not sampled.
   */
  record(
    context: string | undefined,
    span: { name: string; start: Date; end: Date; attributes?: Attributes; error?: string },
  ): void;
}

class NoSpan implements Span {
  readonly traceparent = undefined;
  setAttributes(): void {}
  addEvent(): void {}
  child(): Span {
    return this;
  }
  fail(): void {}
  end(): void {}
  drop(): void {}
}

/** The span of a trace that is not recorded: every call is free. */
export const NO_SPAN: Span = new NoSpan();

/** Tracing off: no ids, no spans, no cost. */
export const NO_TRACER: Tracer = {
  newTraceparent: () => formatTraceparent(newTraceContext()),
  start: () => NO_SPAN,
  record: () => {},
};

export interface RecordingTracerOptions {
  /** Receives each span as it ends; must not block or throw. */
  export: (span: FinishedSpan) => void;
  /** Milliseconds since the epoch, with fractions where the clock has them. */
  nowMs?: () => number;
  newSpanId?: () => string;
}

/** At most this many events per span, so a long loop step cannot grow one without bound. */
const MAX_EVENTS = 128;
/** Attribute strings are cut here: a span is for reading, the status holds the whole text. */
const MAX_STRING = 1024;

export class RecordingTracer implements Tracer {
  readonly #export: (span: FinishedSpan) => void;
  readonly #now: () => number;
  readonly #newSpanId: () => string;

  constructor(options: RecordingTracerOptions) {
    this.#export = options.export;
    this.#now = options.nowMs ?? (() => performance.timeOrigin + performance.now());
    this.#newSpanId = options.newSpanId ?? (() => newSpanId());
  }

  newTraceparent(): string {
    return formatTraceparent(newTraceContext());
  }

  start(parent: string | undefined, name: string, attributes: Attributes = {}, start?: Date): Span {
    const context = parseTraceparent(parent);
    if (!context?.sampled) return NO_SPAN;
    return this.#span(context, name, attributes, start);
  }

  record(
    context: string | undefined,
    span: { name: string; start: Date; end: Date; attributes?: Attributes; error?: string },
  ): void {
    const parsed = parseTraceparent(context);
    if (!parsed?.sampled) return;
    this.#export({
      traceId: parsed.traceId,
      spanId: parsed.spanId,
      name: span.name,
      startMs: span.start.getTime(),
      endMs: Math.max(span.start.getTime(), span.end.getTime()),
      attributes: clean(span.attributes ?? {}),
      events: [],
      ...(span.error !== undefined ? { error: cut(span.error) } : {}),
    });
  }

  #span(parent: TraceContext, name: string, attributes: Attributes, start: Date | undefined): Span {
    const data: FinishedSpan = {
      traceId: parent.traceId,
      spanId: this.#newSpanId(),
      parentSpanId: parent.spanId,
      name,
      startMs: start?.getTime() ?? this.#now(),
      endMs: 0,
      attributes: clean(attributes),
      events: [],
    };
    let ended = false;
    const self: Span = {
      traceparent: formatTraceparent({ traceId: data.traceId, spanId: data.spanId, sampled: true }),
      setAttributes: (more) => {
        if (!ended) Object.assign(data.attributes, clean(more));
      },
      addEvent: (eventName, eventAttributes = {}, time) => {
        if (ended || data.events.length >= MAX_EVENTS) return;
        data.events.push({
          name: eventName,
          timeMs: time?.getTime() ?? this.#now(),
          attributes: clean(eventAttributes),
        });
      },
      child: (childName, childAttributes = {}, childStart) =>
        this.#span(
          { traceId: data.traceId, spanId: data.spanId, sampled: true },
          childName,
          childAttributes,
          childStart,
        ),
      fail: (message) => {
        if (!ended) data.error = cut(message);
      },
      end: (time) => {
        if (ended) return;
        ended = true;
        data.endMs = Math.max(data.startMs, time?.getTime() ?? this.#now());
        this.#export(data);
      },
      drop: () => {
        ended = true;
      },
    };
    return self;
  }
}

function cut(text: string): string {
  return text.length > MAX_STRING ? `${text.slice(0, MAX_STRING - 1)}…` : text;
}

function clean(attributes: Attributes): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    out[key] = typeof value === 'string' ? cut(value) : value;
  }
  return out;
}
