// Shared by the ingest integration tests and the ingest benchmark: a fresh namespace in the real API
// server, listing the ProblemEvents in it, and a plain JSON POST.
import { randomBytes } from 'node:crypto';
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURALS, VERSION } from '../../src/api/constants.ts';
import type { ProblemSpec } from '../../src/ingest/types.ts';

export interface StoredProblemEvent {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: ProblemSpec;
}

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** A fresh namespace (namespaces never finish deleting without a controller-manager). */
export async function createNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  // Also waits out the API server's 429s while the ProblemEvent storage initialises after start-up,
  // so a test's first write does not meet them (the webhook would rightly answer 503).
  await listProblemEvents(kc, name);
  return name;
}

/**
 * Right after start-up the API server answers 429 "storage is (re)initializing" for a CRD's resource
 * until its watch cache is ready: wait that out (bounded), as any client would.
 */
export async function listProblemEvents(kc: KubeConfig, namespace: string): Promise<StoredProblemEvent[]> {
  const api = kc.makeApiClient(CustomObjectsApi);
  for (let attempt = 1; ; attempt++) {
    try {
      const list = (await api.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURALS.ProblemEvent,
      })) as { items: StoredProblemEvent[] };
      return list.items;
    } catch (err) {
      if (!(err instanceof ApiException) || err.code !== 429 || attempt >= 30) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}
