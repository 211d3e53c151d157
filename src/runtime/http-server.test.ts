import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { httpServerRunnable } from './http-server.ts';

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
    const abort = new AbortController();
    const running = runnable.start(abort.signal);
    await expect.poll(() => address).toBeDefined();
    const url = `http://127.0.0.1:${String(address?.port)}/`;
    expect(await (await fetch(url)).text()).toBe('hello');
    abort.abort();
    await running;
    await expect(fetch(url)).rejects.toThrow();
  });

  it('rejects when the port is taken', async () => {
    const log = createLogger({ level: 'silent' });
    let address: AddressInfo | undefined;
    const first = httpServerRunnable({ name: 'a', host: '127.0.0.1', port: 0, log, handler: (_q, r) => r.end(), onListening: (a) => (address = a) });
    const abort = new AbortController();
    const running = first.start(abort.signal);
    await expect.poll(() => address).toBeDefined();
    const second = httpServerRunnable({ name: 'b', host: '127.0.0.1', port: address?.port ?? 0, log, handler: (_q, r) => r.end() });
    await expect(second.start(new AbortController().signal)).rejects.toThrow(/EADDRINUSE/);
    abort.abort();
    await running;
  });
});
