import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { httpServerRunnable, httpUrl } from './http-server.ts';

describe('httpServerRunnable', () => {
  it('listens only once started, serves, and closes on abort', async () => {
    let address: AddressInfo | undefined;
    const runnable = httpServerRunnable({
      name: 'ops',
      host: '127.0.0.1',
      port: 0,
      log: createLogger({ level: 'silent' }),
      handler: (_req, res) => res.end('hello'),
      onListening: (a) => (address = a),
    });
    expect(address).toBeUndefined(); // constructing does not listen
    expect(runnable.url()).toBeUndefined();
    const abort = new AbortController();
    const running = runnable.start(abort.signal);
    expect(await runnable.waitForSync(abort.signal)).toBe(true);
    expect(runnable.url()).toBe(`http://127.0.0.1:${String(address?.port)}`);
    const url = `http://127.0.0.1:${String(address?.port)}/`;
    expect(await (await fetch(url)).text()).toBe('hello');
    abort.abort();
    await running;
    await expect(fetch(url)).rejects.toThrow();
  });

  it('stops waiting for the server when the signal aborts first', async () => {
    const runnable = httpServerRunnable({
      name: 'never',
      host: '127.0.0.1',
      port: 0,
      log: createLogger({ level: 'silent' }),
      handler: (_q, r) => r.end(),
    });
    const abort = new AbortController();
    const waiting = runnable.waitForSync(abort.signal);
    abort.abort();
    expect(await waiting).toBe(false);
  });

  it('writes an IPv6 address in brackets', () => {
    expect(httpUrl({ family: 'IPv6', address: '::1', port: 8080 })).toBe('http://[::1]:8080');
    expect(httpUrl({ family: 'IPv4', address: '0.0.0.0', port: 9 })).toBe('http://0.0.0.0:9');
  });

  it('rejects when the port is taken', async () => {
    const log = createLogger({ level: 'silent' });
    let address: AddressInfo | undefined;
    const first = httpServerRunnable({
      name: 'a',
      host: '127.0.0.1',
      port: 0,
      log,
      handler: (_q, r) => r.end(),
      onListening: (a) => (address = a),
    });
    const abort = new AbortController();
    const running = first.start(abort.signal);
    await expect.poll(() => address).toBeDefined();
    const second = httpServerRunnable({
      name: 'b',
      host: '127.0.0.1',
      port: address?.port ?? 0,
      log,
      handler: (_q, r) => r.end(),
    });
    await expect(second.start(new AbortController().signal)).rejects.toThrow(/EADDRINUSE/);
    abort.abort();
    await running;
  });
});
