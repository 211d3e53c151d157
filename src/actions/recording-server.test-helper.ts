// For the action tests: an HTTP server on loopback that records every request and answers each with a
// handler the test chose. Not a test itself (vitest collects *.test.ts), and never built into dist/
// (tsconfig.build.json excludes *.test-helper.ts).
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server received it. */
export interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Answers one request; `seen` is that request, already recorded. */
export type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

export interface RecordingServer {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT, as an allow-list names it. */
  host: string;
  /** Every request so far, in order. */
  seen: Seen[];
  /** Stops the server now, so its port refuses connections (closeServers skips it afterwards). */
  close(): Promise<void>;
}

const servers: Server[] = [];

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A loopback server answering the n-th request with handlers[n] (the last one repeats). */
export async function serve(...handlers: Handler[]): Promise<RecordingServer> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const entry = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      seen.push(entry);
      const handler = handlers[Math.min(seen.length, handlers.length) - 1];
      handler?.(req, res, entry);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  const close = async (): Promise<void> => {
    const index = servers.indexOf(server);
    if (index === -1) return;
    servers.splice(index, 1);
    await stop(server);
  };
  return { url: `http://${host}`, host, seen, close };
}

/** Stops every server `serve` started and has not closed yet: a test file's `afterEach`. */
export async function closeServers(): Promise<void> {
  for (const server of servers.splice(0)) await stop(server);
}

/** Answers with this status code, body and headers. */
export const status =
  (code: number, body = '', headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(code, headers);
    res.end(body);
  };
