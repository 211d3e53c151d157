// For the forge tests: a loopback HTTP server that answers by route (`POST /api/v3/repos/o/r/pulls`)
// and records every request, so a test checks what a client sent field by field. Not a test itself,
// and never built into dist/ (tsconfig.build.json excludes *.test-helper.ts).
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The JSON body, parsed (undefined when there was none). */
  body: unknown;
}

export interface Answer {
  status: number;
  body?: unknown;
}

export interface FakeForge {
  url: string;
  host: string;
  seen: SeenRequest[];
}

const servers: Server[] = [];

/** Routes are `METHOD path?query` keys; an unknown route answers 404 with a JSON message. */
export async function fakeForge(routes: Record<string, Answer | ((req: SeenRequest) => Answer)>): Promise<FakeForge> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const entry: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: raw === '' ? undefined : (JSON.parse(raw) as unknown),
      };
      seen.push(entry);
      const route = routes[`${entry.method} ${entry.url}`];
      const answer =
        typeof route === 'function' ? route(entry) : (route ?? { status: 404, body: { message: 'not found' } });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  return { url: `http://${host}`, host, seen };
}

export async function closeFakeForges(): Promise<void> {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
