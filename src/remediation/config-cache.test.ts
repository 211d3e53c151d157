import { describe, expect, it } from 'vitest';
import { CONFIG_PARSERS, ConfigCache } from './config-cache.ts';
import type { ConfigKey } from './config-cache.ts';

const key: ConfigKey = { project: 'sockshop', stage: 'production', service: 'carts', file: 'carts/remediation.yaml' };
const c1 = '1'.repeat(40);
const c2 = '2'.repeat(40);
const c3 = '3'.repeat(40);
const c4 = '4'.repeat(40);

const good = [
  'remediations:',
  '- name: Response time',
  '  actions:',
  '  - action: scaling',
  '    value: "+1"',
  '',
].join('\n');
const better = good.replace('"+1"', '"+2"');
// Line 4: a webhook, which a file in Git may not name.
const broken = good.replace('action: scaling', 'action: webhook');

describe('ConfigCache', () => {
  it('puts a valid first version in force', () => {
    const cache = new ConfigCache(CONFIG_PARSERS.remediation);
    const result = cache.offer(key, { commit: c1, text: good });
    expect(result.status).toBe('updated');
    expect(cache.get(key)).toMatchObject({
      path: 'carts/remediation.yaml',
      commit: c1,
      text: good,
      value: { format: 'legacy' },
    });
  });

  it('keeps the last good version in force when a new one does not parse, and locates the error', () => {
    const cache = new ConfigCache(CONFIG_PARSERS.remediation);
    cache.offer(key, { commit: c1, text: good });
    const result = cache.offer(key, { commit: c2, text: broken });
    expect(result.status).toBe('invalid');
    if (result.status !== 'invalid') return;
    expect(result.inForce?.commit).toBe(c1);
    expect(result.rejected.commit).toBe(c2);
    expect(result.rejected.diagnostics[0]).toMatchObject({ file: 'carts/remediation.yaml', line: 4 });
    expect(result.message).toMatch(
      /^carts\/remediation\.yaml at 22222222 is invalid: carts\/remediation\.yaml:4:\d+: .*webhook.*; keeping the version from 11111111$/,
    );
    expect(cache.get(key)?.text).toBe(good);
    expect(cache.rejected(key)?.commit).toBe(c2);
    expect(cache.problems('sockshop')).toEqual([
      expect.objectContaining({ path: 'carts/remediation.yaml', commit: c2, message: result.message }),
    ]);
    expect(cache.problems('other')).toEqual([]);
  });

  it('rejects a version the store would not read for its size, naming the file and size, and keeps the last good one', () => {
    const cache = new ConfigCache(CONFIG_PARSERS.remediation);
    const tooLarge = { size: 314_572_800, limit: 1_048_576 };
    const first = cache.offer(key, { commit: c1, tooLarge });
    expect(first).toMatchObject({ status: 'invalid' });
    expect(first.status === 'invalid' && first.message).toBe(
      'carts/remediation.yaml at 11111111 is invalid: carts/remediation.yaml:1:1: file is 314572800 bytes, larger than the 1048576-byte limit (not read); no earlier valid version to keep',
    );
    cache.offer(key, { commit: c2, text: good });
    const again = cache.offer(key, { commit: c3, tooLarge });
    expect(again).toMatchObject({ status: 'invalid', inForce: { commit: c2 } });
    // A revert puts the good content back in force.
    expect(cache.offer(key, { commit: c4, text: good })).toMatchObject({ status: 'unchanged' });
    expect(cache.rejected(key)).toBeUndefined();
  });

  it('reports a broken first version with nothing to keep', () => {
    const cache = new ConfigCache(CONFIG_PARSERS.remediation);
    const result = cache.offer(key, { commit: c1, text: 'remediations: [\n' });
    expect(result).toMatchObject({ status: 'invalid', rejected: { commit: c1 } });
    expect(result.status === 'invalid' && result.message).toMatch(/; no earlier valid version to keep$/);
    expect(cache.get(key)).toBeUndefined();
  });

  it('clears the problem when a fixed version arrives', () => {
    const cache = new ConfigCache(CONFIG_PARSERS.remediation);
    cache.offer(key, { commit: c1, text: good });
    cache.offer(key, { commit: c2, text: broken });
    const result = cache.offer(key, { commit: c3, text: better });
    expect(result).toMatchObject({
      status: 'updated',
      inForce: { commit: c3, text: better },
      previous: { commit: c1 },
    });
    expect(cache.rejected(key)).toBeUndefined();
    expect(cache.problems('sockshop')).toEqual([]);
  });

  it('treats a revert to the good content as unchanged, at the newer commit', () => {
    const cache = new ConfigCache(CONFIG_PARSERS.remediation);
    cache.offer(key, { commit: c1, text: good });
    cache.offer(key, { commit: c2, text: broken });
    expect(cache.offer(key, { commit: c3, text: good })).toMatchObject({
      status: 'unchanged',
      inForce: { commit: c3 },
    });
    expect(cache.rejected(key)).toBeUndefined();
  });

  it('does not parse the same broken text twice', () => {
    let parses = 0;
    const cache = new ConfigCache((file, text) => {
      parses++;
      return CONFIG_PARSERS.remediation(file, text);
    });
    cache.offer(key, { commit: c1, text: broken });
    const again = cache.offer(key, { commit: c2, text: broken });
    expect(parses).toBe(1);
    expect(again).toMatchObject({ status: 'invalid', rejected: { commit: c2 } });
  });

  it('drops the version in force when the file is deleted', () => {
    const cache = new ConfigCache(CONFIG_PARSERS.remediation);
    cache.offer(key, { commit: c1, text: good });
    expect(cache.offer(key, { commit: c4, text: null })).toMatchObject({ status: 'removed', previous: { commit: c1 } });
    expect(cache.get(key)).toBeUndefined();
  });

  it('keeps files of different services, stages and kinds apart', () => {
    const cache = new ConfigCache(CONFIG_PARSERS.remediation);
    cache.offer(key, { commit: c1, text: good });
    cache.offer({ ...key, stage: 'staging' }, { commit: c2, text: better });
    expect(cache.get(key)?.commit).toBe(c1);
    expect(cache.get({ ...key, stage: 'staging' })?.commit).toBe(c2);
    expect(cache.get({ ...key, service: 'orders' })).toBeUndefined();
  });

  it('bounds the message to three diagnostics', () => {
    const cache = new ConfigCache<unknown>(() => ({
      ok: false,
      diagnostics: [1, 2, 3, 4, 5].map((line) => ({ file: 'carts/slo.yaml', line, column: 1, message: `bad ${line}` })),
    }));
    const result = cache.offer({ ...key, file: 'carts/slo.yaml' }, { commit: c1, text: 'x' });
    expect(result.status === 'invalid' && result.message).toBe(
      'carts/slo.yaml at 11111111 is invalid: carts/slo.yaml:1:1: bad 1; carts/slo.yaml:2:1: bad 2; carts/slo.yaml:3:1: bad 3 (and 2 more); no earlier valid version to keep',
    );
  });

  it('has parsers for slo.yaml and sli.yaml too', () => {
    const sli = new ConfigCache(CONFIG_PARSERS.sli);
    const sliKey = { ...key, file: 'carts/prometheus/sli.yaml' };
    expect(
      sli.offer(sliKey, {
        commit: c1,
        text: 'spec_version: "1.0"\nindicators:\n  response_time_p95: "histogram_quantile(0.95, x)"\n',
      }).status,
    ).toBe('updated');
    expect(sli.offer(sliKey, { commit: c2, text: 'indicators: [\n' }).status).toBe('invalid');
    expect(sli.get(sliKey)?.commit).toBe(c1);
    const slo = new ConfigCache(CONFIG_PARSERS.slo);
    expect(slo.offer({ ...key, file: 'carts/slo.yaml' }, { commit: c1, text: 'objectives: 3\n' }).status).toBe(
      'invalid',
    );
  });
});
