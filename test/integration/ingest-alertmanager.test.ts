// The real Alertmanager (Debian's package) notifying the real webhook, which writes ProblemEvents to
// the real kube-apiserver: alerts become problems, re-notifications de-duplicate, resolution resolves.
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAlertmanager } from '../harness/alertmanager.ts';
import type { LocalAlertmanager } from '../harness/alertmanager.ts';
import { startIngestServer } from '../../src/ingest/server.ts';
import type { RunningIngestServer } from '../../src/ingest/server.ts';
import { KubeProblemStore } from '../../src/ingest/store.ts';
import type { ProblemSink } from '../../src/ingest/store.ts';
import type { StoredProblemEvent } from './ingest-helpers.ts';
import { createNamespace, listProblemEvents, loadKubeConfig } from './ingest-helpers.ts';

const TOKEN = 'alertmanager-webhook-token-7a1e';
const STARTS_AT = new Date(Date.now() - 60_000).toISOString();

const alerts = [
  {
    labels: {
      alertname: 'response_time_p90',
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      pod_name: 'carts-primary',
    },
    annotations: { summary: 'p90 above 600 ms' },
  },
  {
    labels: { alertname: 'error_rate', project: 'sockshop', stage: 'production', service: 'carts' },
    annotations: { problemTitle: 'Failure rate increase', rootCause: 'NotImplementedFunction' },
  },
  {
    labels: {
      alertname: 'response_time_p90',
      keptn_project: 'sockshop',
      keptn_stage: 'production',
      keptn_service: 'orders',
    },
    annotations: {},
  },
];

async function postAlerts(alertmanager: LocalAlertmanager, endsAt?: string): Promise<void> {
  const body = alerts.map((a) => ({
    ...a,
    startsAt: STARTS_AT,
    ...(endsAt ? { endsAt } : {}),
    generatorURL: 'http://127.0.0.1:9090/graph',
  }));
  const response = await fetch(`${alertmanager.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Alertmanager → webhook → ProblemEvents', () => {
  let kc: KubeConfig;
  let namespace: string;
  let server: RunningIngestServer;
  let alertmanager: LocalAlertmanager;
  /** Every notification that reached the webhook with a valid token: problem names per delivery. */
  const deliveries: string[][] = [];

  beforeAll(async () => {
    kc = loadKubeConfig(inject('cluster').kubeconfigPath);
    namespace = await createNamespace(kc, 'ingest-am');
    const store = new KubeProblemStore({ kubeConfig: kc, namespace });
    // Records what arrived, then stores it for real.
    const recording: ProblemSink = {
      store: async (problems) => {
        deliveries.push(problems.map((p) => p.name));
        return store.store(problems);
      },
    };
    server = await startIngestServer({ address: '127.0.0.1:0', tokens: () => [TOKEN], sink: recording });
    // repeat_interval 2s: Alertmanager re-notifies still-firing alerts quickly, as it would hourly.
    alertmanager = await startAlertmanager({
      webhookUrl: `${server.url}/v1/alertmanager`,
      bearerToken: TOKEN,
      groupInterval: '1s',
      repeatInterval: '2s',
    });
  });
  afterAll(async () => {
    await alertmanager.stop();
    await server.close();
  });

  let opened: StoredProblemEvent[] = [];

  it('turns each firing alert into one OPEN ProblemEvent', async () => {
    await postAlerts(alertmanager);
    opened = await eventually('three ProblemEvents', async () => {
      const items = await listProblemEvents(kc, namespace);
      return items.length >= 3 ? items : undefined;
    });
    expect(opened).toHaveLength(3);
    const byTitle = new Map(opened.map((p) => [p.spec.problemTitle, p]));
    expect(byTitle.get('p90 above 600 ms')).toBeUndefined();
    expect(opened.map((p) => [p.spec.service, p.spec.problemTitle, p.spec.state]).sort()).toEqual([
      ['carts', 'Failure rate increase', 'OPEN'],
      ['carts', 'response_time_p90', 'OPEN'],
      ['orders', 'response_time_p90', 'OPEN'],
    ]);
    const failure = byTitle.get('Failure rate increase');
    expect(failure?.spec).toMatchObject({
      project: 'sockshop',
      stage: 'production',
      rootCause: 'NotImplementedFunction',
      source: 'alertmanager',
    });
    expect(failure?.metadata.annotations?.['rebound.dev/fingerprint']).toMatch(/^[0-9a-f]{16}$/);
    // The same instant: Alertmanager (Go's RFC 3339) drops trailing zeros of the fraction (.560Z → .56Z).
    for (const p of opened) expect(Date.parse(String(p.spec.details?.['startsAt']))).toBe(Date.parse(STARTS_AT));
  });

  it('de-duplicates re-notifications of the same alerts: same names, no new objects', async () => {
    const names = new Set(opened.map((p) => p.metadata.name));
    // Wait until every alert was delivered at least twice (the repeat interval is 2 s).
    await eventually('repeated notifications', () => {
      const counts = new Map<string, number>();
      for (const d of deliveries) for (const n of d) counts.set(n, (counts.get(n) ?? 0) + 1);
      return Promise.resolve([...names].every((n) => (counts.get(n) ?? 0) >= 2) ? true : undefined);
    });
    // Re-posting the same alerts to Alertmanager changes nothing either.
    await postAlerts(alertmanager);
    const delivered = new Set(deliveries.flat());
    expect(delivered).toEqual(names);
    const items = await listProblemEvents(kc, namespace);
    expect(items.map((p) => p.metadata.name).sort()).toEqual([...names].sort());
  });

  it('resolves every ProblemEvent when the alerts resolve', async () => {
    await postAlerts(alertmanager, new Date(Date.now() - 1_000).toISOString());
    const resolved = await eventually('all ProblemEvents RESOLVED', async () => {
      const items = await listProblemEvents(kc, namespace);
      return items.length === 3 && items.every((p) => p.spec.state === 'RESOLVED') ? items : undefined;
    });
    expect(resolved.map((p) => p.metadata.name).sort()).toEqual(opened.map((p) => p.metadata.name).sort());
  });
});
