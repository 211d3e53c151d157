// A real Jaeger (v2: the OpenTelemetry-collector-based cmd/jaeger, built by test/cluster/build.sh) on
// loopback, with in-memory storage: it receives OTLP over HTTP and answers its query API, which the
// tests read traces from. Every port is a free loopback port, written into a config file of its own.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LOOPBACK, freePorts, retryOnAddressInUse } from './ports.ts';
import { httpOk, registerTempDir, removeTempDir, startProcess, waitUntil } from './process.ts';
import type { ManagedProcess } from './process.ts';
import { toolPath } from './tools.ts';

export interface JaegerPorts {
  /** OTLP/HTTP receiver (POST /v1/traces). */
  otlpHttp: number;
  /** Query service: HTTP API (/api/traces, /api/services). */
  query: number;
  /** The query service's gRPC API (unused by the tests, but the extension always listens). */
  queryGrpc: number;
  /** healthcheckv2's /status: healthy once every component is up. */
  health: number;
}

/** The config file the harness writes: OTLP/HTTP in, in-memory storage, query and health check out. */
export function jaegerConfig(ports: JaegerPorts, maxTraces = 10_000): string {
  const at = (port: number): string => `${LOOPBACK}:${String(port)}`;
  return stringify({
    service: {
      extensions: ['jaeger_storage', 'jaeger_query', 'healthcheckv2'],
      pipelines: { traces: { receivers: ['otlp'], processors: [], exporters: ['jaeger_storage_exporter'] } },
      // No internal metrics server (it would take a fixed port); warnings and errors only.
      telemetry: { resource: { 'service.name': 'jaeger' }, metrics: { level: 'none' }, logs: { level: 'warn' } },
    },
    extensions: {
      healthcheckv2: { use_v2: true, http: { endpoint: at(ports.health) } },
      jaeger_query: {
        storage: { traces: 'memstore' },
        http: { endpoint: at(ports.query) },
        grpc: { endpoint: at(ports.queryGrpc) },
      },
      jaeger_storage: { backends: { memstore: { memory: { max_traces: maxTraces } } } },
    },
    receivers: { otlp: { protocols: { http: { endpoint: at(ports.otlpHttp) } } } },
    exporters: { jaeger_storage_exporter: { trace_storage: 'memstore' } },
  });
}

/** A span as Jaeger's query API returns it (the fields the tests read). */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  /** Microseconds since the epoch. */
  startTime: number;
  /** Microseconds. */
  duration: number;
  tags: { key: string; type: string; value: unknown }[];
  processID: string;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}

export interface LocalJaeger {
  /** OTLP/HTTP base URL (the exporter posts to `${otlpEndpoint}/v1/traces`). */
  otlpEndpoint: string;
  /** Query API base URL. */
  queryUrl: string;
  process: ManagedProcess;
  /** Traces of `service` (Jaeger's search: newest first, at most `limit`). */
  traces(service: string, limit?: number): Promise<JaegerTrace[]>;
  /** One trace by id, or undefined while Jaeger has none of its spans. */
  trace(traceId: string): Promise<JaegerTrace | undefined>;
  stop(): Promise<void>;
}

/** The value of a span's tag, when it has one. */
export function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((t) => t.key === key)?.value;
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

/** Starts Jaeger on free loopback ports, resolved once its health check says every component is up. */
export function startJaeger(options: { startTimeoutMs?: number } = {}): Promise<LocalJaeger> {
  return retryOnAddressInUse(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rebound-jaeger-'));
    registerTempDir(dir);
    let server: ManagedProcess | undefined;
    const stop = async (): Promise<void> => {
      await server?.stop();
      await removeTempDir(dir);
    };
    try {
      const [otlpHttp = 0, query = 0, queryGrpc = 0, health = 0] = await freePorts(4);
      const ports = { otlpHttp, query, queryGrpc, health };
      const configPath = join(dir, 'jaeger.yaml');
      await writeFile(configPath, jaegerConfig(ports));
      server = await startProcess({ name: 'jaeger', command: toolPath('jaeger'), args: ['--config', configPath] });
      const proc = server;
      const queryUrl = `http://${LOOPBACK}:${String(query)}`;
      await waitUntil('jaeger /status', () => httpOk(`http://${LOOPBACK}:${String(health)}/status`), {
        timeoutMs: options.startTimeoutMs ?? 60_000,
        process: proc,
      });
      let stopping: Promise<void> | undefined;
      return {
        otlpEndpoint: `http://${LOOPBACK}:${String(otlpHttp)}`,
        queryUrl,
        process: proc,
        traces: async (service, limit = 20) => {
          const params = new URLSearchParams({ service, limit: String(limit), lookback: '1h' });
          const { status, body } = await getJson(`${queryUrl}/api/traces?${params.toString()}`);
          if (status !== 200) throw new Error(`jaeger /api/traces answered ${String(status)}`);
          return (body as { data: JaegerTrace[] | null }).data ?? [];
        },
        trace: async (traceId) => {
          const { status, body } = await getJson(`${queryUrl}/api/traces/${encodeURIComponent(traceId)}`);
          if (status === 404) return undefined;
          if (status !== 200) throw new Error(`jaeger /api/traces/${traceId} answered ${String(status)}`);
          return (body as { data: JaegerTrace[] | null }).data?.[0];
        },
        stop: () => (stopping ??= stop()),
      };
    } catch (err) {
      await stop();
      throw err;
    }
  });
}
