// docs/grafana-dashboard.json against a real Prometheus scraping Rebound's real metrics registry: every
// panel query is valid PromQL and returns series (so metric and label names are right), and every
// rebound_ metric the controller defines is on some panel.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.ts';
import { waitUntil } from '../harness/process.ts';
import { startPrometheus } from '../harness/prometheus.ts';
import type { LocalPrometheus } from '../harness/prometheus.ts';
import { REPO_ROOT } from '../harness/world.ts';

interface Panel {
  type: string;
  title: string;
  panels?: Panel[];
  targets?: { expr: string }[];
}

interface Dashboard {
  uid: string;
  templating: { list: { name: string }[] };
  panels: Panel[];
}

const metrics = createMetrics();
let prometheus: LocalPrometheus;
let closeServer: () => Promise<void>;

/** A small remediation's worth of observations, so every family has series. */
function recordSomeActivity(): void {
  metrics.observeProblems(() => [{ status: { phase: 'Resolved' } }, { status: { phase: 'Exhausted' } }, {}]);
  metrics.setLeader(true);
  metrics.attempt('scale', 'fail');
  metrics.attempt('featuretoggle', 'pass');
  metrics.evaluation('fail', 0.4);
  metrics.evaluation('pass', 0.3);
  metrics.gitOperation('push', 'success', 0.05);
  metrics.gitPushRetry();
  metrics.approval('approved');
  metrics.held('DenyWindow');
  metrics.revert('Reverted');
  metrics.holdBroken('HoldWarned');
  metrics.forgeStatus('delivered');
  metrics.kubeEvent('recorded');
  metrics.rollout('complete', 4.2);
  metrics.notification('slack', 'success');
  metrics.notificationDropped('slack');
  metrics.observeNotifications(() => [{ type: 'slack', pending: 2, failing: true }]);
  metrics.helmOperation('upgrade', 'success', 1.2);
  metrics.informerSynced('problemevents', true);
  metrics.informerRestarted('problemevents');
  const queue = metrics.queue('problemevent');
  queue.added();
  queue.depth(1);
  queue.queued(0.01);
  queue.worked(0.2);
  queue.retried();
  metrics.controller.reconciled('problemevent', 'success', 0.2);
  metrics.controller.reconcileError('problemevent', 'GitUnreachable');
  metrics.controller.activeWorkers('problemevent', 1);
}

async function dashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile(join(REPO_ROOT, 'docs', 'grafana-dashboard.json'), 'utf8')) as Dashboard;
}

function queries(d: Dashboard): { panel: string; expr: string }[] {
  const all = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...all(p.panels ?? [])]);
  return all(d.panels).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}

/** Grafana's variables as Grafana would fill them for "All" and a 1-minute rate window. */
function resolveVariables(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', '.*');
}

async function query(expr: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> {
  const res = await fetch(`${prometheus.url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }),
    signal: AbortSignal.timeout(10_000),
  });
  return (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
}

beforeAll(async () => {
  recordSomeActivity();
  const server = createServer((_req, res) => {
    void metrics.registry
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closeServer = () => new Promise((resolve) => server.close(() => resolve()));
  prometheus = await startPrometheus({
    scrapeTargets: [`127.0.0.1:${String((server.address() as AddressInfo).port)}`],
    scrapeInterval: '1s',
  });
  // rate() and increase() need two samples in their window: wait for a few scrapes.
  await waitUntil(
    'three scrapes of the metrics',
    async () => {
      const sample = (await query('count_over_time(rebound_leader[1m])')).data?.result[0] as
        { value?: [number, string] } | undefined;
      return Number(sample?.value?.[1] ?? 0) >= 3;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await closeServer?.();
});

describe('docs/grafana-dashboard.json', () => {
  it('has a Prometheus data source variable and a job filter', async () => {
    const d = await dashboard();
    expect(d.uid).toBe('rebound-controller');
    expect(d.templating.list.map((v) => v.name)).toEqual(['datasource', 'job']);
  });

  it('runs every panel query on a real Prometheus, each returning series', async () => {
    const failures: string[] = [];
    for (const { panel, expr } of queries(await dashboard())) {
      const answer = await query(resolveVariables(expr));
      if (answer.status !== 'success') failures.push(`${panel}: ${expr}: ${answer.error ?? answer.status}`);
      else if ((answer.data?.result.length ?? 0) === 0) failures.push(`${panel}: ${expr}: no series`);
    }
    expect(failures).toEqual([]);
  });

  it('shows every rebound_ metric the controller defines', async () => {
    const text = queries(await dashboard())
      .map((q) => q.expr)
      .join('\n');
    const defined = (await metrics.registry.getMetricsAsJSON())
      .map((m) => m.name)
      .filter((n) => !/^rebound_(process|nodejs)_/.test(n));
    expect(defined.length).toBeGreaterThan(15);
    expect(defined.filter((name) => !new RegExp(`\\b${name}(_bucket|_count|_sum)?\\b`).test(text))).toEqual([]);
  });
});
