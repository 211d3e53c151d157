// A real Prometheus (Debian's package) on loopback, with data a test can rely on:
//  - history: OpenMetrics text is turned into TSDB blocks with `promtool tsdb create-blocks-from
//    openmetrics` before the server starts, so a PromQL query at a known time returns a known value;
//  - live data: targets the caller runs (host:port serving /metrics) are scraped every second.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LOOPBACK } from './ports.ts';
import { runCommand, startLoopbackServer } from './process.ts';
import { toolPath } from './tools.ts';

export interface StartPrometheusOptions {
  /** OpenMetrics text (ending with `# EOF`) backfilled before start; see formatOpenMetrics. */
  openMetrics?: string;
  /** `host:port` targets serving /metrics, scraped by job `rebound-test`. */
  scrapeTargets?: string[];
  /** Scrape and rule evaluation interval (default `1s`). */
  scrapeInterval?: string;
  startTimeoutMs?: number;
  /** Keep the TSDB here instead of in the server's own directory: a later start on it is a restart with the history kept. */
  dataDir?: string;
}

export interface LocalPrometheus {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Stops the server and removes its data. Idempotent. */
  stop(): Promise<void>;
}

export interface MetricSample {
  /** Unix time in seconds (fractions allowed). */
  timestamp: number;
  value: number;
}

export interface MetricSeries {
  labels?: Record<string, string>;
  samples: MetricSample[];
}

export interface MetricFamily {
  name: string;
  type?: 'gauge' | 'counter' | 'unknown';
  help?: string;
  series: MetricSeries[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`: one block per family, samples
 * of each series in time order, terminated by `# EOF`. Counters get the `_total` suffix the format
 * requires on their samples.
 */
export function formatOpenMetrics(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (!METRIC_NAME.test(family.name)) throw new Error(`invalid metric name "${family.name}"`);
    const type = family.type ?? 'gauge';
    const base = type === 'counter' ? family.name.replace(/_total$/, '') : family.name;
    const sampleName = type === 'counter' ? `${base}_total` : base;
    lines.push(`# TYPE ${base} ${type}`);
    if (family.help !== undefined)
      lines.push(`# HELP ${base} ${family.help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')}`);
    for (const series of family.series) {
      const labels = Object.entries(series.labels ?? {});
      for (const [name] of labels) if (!LABEL_NAME.test(name)) throw new Error(`invalid label name "${name}"`);
      const labelText =
        labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
      const samples = [...series.samples].sort((a, b) => a.timestamp - b.timestamp);
      for (const s of samples) lines.push(`${sampleName}${labelText} ${formatNumber(s.value)} ${String(s.timestamp)}`);
    }
  }
  lines.push('# EOF');
  return lines.join('\n') + '\n';
}

function prometheusConfig(options: StartPrometheusOptions): string {
  const interval = options.scrapeInterval ?? '1s';
  const targets = options.scrapeTargets ?? [];
  return stringify({
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: targets.length === 0 ? [] : [{ job_name: 'rebound-test', static_configs: [{ targets }] }],
  });
}

/** Starts Prometheus on a free loopback port with the given history and scrape targets. */
export function startPrometheus(options: StartPrometheusOptions = {}): Promise<LocalPrometheus> {
  return startLoopbackServer({
    name: 'prometheus',
    command: toolPath('prometheus'),
    readyPath: '/-/ready',
    ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    prepare: async (dir, port) => {
      const dataDir = options.dataDir ?? join(dir, 'data');
      await mkdir(dataDir, { recursive: true });
      if (options.openMetrics !== undefined) {
        const input = join(dir, 'backfill.om');
        await writeFile(input, options.openMetrics);
        await runCommand(toolPath('promtool'), ['tsdb', 'create-blocks-from', 'openmetrics', input, dataDir], {
          timeoutMs: 120_000,
        });
      }
      const configPath = join(dir, 'prometheus.yml');
      await writeFile(configPath, prometheusConfig(options));
      return [
        `--config.file=${configPath}`,
        `--storage.tsdb.path=${dataDir}`,
        // Backfilled history may be old: keep it (retention counts back from the newest sample).
        '--storage.tsdb.retention.time=100y',
        `--web.listen-address=${LOOPBACK}:${String(port)}`,
        '--web.enable-lifecycle',
        '--log.level=warn',
      ];
    },
  });
}
