import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePorts, isAddressInUse, retryOnAddressInUse } from './ports.ts';

describe('freePorts', () => {
  it('returns distinct ports that can be bound on 127.0.0.1', async () => {
    const ports = await freePorts(3);
    expect(new Set(ports).size).toBe(3);
    for (const port of ports) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
      });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('retryOnAddressInUse', () => {
  it('retries a lost port race and gives up after the third try', async () => {
    let calls = 0;
    const lost = (): Promise<never> => {
      calls += 1;
      return Promise.reject(new Error('etcd exited: listen tcp 127.0.0.1:4001: bind: address already in use'));
    };
    await expect(retryOnAddressInUse(lost)).rejects.toThrow(/address already in use/);
    expect(calls).toBe(3);

    calls = 0;
    const winsSecond = (): Promise<string> => (++calls === 1 ? lost() : Promise.resolve('up'));
    await expect(retryOnAddressInUse(winsSecond)).resolves.toBe('up');
  });

  it('does not retry other failures', async () => {
    let calls = 0;
    const broken = (): Promise<never> => {
      calls += 1;
      return Promise.reject(new Error('invalid flag'));
    };
    await expect(retryOnAddressInUse(broken)).rejects.toThrow('invalid flag');
    expect(calls).toBe(1);
    expect(isAddressInUse('Address already in use')).toBe(true);
  });
});
