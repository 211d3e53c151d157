// Free TCP ports on the loopback interface for the local servers (etcd, kube-apiserver, Prometheus,
// Alertmanager). The kernel picks them (port 0); all ports of one request are held open together so
// they are distinct. A port can still be taken by someone else between our close and the child's
// bind: starters retry on "address already in use" (see isAddressInUse).
import { createServer, type Server } from 'node:net';
import { errorMessage } from '../../src/errors.ts';

export const LOOPBACK = '127.0.0.1';

function listenOnAnyPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: 0, exclusive: true }, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Returns `count` distinct ports that were free on 127.0.0.1 a moment ago. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOnAnyPort());
    return servers.map((s) => {
      const address = s.address();
      if (address === null || typeof address === 'string') throw new Error('loopback listener has no port');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map(close));
  }
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port found');
  return port;
}

/** True when a child's output says it lost the race for its port. */
export function isAddressInUse(output: string): boolean {
  return /address already in use/i.test(output);
}

/** Runs `start` again (with new ports, as `start` picks them) when it lost a port race; 3 tries at most. */
export async function retryOnAddressInUse<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts || !isAddressInUse(errorMessage(err))) throw err;
    }
  }
}
