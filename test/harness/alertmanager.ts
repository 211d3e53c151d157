// A real Alertmanager (Debian's package) on loopback with one webhook receiver: what Prometheus users
// point at Rebound. Timings are short so a test sees a notification within a second or two, and
// clustering is off (it would otherwise bind 0.0.0.0:9094).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LOOPBACK } from './ports.ts';
import { startLoopbackServer } from './process.ts';
import { toolPath } from './tools.ts';

export interface StartAlertmanagerOptions {
  /** Where notifications are POSTed (Alertmanager webhook payload, version 4). */
  webhookUrl: string;
  /** Sent as `Authorization: Bearer <token>` with each notification. */
  bearerToken?: string;
  /** Labels that group alerts into one notification; default `['...']`: every alert on its own. */
  groupBy?: string[];
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  startTimeoutMs?: number;
}

export interface LocalAlertmanager {
  /** http://127.0.0.1:PORT (API under /api/v2) */
  url: string;
  /** Stops the server and removes its data. Idempotent. */
  stop(): Promise<void>;
}

export function alertmanagerConfig(options: StartAlertmanagerOptions): string {
  const webhook: Record<string, unknown> = { url: options.webhookUrl, send_resolved: true };
  if (options.bearerToken !== undefined) {
    webhook['http_config'] = { authorization: { type: 'Bearer', credentials: options.bearerToken } };
  }
  return stringify({
    route: {
      receiver: 'rebound',
      group_by: options.groupBy ?? ['...'],
      group_wait: options.groupWait ?? '0s',
      group_interval: options.groupInterval ?? '1s',
      repeat_interval: options.repeatInterval ?? '1h',
    },
    receivers: [{ name: 'rebound', webhook_configs: [webhook] }],
  });
}

/** Starts Alertmanager on a free loopback port, sending every notification to `webhookUrl`. */
export function startAlertmanager(options: StartAlertmanagerOptions): Promise<LocalAlertmanager> {
  return startLoopbackServer({
    name: 'alertmanager',
    command: toolPath('prometheus-alertmanager'),
    readyPath: '/-/ready',
    ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    prepare: async (dir, port, url) => {
      const configPath = join(dir, 'alertmanager.yml');
      // The file may hold the bearer token.
      await writeFile(configPath, alertmanagerConfig(options), { mode: 0o600 });
      const dataDir = join(dir, 'data');
      await mkdir(dataDir);
      return [
        `--config.file=${configPath}`,
        `--storage.path=${dataDir}`,
        `--web.listen-address=${LOOPBACK}:${String(port)}`,
        // Otherwise the payload's externalURL names this machine's hostname.
        `--web.external-url=${url}`,
        // Empty disables the gossip cluster listener.
        '--cluster.listen-address=',
        '--log.level=warn',
      ];
    },
  });
}
