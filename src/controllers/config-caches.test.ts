import { describe, expect, it } from 'vitest';
import { watchedFile } from './config-caches.ts';

describe('watchedFile', () => {
  it.each([
    ['carts/remediation.yaml', { service: 'carts', kind: 'remediation' }],
    ['carts/slo.yaml', { service: 'carts', kind: 'slo' }],
    ['carts/sli.yaml', { service: 'carts', kind: 'sli' }],
    ['carts/prometheus/sli.yaml', { service: 'carts', kind: 'sli' }],
    ['carts/dynatrace/sli.yaml', { service: 'carts', kind: 'sli' }],
    ['prometheus/sli.yaml', undefined],
    ['carts/other/sli.yaml', undefined],
    ['carts/prometheus/slo.yaml', undefined],
    ['carts/values.yaml', undefined],
  ])('%s → %j', (path, expected) => {
    expect(watchedFile(path)).toEqual(expected);
  });
});
