// An HTTP server as a Runnable: listens on start, closes (letting open requests finish, then
// cutting idle keep-alive connections) when the signal aborts. Nothing listens at construction:
// the manager decides when a server binds, and a taken port fails the manager's start, not the
// composition.
import { createServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Runnable } from './manager.ts';

export interface HttpRunnableOptions {
  name: string;
  host: string;
  port: number;
  handler: RequestListener;
  log: Logger;
  /** Timeouts and limits of node:http's server. */
  serverOptions?: ServerOptions;
  /** Called with the bound address once listening (port 0 picks a free port). */
  onListening?(address: AddressInfo): void;
}

export interface HttpServerRunnable extends Runnable {
  /** `http://host:port` once listening, undefined before. */
  url(): string | undefined;
  /**
   * Resolves true once listening, false if `signal` aborts first. The shape of a controller's
   * `waitFor` entry, so a controller whose work needs the server up can wait for it.
   */
  waitForSync(signal: AbortSignal): Promise<boolean>;
}

export function httpServerRunnable(options: HttpRunnableOptions): HttpServerRunnable {
  let url: string | undefined;
  let markListening = (): void => {};
  const listening = new Promise<void>((resolve) => (markListening = resolve));
  return {
    name: options.name,
    needsLeaderElection: false,
    url: () => url,
    waitForSync: (signal) => Promise.race([listening.then(() => true), aborted(signal)]),
    async start(signal) {
      const server: Server = createServer(options.serverOptions ?? {}, options.handler);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address() as AddressInfo;
      url = httpUrl(address);
      options.log.info({ server: options.name, url }, 'listening');
      options.onListening?.(address);
      markListening();
      await new Promise<void>((resolve) => {
        const close = (): void => {
          server.close(() => resolve());
          server.closeIdleConnections();
        };
        if (signal.aborted) close();
        else signal.addEventListener('abort', close, { once: true });
      });
    },
  };
}

/** `http://127.0.0.1:8080`, `http://[::1]:8080`. */
export function httpUrl(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

function aborted(signal: AbortSignal): Promise<false> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(false), { once: true }));
}
