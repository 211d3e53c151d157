// Health endpoints as plain request handlers (the composition root mounts them on its ops server):
//   /healthz  the process is alive (its event loop answers);
//   /readyz   every informer has synced and leadership is known (leading, or following a known
//             leader); lists each check so an operator sees which one holds readiness back;
//   /metrics  the Prometheus text format of the registry.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { ReadinessCheck } from '../runtime/manager.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function healthzHandler(): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok\n');
  };
}

export function readyzHandler(checks: () => readonly ReadinessCheck[]): Handler {
  return (_req, res) => {
    const lines: string[] = [];
    let ready = true;
    for (const c of checks()) {
      const result = c.check();
      if (result.ok) {
        lines.push(`[+] ${c.name} ok`);
      } else {
        ready = false;
        lines.push(`[-] ${c.name} not ready: ${result.reason}`);
      }
    }
    lines.push(ready ? 'ready' : 'not ready');
    res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' }).end(lines.join('\n') + '\n');
  };
}

export function metricsHandler(registry: Registry): Handler {
  return (_req, res) => {
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => {
        res
          .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          .end(`metrics collection failed: ${String(err)}\n`);
      },
    );
  };
}

export interface OpsRoutes {
  registry: Registry;
  readiness: () => readonly ReadinessCheck[];
}

/** Routes /healthz, /readyz and /metrics (GET/HEAD only); 404 for anything else. */
export function opsHandler(routes: OpsRoutes): Handler {
  const table: Record<string, Handler> = {
    '/healthz': healthzHandler(),
    '/livez': healthzHandler(),
    '/readyz': readyzHandler(routes.readiness),
    '/metrics': metricsHandler(routes.registry),
  };
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const handler = table[path];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (!handler) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    handler(req, res);
  };
}
