// An HTTP server as a Runnable: listens on start, closes (letting open requests finish, then
// cutting idle keep-alive connections) when the signal aborts. Nothing listens at construction.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Runnable } from './manager.ts';

export interface HttpRunnableOptions {
  name: string;
  host: string;
  port: number;
  handler: RequestListener;
  log: Logger;
  /** Called with the bound address once listening (port 0 picks a free port). */
  onListening?(address: AddressInfo): void;
}

export function httpServerRunnable(options: HttpRunnableOptions): Runnable {
  return {
    name: options.name,
    needsLeaderElection: false,
    async start(signal) {
      const server: Server = createServer(options.handler);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address() as AddressInfo;
      options.log.info({ server: options.name, host: address.address, port: address.port }, 'listening');
      options.onListening?.(address);
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
