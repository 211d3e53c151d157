// The API calls of one kubeconfig share one connection pool: the options are built once and route
// every request through the same dispatcher.
import { KubeConfig, RequestContext, HttpMethod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { SharedConnection } from './connection.ts';
import { undiciRequestLibrary } from './http.ts';

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: true }],
    users: [{ name: 'u', token: 'not-a-real-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function requestAfter(options: Awaited<ReturnType<SharedConnection['options']>>): Promise<RequestContext> {
  const context = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
  for (const middleware of options.middleware ?? []) await middleware.pre(context).toPromise();
  return context;
}

async function dispatcherAfter(options: Awaited<ReturnType<SharedConnection['options']>>): Promise<unknown> {
  return (await requestAfter(options)).getDispatcher();
}

describe('SharedConnection', () => {
  it('builds its options once and sends every request through one dispatcher', async () => {
    const connection = new SharedConnection(kubeConfig());
    const first = connection.options();
    expect(connection.options()).toBe(first);
    const a = await dispatcherAfter(await first);
    const b = await dispatcherAfter(await connection.mergePatch());
    expect(a).toBeDefined();
    expect(b).toBe(a);
    // Sent with undici's request, not client-node's fetch (http.ts).
    expect((await first).httpApi).toBe(undiciRequestLibrary);
    expect((await requestAfter(await connection.mergePatch())).getHeaders()['Content-Type']).toBe(
      'application/merge-patch+json',
    );
  });

  it('keeps separate pools for separate kubeconfigs', async () => {
    const a = await dispatcherAfter(await new SharedConnection(kubeConfig()).options());
    const b = await dispatcherAfter(await new SharedConnection(kubeConfig()).options());
    expect(a).not.toBe(b);
  });
});
