// A stand-in for a service's pods: the bare API server runs no containers, so this process serves the
// metrics the service would, computed from what is live in the cluster: the Deployment's replica count
// and the feature-flag ConfigMap. Scaling up or turning a flag off therefore really changes what
// Prometheus scrapes, and the SLO evaluation sees the effect of each remediation action.
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { classifyKubeError, isNotFound } from '../../src/kube/errors.ts';

export interface WorkloadTarget {
  project: string;
  stage: string;
  service: string;
  namespace: string;
}

export interface LiveState {
  replicas: number;
  flags: Record<string, boolean>;
}

export interface SampleWorkloadOptions {
  kubeconfigPath: string;
  targets?: readonly WorkloadTarget[];
  /** Response time for a live state; by default a slow promotion that more replicas only soften. */
  responseTimeMs?: (state: LiveState) => number;
  /** How often the live state is read from the API server (default 250 ms). */
  refreshMs?: number;
}

export interface SampleWorkload {
  /** host:port for Prometheus to scrape. */
  address: string;
  /** Serve metrics for one more deployed service. */
  addTarget(target: WorkloadTarget): void;
  stop(): Promise<void>;
}

/** sli.yaml for the sample workload's one gauge; Keptn's placeholders select the service. */
export const SAMPLE_SLI = `# The sample workload's response time; Keptn's placeholders select the service.
spec_version: "1.0"
indicators:
  response_time_p95: max(rebound_sample_response_time_p95_ms{project="$PROJECT",stage="$STAGE",service="$SERVICE"})
`;

/** slo.yaml with one objective: p95 below `objectiveMs` (600 makes scale +1 fail and the flag pass). */
export function sampleSlo(objectiveMs: number): string {
  return `# The service must answer within ${String(objectiveMs)} ms at the 95th percentile.
spec_version: "1.0"
comparison:
  compare_with: "single_result"
  include_result_with_score: "pass"
  number_of_comparison_results: 1
  aggregate_function: "avg"
objectives:
  - sli: "response_time_p95"
    displayName: "Response time P95 (ms)"
    pass:
      - criteria:
          - "<${String(objectiveMs)}"
total_score:
  pass: "90%"
  warning: "75%"
`;
}

/** 900 ms with the promotion on at one replica, divided by the square root of the replicas; 300 ms without it. */
export function defaultResponseTime(state: LiveState): number {
  const base = state.flags.EnablePromotion === false ? 300 : 900;
  return Math.round(base / Math.sqrt(Math.max(1, state.replicas)));
}

/** How long a scrape waits for a fresh read of the live state before the last one is served. */
const SCRAPE_WAIT_MS = 700;

export async function startSampleWorkload(options: SampleWorkloadOptions): Promise<SampleWorkload> {
  const kc = new KubeConfig();
  kc.loadFromFile(options.kubeconfigPath);
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const respond = options.responseTimeMs ?? defaultResponseTime;
  const targets = [...(options.targets ?? [])];

  // undefined: not deployed (yet), no series, as a service with no pods. Any other failure (a busy
  // API server's timeout or 5xx) throws: the last state read stays served, as the pods still run.
  const live = async (t: WorkloadTarget): Promise<LiveState | undefined> => {
    try {
      const deployment = await apps.readNamespacedDeployment({ name: t.service, namespace: t.namespace });
      const flags: Record<string, boolean> = {};
      try {
        const cm = await core.readNamespacedConfigMap({ name: `${t.service}-feature-flags`, namespace: t.namespace });
        for (const [k, v] of Object.entries(cm.data ?? {})) flags[k] = v === 'true';
      } catch (err) {
        // No flags ConfigMap: every flag at its default.
        if (!isNotFound(classifyKubeError(err, `read configmap ${t.namespace}/${t.service}-feature-flags`))) throw err;
      }
      // The Ready pods serve, not the spec: on a cluster whose workloads roll out (a controller has
      // observed the Deployment) the replicas that count are the ready ones; on a bare API server, the spec.
      const observed = deployment.status?.observedGeneration !== undefined;
      const replicas = observed ? (deployment.status?.readyReplicas ?? 0) : (deployment.spec?.replicas ?? 1);
      return { replicas, flags };
    } catch (err) {
      if (isNotFound(classifyKubeError(err, `read deployment ${t.namespace}/${t.service}`))) return undefined;
      throw err;
    }
  };

  // A scrape waits for a fresh read of the live state, so a scrape after an action took effect shows
  // it (the evaluation only reads scrapes from after the action). The wait is bounded below the
  // 1 s scrape timeout: on a machine too busy to answer in time, the last state read is served
  // rather than a failed scrape, whose stale series would fail the SLI.
  const latest = new Map<WorkloadTarget, LiveState>();
  let refreshing: Promise<void> | undefined;
  const refresh = (): Promise<void> =>
    (refreshing ??= Promise.all(
      targets.map(async (t) => {
        const state = await live(t).catch(() => latest.get(t));
        if (state) latest.set(t, state);
        else latest.delete(t);
      }),
    )
      .then(() => undefined)
      .finally(() => (refreshing = undefined)));
  const timer = setInterval(() => void refresh(), options.refreshMs ?? 250);

  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void freshOrLast().then(() => serveMetrics(res));
  });
  // A refresh that started before this scrape may have read the state before the action: chain one more.
  const freshOrLast = (): Promise<void> => {
    const fresh = (refreshing ?? Promise.resolve()).then(refresh);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, SCRAPE_WAIT_MS)));
    return Promise.race([fresh, late]).finally(() => clearTimeout(timer));
  };
  const serveMetrics = (res: ServerResponse): void => {
    const lines = [
      '# HELP rebound_sample_response_time_p95_ms 95th percentile response time of the sample service.',
      '# TYPE rebound_sample_response_time_p95_ms gauge',
      '# HELP rebound_sample_replicas Replicas of the sample service as deployed.',
      '# TYPE rebound_sample_replicas gauge',
    ];
    for (const t of targets) {
      const state = latest.get(t);
      if (!state) continue;
      const labels = `project="${t.project}",stage="${t.stage}",service="${t.service}"`;
      lines.push(`rebound_sample_response_time_p95_ms{${labels}} ${respond(state)}`);
      lines.push(`rebound_sample_replicas{${labels}} ${state.replicas}`);
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(lines.join('\n') + '\n');
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    addTarget: (target) => {
      targets.push(target);
      void refresh();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
