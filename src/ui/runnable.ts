// The web UI as a Runnable of the manager: binds when the manager starts it (every replica serves it,
// leader or not: the caches are warm everywhere), and ends its event streams when the signal aborts
// so the server can close.
import { httpServerRunnable } from '../runtime/http-server.ts';
import type { HttpServerRunnable } from '../runtime/http-server.ts';
import { uiHandler } from './server.ts';
import type { UiChanges, UiOptions } from './server.ts';

export function uiRunnable(
  options: UiOptions & { host: string; port: number },
  changes: UiChanges,
): HttpServerRunnable {
  const handler = uiHandler(options, changes);
  const server = httpServerRunnable({
    name: 'ui',
    host: options.host,
    port: options.port,
    log: options.log,
    handler: (req, res) => handler.handle(req, res),
    // Event streams are long; everything else is small and quick.
    serverOptions: { headersTimeout: 10_000, requestTimeout: 0, maxHeaderSize: 16 * 1024 },
  });
  return {
    ...server,
    start(signal) {
      signal.addEventListener('abort', () => handler.close(), { once: true });
      return server.start(signal);
    },
  };
}
