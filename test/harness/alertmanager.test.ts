import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { alertmanagerConfig } from './alertmanager.ts';

describe('alertmanagerConfig', () => {
  it('routes everything to one webhook that also sends resolutions', () => {
    expect(parse(alertmanagerConfig({ webhookUrl: 'http://127.0.0.1:9/hook' }))).toEqual({
      route: { receiver: 'rebound', group_by: ['...'], group_wait: '0s', group_interval: '1s', repeat_interval: '1h' },
      receivers: [{ name: 'rebound', webhook_configs: [{ url: 'http://127.0.0.1:9/hook', send_resolved: true }] }],
    });
  });

  it('adds the bearer token and custom grouping', () => {
    const config = parse(
      alertmanagerConfig({ webhookUrl: 'http://127.0.0.1:9/hook', bearerToken: 't0k', groupBy: ['alertname'] }),
    ) as {
      route: { group_by: string[] };
      receivers: { webhook_configs: { http_config?: unknown }[] }[];
    };
    expect(config.route.group_by).toEqual(['alertname']);
    expect(config.receivers[0]?.webhook_configs[0]?.http_config).toEqual({
      authorization: { type: 'Bearer', credentials: 't0k' },
    });
  });
});
