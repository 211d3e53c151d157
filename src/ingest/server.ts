// The HTTP ways in: Alertmanager's webhook, Keptn CloudEvents, Dynatrace problem notifications and
// ProblemEvent manifests, plus any route mounted by the composition root (the Git push hook).
//
// Every request goes through the same gate, in this order, so a bad request costs as little as
// possible: route → bearer token (401) → content type (415) → size while streaming (413) → JSON
// (400) → mapping (400 naming the field) → store. The answer is 2xx only after every ProblemEvent of
// the request is stored; writes are idempotent, so a sender that retries after a 503 loses nothing.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ReboundError } from '../errors.ts';
import { KUBE_ERROR_CODES } from '../kube/errors.ts';
import { isAuthorized, presentedAuthorization } from './auth.ts';
import type { TokenSource } from './auth.ts';
import { DEFAULT_MAX_BODY_BYTES, HttpError, mediaType, parseJsonBody, readBody } from './body.ts';
import { InvalidPayloadError, isObject } from './fields.ts';
import { KEPTN_API_PATHS, keptnApiRoutes, keptnMetadata } from './keptn-api.ts';
import { mapPayload } from './payloads.ts';
import type { PayloadKind } from './payloads.ts';
import type { ProblemSink } from './store.ts';
import { actionCallbackRoute, actionEventFrom, recordActionEvent } from './action-callbacks.ts';
import type { ActionCallbackStore } from './action-callbacks.ts';
import type { MappedProblem, MappingOptions } from './types.ts';
import { httpServerRunnable, httpUrl } from '../runtime/http-server.ts';
import type { HttpServerRunnable } from '../runtime/http-server.ts';

/** The subset of a pino logger the server uses. It never receives headers or tokens. */
export interface IngestLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface RouteRequest {
  /** The request path, without the query. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, within the size limit (signature checks need the exact bytes). */
  body: Buffer;
}

export interface RouteResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: 'POST' | 'GET';
  /** The exact path, or with `prefix` the start of every path it serves (`/v1/actions/`). */
  path: string;
  prefix?: boolean;
  /** `bearer`: the ingest token is required; `none`: the handler authenticates (e.g. a signed Git hook). */
  auth: 'bearer' | 'none';
  /** Accepted media types (without parameters); absent for a route that reads no body. */
  contentTypes?: readonly string[];
  /** The body of an error answer, when the route's clients expect another shape (Keptn's API). */
  formatError?: (status: number, message: string) => unknown;
  handle(request: RouteRequest): Promise<RouteResponse>;
}

export interface IngestServerOptions {
  sink: ProblemSink;
  tokens: TokenSource;
  mapping?: MappingOptions;
  maxBodyBytes?: number;
  log?: IngestLogger;
  /** More routes (e.g. `POST /hooks/git`), mounted beside the built-in ones. */
  routes?: readonly Route[];
  /** Where runbook callbacks and Keptn executors' `action.finished` events are recorded; off when absent. */
  actions?: ActionCallbackStore;
  /** Called once per answered request, for metrics. `route` is a known path or `unknown` (bounded). */
  onResponse?: (info: { route: string; status: number; seconds: number }) => void;
  /** The namespace Keptn's `GET /api/v1/metadata` reports (where problems are stored). */
  keptnNamespace?: string;
  /** How long a client may take to send its headers (default 10 s) and its whole request (30 s). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export const ROUTE_PATHS = {
  alertmanager: '/v1/alertmanager',
  events: '/v1/events',
  dynatrace: '/v1/dynatrace',
  problems: '/v1/problems',
} as const;

const JSON_TYPES = ['application/json'] as const;
const CLOUDEVENT_TYPES = ['application/cloudevents+json', 'application/json'] as const;
/** Bytes of an unwanted body read and thrown away so the client can read our answer. */
const MAX_DISCARD_BYTES = 4 * 1024 * 1024;

const silentLogger: IngestLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The request handler alone (no listening socket), for composing with other servers and for tests. */
export function createIngestHandler(options: IngestServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = options.log ?? silentLogger;
  const routes = new Map<string, Route[]>();
  for (const route of [...builtInRoutes(options, log), ...(options.routes ?? [])]) {
    const same = routes.get(route.path) ?? [];
    if (same.some((r) => r.method === route.method))
      throw new Error(`ingest: two routes for ${route.method} ${route.path}`);
    routes.set(route.path, [...same, route]);
  }
  const prefixed = [...routes.values()].flat().filter((r) => r.prefix === true);
  /** The routes serving `path`, one per method. */
  const routesFor = (path: string): Route[] => {
    const exact = (routes.get(path) ?? []).filter((r) => r.prefix !== true);
    if (exact.length > 0) return exact;
    return prefixed.filter((r) => path.startsWith(r.path) && path.length > r.path.length);
  };
  const describeRoutes = (): string =>
    [...routes.values()]
      .flat()
      .map((r) => `${r.method} ${r.prefix ? `${r.path}…` : r.path}`)
      .join(', ');

  const serve = async (req: IncomingMessage, res: ServerResponse, path: string, candidates: Route[]): Promise<void> => {
    if (candidates.length === 0) throw new HttpError(404, `no route for ${path}; routes: ${describeRoutes()}`);
    const route = candidates.find((r) => r.method === req.method);
    if (route === undefined) {
      const allowed = candidates.map((r) => r.method).join(', ');
      throw new HttpError(405, `${path} only accepts ${allowed}`, { headers: { Allow: allowed } });
    }
    const authorization = presentedAuthorization(req.headers);
    if (route.auth === 'bearer' && !isAuthorized(authorization, options.tokens())) {
      const given = authorization !== undefined;
      throw new HttpError(
        401,
        given
          ? 'invalid bearer token'
          : "missing bearer token (Authorization: Bearer <token>, or Keptn's x-token header)",
        {
          headers: {
            'WWW-Authenticate': given ? 'Bearer realm="rebound", error="invalid_token"' : 'Bearer realm="rebound"',
          },
        },
      );
    }
    if (route.contentTypes !== undefined) {
      const type = mediaType(req.headers['content-type']);
      if (type === undefined || !route.contentTypes.includes(type.type)) {
        throw new HttpError(
          415,
          `Content-Type must be ${route.contentTypes.join(' or ')}, got ${type?.type ?? 'none'}`,
        );
      }
      if (!type.utf8) throw new HttpError(415, 'only UTF-8 bodies are accepted');
    }
    const body = await readBody(req, maxBodyBytes);
    const answer = await route.handle({ path, headers: req.headers, body });
    send(res, answer.status, answer.body, answer.headers);
  };

  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const candidates = routesFor(path);
    if (options.onResponse) {
      const started = process.hrtime.bigint();
      const onResponse = options.onResponse;
      res.once('finish', () => {
        onResponse({
          route: candidates[0]?.path ?? 'unknown',
          status: res.statusCode,
          seconds: Number(process.hrtime.bigint() - started) / 1e9,
        });
      });
    }
    serve(req, res, path, candidates).catch((err: unknown) => {
      const { status, body, headers } = toErrorResponse(err, log);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A route's clients may expect their own error shape (Keptn's API: {code, message}).
      const formatError = (candidates.find((r) => r.method === req.method) ?? candidates[0])?.formatError;
      const message = isObject(body) && typeof body['error'] === 'string' ? body['error'] : 'internal error';
      // The body may be unread (refused before reading, or cut off at the limit): close the connection
      // after answering, and read a bounded amount more so the client gets to see the answer.
      res.setHeader('Connection', 'close');
      send(res, status, formatError ? formatError(status, message) : body, headers);
      discardRest(req);
    });
  };
}

export interface RunningIngestServer {
  /** http://HOST:PORT */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Slow or idle clients cannot hold a connection open for long. */
function serverOptions(options: IngestServerOptions): ServerOptions {
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  return {
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    headersTimeout,
    keepAliveTimeout: 5_000,
    // Node checks the two timeouts above only this often (default 30 s): a slow-header client
    // was cut after about 30 s, not the documented 10 s.
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(headersTimeout / 4))),
  };
}

/** Listens on `address` (`host:port`; port 0 picks a free one). */
export async function startIngestServer(
  options: IngestServerOptions & { address: string },
): Promise<RunningIngestServer> {
  const { host, port } = parseAddress(options.address);
  const server = createServer(serverOptions(options), createIngestHandler(options));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    url: httpUrl(server.address() as AddressInfo),
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export interface IngestRunnable extends HttpServerRunnable {
  /**
   * Where runbooks call back: the server's URL once it listens, unless it listens on every
   * interface (0.0.0.0, ::), which says nothing about the name runbooks reach us by.
   */
  callbackBaseUrl(): string | undefined;
}

/** The ingest server as the manager's Runnable: it binds when the manager starts it, not before. */
export function ingestRunnable(options: IngestServerOptions & { address: string; log: Logger }): IngestRunnable {
  const { host, port } = parseAddress(options.address);
  const server = httpServerRunnable({
    name: 'webhooks',
    host,
    port,
    handler: createIngestHandler(options),
    log: options.log,
    serverOptions: serverOptions(options),
  });
  return { ...server, callbackBaseUrl: () => reachableUrl(server.url()) };
}

/** `url` unless it names every interface. */
export function reachableUrl(url: string | undefined): string | undefined {
  return url === undefined || /^http:\/\/(0\.0\.0\.0|\[::\]):/.test(url) ? undefined : url;
}

export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]*):(\d+)$/.exec(address.trim());
  const port = Number(match?.[2]);
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ReboundError(
      `invalid listen address ${JSON.stringify(address)}; expected host:port such as 127.0.0.1:8080`,
      {
        code: 'InvalidAddress',
        retryable: false,
      },
    );
  }
  const host = (match[1] ?? '').replace(/^\[|\]$/g, '');
  return { host: host === '' ? '0.0.0.0' : host, port };
}

function builtInRoutes(options: IngestServerOptions, log: IngestLogger): Route[] {
  const problemRoute = (
    path: string,
    contentTypes: readonly string[],
    kind: (req: RouteRequest, value: unknown) => { kind: PayloadKind; value: unknown },
  ): Route => ({
    method: 'POST',
    path,
    auth: 'bearer',
    contentTypes,
    handle: async (req) => {
      const parsed = kind(req, parseJsonBody(req.body));
      const problems = mapPayload(parsed.kind, parsed.value, options.mapping);
      return storeProblems(problems, options.sink, log, path);
    },
  });
  const actions = options.actions;
  // A Keptn executor reporting on an action Rebound handed it, or a problem coming in.
  const handleEvent = async (event: unknown, route: string): Promise<RouteResponse> => {
    const report = actions ? actionEventFrom(event) : undefined;
    if (actions && report) return recordActionEvent(actions, report, log);
    return storeProblems(mapPayload('cloudevent', event, options.mapping), options.sink, log, route);
  };
  const events: Route = {
    ...problemRoute(ROUTE_PATHS.events, CLOUDEVENT_TYPES, (req, value) => ({
      kind: 'cloudevent',
      value: cloudEventFrom(req.headers, value),
    })),
    handle: (req) => handleEvent(cloudEventFrom(req.headers, parseJsonBody(req.body)), ROUTE_PATHS.events),
  };
  return [
    ...keptnApiRoutes({
      handleEvent: (event) => handleEvent(event, KEPTN_API_PATHS.event),
      metadata: keptnMetadata(options.keptnNamespace ?? ''),
    }),
    problemRoute(ROUTE_PATHS.alertmanager, JSON_TYPES, (_req, value) => ({ kind: 'alertmanager', value })),
    events,
    ...(actions ? [actionCallbackRoute(actions, log)] : []),
    problemRoute(ROUTE_PATHS.dynatrace, JSON_TYPES, (_req, value) => ({ kind: 'dynatrace', value })),
    problemRoute(ROUTE_PATHS.problems, JSON_TYPES, (_req, value) => ({ kind: 'manifest', value })),
  ];
}

async function storeProblems(
  problems: MappedProblem[],
  sink: ProblemSink,
  log: IngestLogger,
  route: string,
): Promise<RouteResponse> {
  const stored = await sink.store(problems);
  for (const s of stored) {
    if (s.outcome !== 'unchanged') log.info({ route, problem: s.name, outcome: s.outcome }, 'problem stored');
  }
  return { status: 200, body: { accepted: stored.length, problems: stored.map((s) => s.name) } };
}

/**
 * CloudEvents binary mode: the attributes travel as `ce-*` headers and the body is `data`. Structured
 * mode (the whole event as the body) passes through unchanged.
 */
function cloudEventFrom(headers: IncomingHttpHeaders, body: unknown): unknown {
  const type = headers['ce-type'];
  if (typeof type !== 'string') return body;
  const event: Record<string, unknown> = { data: body };
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('ce-') && typeof value === 'string') event[name.slice(3)] = value;
  }
  return event;
}

function toErrorResponse(
  err: unknown,
  log: IngestLogger,
): { status: number; body: unknown; headers?: Record<string, string> } {
  if (err instanceof HttpError) {
    return { status: err.status, body: { error: err.message, field: err.field }, headers: err.headers };
  }
  if (err instanceof InvalidPayloadError) {
    return { status: 400, body: { error: err.message, field: err.field } };
  }
  if (err instanceof ReboundError) {
    // The API server refused the object: the payload's fault, not worth a retry.
    if (err.code === KUBE_ERROR_CODES.Invalid) return { status: 400, body: { error: err.message, field: null } };
    if (err.retryable) {
      log.warn({ err }, 'storing problems failed; the sender is asked to retry');
      return { status: 503, body: { error: err.message, field: null }, headers: { 'Retry-After': '5' } };
    }
    log.error({ err }, 'storing problems failed');
    return { status: 500, body: { error: err.message, field: null } };
  }
  log.error({ err }, 'ingest request failed');
  return { status: 500, body: { error: 'internal error', field: null } };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    // Keptn's `POST /api/v1/auth` answered 200 with nothing.
    res.writeHead(status, { ...headers, 'Content-Length': 0 });
    res.end();
    return;
  }
  const text = JSON.stringify(isObject(body) || Array.isArray(body) ? body : { result: body });
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function discardRest(req: IncomingMessage): void {
  if (req.readableEnded) return;
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > MAX_DISCARD_BYTES) req.destroy();
  });
  req.on('error', () => undefined);
  req.resume();
}
