// The undici `request` transport under client-node calls, against a small HTTP server on loopback:
// what client-node sends reaches the server, its answers (gzip included) come back typed, and
// failures are classified as before.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedConnection } from './connection.ts';
import { KUBE_ERROR_CODES, classifyKubeError } from './errors.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(answer: (seen: Seen, res: ServerResponse) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(request);
      answer(request, res);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`, seen };
}

function leasesAt(url: string): { api: CoordinationV1Api; connection: SharedConnection } {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // Plain HTTP on loopback: client-node allows it only with skipTLSVerify.
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'test-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { api: kc.makeApiClient(CoordinationV1Api), connection: new SharedConnection(kc) };
}

const LEASE = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'turn', namespace: 'team' } };

describe('undiciRequestLibrary under client-node', () => {
  it('sends the method, path, credentials and body, and returns the typed answer', async () => {
    const { url, seen } = await serve((_req, res) => {
      res
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ...LEASE, spec: { holderIdentity: 'p1' } }));
    });
    const { api, connection } = leasesAt(url);
    const created = await api.createNamespacedLease(
      { namespace: 'team', body: { metadata: { name: 'turn' }, spec: { holderIdentity: 'p1' } } },
      await connection.options(),
    );
    expect(created.spec?.holderIdentity).toBe('p1');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/apis/coordination.k8s.io/v1/namespaces/team/leases' });
    expect(seen[0]?.headers.authorization).toBe('Bearer test-token');
    expect(seen[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ metadata: { name: 'turn' }, spec: { holderIdentity: 'p1' } });
  });

  it('asks for gzip and decodes a gzip answer', async () => {
    const { url, seen } = await serve((req, res) => {
      const json = JSON.stringify({ ...LEASE, spec: { holderIdentity: 'x'.repeat(4096) } });
      if (/\bgzip\b/.test(String(req.headers['accept-encoding'])))
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(json));
      else res.writeHead(200, { 'content-type': 'application/json' }).end(json);
    });
    const { api, connection } = leasesAt(url);
    const lease = await api.readNamespacedLease({ namespace: 'team', name: 'turn' }, await connection.options());
    expect(seen[0]?.headers['accept-encoding']).toBe('gzip');
    expect(lease.spec?.holderIdentity).toBe('x'.repeat(4096));
  });

  it('turns an error status into the same KubeError as before, with the Status message', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(409, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          kind: 'Status',
          reason: 'AlreadyExists',
          message: 'leases "turn" already exists',
          code: 409,
        }),
      );
    });
    const { api, connection } = leasesAt(url);
    const err = await api
      .createNamespacedLease({ namespace: 'team', body: { metadata: { name: 'turn' } } }, await connection.options())
      .catch((e: unknown) => classifyKubeError(e, 'create lease team/turn'));
    expect(err).toMatchObject({ code: KUBE_ERROR_CODES.AlreadyExists, status: 409, retryable: false });
    expect((err as Error).message).toContain('leases "turn" already exists');
  });

  it('reports a refused connection as an unreachable API server, retryable', async () => {
    const { url } = await serve(() => undefined);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    const { api, connection } = leasesAt(url);
    const err = await api
      .readNamespacedLease({ namespace: 'team', name: 'turn' }, await connection.options())
      .catch((e: unknown) => classifyKubeError(e, 'get lease team/turn'));
    expect(err).toMatchObject({ code: KUBE_ERROR_CODES.Unavailable, retryable: true });
    expect((err as Error).message).toContain('ECONNREFUSED');
  });
});
