// Helpers for the runtime and kube integration tests: a KubeConfig for the shared cluster, fresh
// namespaces, a TCP proxy that can cut or refuse connections to the real API server, and polling.
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, KINDS, type ProblemEvent } from '../../src/api/index.ts';
import { loadKubeConfig } from '../../src/kube/index.ts';

export function adminKubeConfig(kubeconfigPath: string, server?: string): KubeConfig {
  const kc = loadKubeConfig({ kind: 'file', path: kubeconfigPath });
  if (server === undefined) return kc;
  const moved = new KubeConfig();
  moved.loadFromOptions({
    clusters: kc.clusters.map((c) => ({ ...c, server })),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return moved;
}

export async function freshNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

export function problemEvent(namespace: string, name: string, service = 'carts'): ProblemEvent {
  return {
    apiVersion: API_VERSION,
    kind: KINDS.ProblemEvent,
    metadata: { name, namespace },
    spec: {
      project: 'sockshop',
      stage: 'production',
      service,
      problemTitle: 'Response time degradation',
      state: 'OPEN',
    },
  };
}

export async function eventually<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
      );
    }
    await sleep(50);
  }
}

/**
 * A loopback TCP proxy in front of the API server (TLS passes through untouched). `cut()` drops
 * every open connection (a broken watch); `refuse()` stops listening (connection refused) until
 * `accept()` listens again on the same port.
 */
export class ChaosProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;
  connections = 0;

  constructor(targetUrl: string) {
    const url = new URL(targetUrl);
    this.#target = { host: url.hostname, port: Number(url.port) };
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async accept(): Promise<void> {
    const server = createServer((client) => {
      this.connections++;
      const upstream = connect(this.#target.port, this.#target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  cut(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  async refuse(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.cut();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async stop(): Promise<void> {
    await this.refuse();
  }
}
