import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReadinessCheck } from '../runtime/manager.ts';
import { opsHandler } from './health.ts';
import { createMetrics } from './metrics.ts';

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(readiness: () => readonly ReadinessCheck[]): Promise<string> {
  const metrics = createMetrics({ processMetrics: false });
  server = createServer(opsHandler({ registry: metrics.registry, readiness }));
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('ops endpoints', () => {
  it('answers /healthz, /metrics and 404 on a real loopback server', async () => {
    const base = await serve(() => []);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('rebound_reconcile_total');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('is ready only when every check passes, and names the failing one', async () => {
    let synced = false;
    const base = await serve(() => [
      { name: 'informer:problemevents', check: () => (synced ? { ok: true } : { ok: false, reason: 'not synced' }) },
      { name: 'leader-election', check: () => ({ ok: true }) },
    ]);
    const before = await fetch(`${base}/readyz`);
    expect(before.status).toBe(503);
    expect(await before.text()).toContain('[-] informer:problemevents not ready: not synced');
    synced = true;
    const after = await fetch(`${base}/readyz`);
    expect(after.status).toBe(200);
    expect(await after.text()).toContain('[+] leader-election ok');
  });
});
