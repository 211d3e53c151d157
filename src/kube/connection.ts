// One connection pool per kubeconfig for the API calls Rebound makes. client-node builds a new
// connection pool (an undici Agent) for every request, so each call would pay a TCP and TLS handshake
// and no connection would be reused: under a burst of alerts, and on every step of the loop (status
// writes, patches), that dominates the cost. The middleware runs after authentication has been
// applied, so tokens still refresh per request; it only swaps in one pool built from the same TLS
// settings. The requests themselves go out with undici's `request` instead of client-node's fetch
// (http.ts): the same pool, about half the CPU per call.
import { HttpMethod, Observable, PatchStrategy, RequestContext, setHeaderOptions } from '@kubernetes/client-node';
import type { ConfigurationOptions, KubeConfig, ObservableMiddleware } from '@kubernetes/client-node';
import { classifyKubeError } from './errors.ts';
import { undiciRequestLibrary } from './http.ts';

export type RequestOptions = ConfigurationOptions<ObservableMiddleware>;

export class SharedConnection {
  readonly #kc: KubeConfig;
  #options: Promise<RequestOptions> | undefined;

  constructor(kc: KubeConfig) {
    this.#kc = kc;
  }

  /** Options for a client-node call that route it through the shared pool. */
  options(): Promise<RequestOptions> {
    this.#options ??= sharedConnectionOptions(this.#kc).catch((err: unknown) => {
      // Not cached: the next call tries again (a kubeconfig whose credentials were not yet readable).
      this.#options = undefined;
      throw classifyKubeError(err, 'prepare the Kubernetes client');
    });
    return this.#options;
  }

  /** The same, for a JSON merge patch. */
  async mergePatch(): Promise<RequestOptions> {
    return setHeaderOptions('Content-Type', PatchStrategy.MergePatch, await this.options());
  }
}

async function sharedConnectionOptions(kubeConfig: KubeConfig): Promise<RequestOptions> {
  const probe = new RequestContext(kubeConfig.getCurrentCluster()?.server ?? 'https://127.0.0.1', HttpMethod.GET);
  await kubeConfig.applySecurityAuthentication(probe);
  const dispatcher = probe.getDispatcher();
  if (dispatcher === undefined) return { httpApi: undiciRequestLibrary };
  const shared: ObservableMiddleware = {
    pre: (context) => {
      context.setDispatcher(dispatcher);
      return new Observable(Promise.resolve(context));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { httpApi: undiciRequestLibrary, middleware: [shared], middlewareMergeStrategy: 'append' };
}
