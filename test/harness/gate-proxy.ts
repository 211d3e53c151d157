// A loopback HTTP proxy in front of a real server (Prometheus) that a test can hold and take down,
// so a fault lands at a known moment instead of after a guessed sleep:
//  - hold(): requests wait in the proxy until release(); `held()` resolves when one is waiting (a
//    query is in flight, its answer not yet seen by the caller);
//  - down()/up(): the port refuses connections, as a stopped server's does, then listens again on
//    the same port, forwarding to whatever `upstream` now is (a fresh server after a restart).
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOOPBACK } from './ports.ts';

export interface GateProxy {
  /** http://127.0.0.1:PORT, stable across down()/up(). */
  url: string;
  /** Where requests go; change it while down to put a restarted server behind the same address. */
  upstream: string;
  hold(): void;
  /** Resolves once a request waits in a hold. */
  held(): Promise<void>;
  /** Stops holding; held requests go on (their callers may be gone: then they are dropped). */
  release(): void;
  /** Cuts the connections of the requests held now (their caller was killed); keeps holding. */
  drop(): void;
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

export async function startGateProxy(upstream: string): Promise<GateProxy> {
  let holding = false;
  let waiting: { go: () => void; cut: () => void }[] = [];
  let onHeld: (() => void)[] = [];
  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const target = new URL(req.url ?? '/', proxy.upstream);
    const out = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    // The upstream went away mid-request: the caller sees its connection cut, as it would without us.
    out.on('error', () => res.destroy());
    req.pipe(out);
  };
  const server: Server = createServer((req, res) => {
    if (!holding) return forward(req, res);
    waiting.push({ go: () => (res.destroyed ? undefined : forward(req, res)), cut: () => res.destroy() });
    for (const notify of onHeld) notify();
    onHeld = [];
  });
  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, LOOPBACK, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const proxy: GateProxy = {
    url: `http://${LOOPBACK}:${String(port)}`,
    upstream,
    hold: () => void (holding = true),
    held: () => (waiting.length > 0 ? Promise.resolve() : new Promise((resolve) => onHeld.push(resolve))),
    release: () => {
      holding = false;
      const go = waiting;
      waiting = [];
      for (const next of go) next.go();
    },
    drop: () => {
      const cut = waiting;
      waiting = [];
      for (const next of cut) next.cut();
    },
    down: close,
    up: () => listen(port),
    stop: close,
  };
  return proxy;
}
