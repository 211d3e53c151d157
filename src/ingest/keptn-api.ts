// Keptn's API paths on the ingest server, so `keptn send event`, `keptn auth` and integrations built
// on Keptn's go-utils reach Rebound with no proxy: point them at `http://<ingest>/api`.
//
//   POST /api/v1/event     what /v1/events does; the answer is Keptn's `{"keptnContext": "<uuid>"}`
//   GET  /api/v1/metadata  Keptn's metadata document (the CLI reads it before creating projects)
//   POST /api/v1/auth      200 with an empty body when the token is good (`keptn auth`); GET too
//
// The requests are the ones go-utils' APISet sends: `Content-Type: application/json` and the token in
// `x-token` (Authorization: Bearer works too). Errors are Keptn's `{"code", "message"}`, the shape
// go-utils decodes and the CLI prints.
import { randomUUID } from 'node:crypto';
import { parseJsonBody } from './body.ts';
import { isObject } from './fields.ts';
import type { Route, RouteResponse } from './server.ts';

export const KEPTN_API_PATHS = {
  event: '/api/v1/event',
  metadata: '/api/v1/metadata',
  auth: '/api/v1/auth',
} as const;

/** Keptn's API `metadata` document (keptn/keptn api/swagger.yaml, go-utils models.Metadata). */
export interface KeptnMetadata {
  namespace: string;
  /** The Keptn version whose API these paths follow; the CLI compares it with its own. */
  keptnversion: string;
  keptnlabel: string;
  bridgeversion: string;
  shipyardversion: string;
  /** Required: the CLI dereferences it before creating a project. Rebound provisions no repositories. */
  automaticprovisioning: boolean;
}

/** The last Keptn release (1.4.5); its CLI and integrations are the ones still in use. */
export const KEPTN_API_VERSION = '1.4.5';

export function keptnMetadata(namespace: string): KeptnMetadata {
  return {
    namespace,
    keptnversion: KEPTN_API_VERSION,
    keptnlabel: 'rebound',
    // Keptn answered "N/A" when it found no bridge; Rebound has none.
    bridgeversion: 'N/A',
    shipyardversion: '0.2.0',
    automaticprovisioning: false,
  };
}

/** Keptn's error body: go-utils reads `message` and the CLI prints it. */
export function keptnError(status: number, message: string): { code: number; message: string } {
  return { code: status, message };
}

export interface KeptnApiOptions {
  /** Handles one CloudEvent as /v1/events does (a problem, or an executor's report). */
  handleEvent(event: unknown): Promise<RouteResponse>;
  metadata: KeptnMetadata;
}

export function keptnApiRoutes(options: KeptnApiOptions): Route[] {
  const keptn = { auth: 'bearer', formatError: keptnError } as const;
  const authRoute = (method: 'GET' | 'POST'): Route => ({
    ...keptn,
    method,
    path: KEPTN_API_PATHS.auth,
    // The gate has checked the token by now; Keptn answered 200 with no body.
    handle: () => Promise.resolve({ status: 200, body: undefined }),
  });
  return [
    {
      ...keptn,
      method: 'POST',
      path: KEPTN_API_PATHS.event,
      contentTypes: ['application/json', 'application/cloudevents+json'],
      handle: async (request) => {
        const event = parseJsonBody(request.body);
        const answer = await options.handleEvent(event);
        if (answer.status < 200 || answer.status >= 300) return answer;
        return {
          status: 200,
          body: { keptnContext: keptnContextFor(isObject(event) ? event['shkeptncontext'] : undefined) },
        };
      },
    },
    {
      ...keptn,
      method: 'GET',
      path: KEPTN_API_PATHS.metadata,
      handle: () => Promise.resolve({ status: 200, body: options.metadata }),
    },
    authRoute('POST'),
    authRoute('GET'),
  ];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The keptn context Keptn's API answered with: the event's own when it is a UUID; derived from it
 * when it is another string (Keptn seeded a version 4 UUID with its first 16 bytes, padded with
 * spaces, so the same string always gives the same context: Dynatrace sends its PID); a new one
 * when there is none.
 */
export function keptnContextFor(given: unknown): string {
  if (typeof given !== 'string' || given === '') return randomUUID();
  if (UUID.test(given)) return given;
  const bytes = Buffer.alloc(16, 0x20);
  Buffer.from(given, 'utf8').copy(bytes, 0, 0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
