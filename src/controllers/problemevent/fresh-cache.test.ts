import { describe, expect, it } from 'vitest';
import type { ProblemEvent } from '../../api/index.ts';
import { FreshReads } from './fresh-cache.ts';

const at = (rv: string, phase?: 'Remediating' | 'Evaluating'): ProblemEvent => ({
  apiVersion: 'rebound.dev/v1alpha1',
  kind: 'ProblemEvent',
  metadata: { name: 'p', namespace: 'ns', resourceVersion: rv },
  spec: { project: 'x', stage: 'production', service: 'carts', problemTitle: 't', state: 'OPEN' },
  ...(phase ? { status: { phase } } : {}),
});

describe('FreshReads', () => {
  it('serves our own write while the informer still holds the older object', () => {
    const fresh = new FreshReads();
    fresh.remember('ns/p', at('12', 'Evaluating'));
    expect(fresh.read('ns/p', at('11', 'Remediating'))?.status?.phase).toBe('Evaluating');
  });

  it('returns to the cache once the informer has delivered our version', () => {
    const fresh = new FreshReads();
    fresh.remember('ns/p', at('12', 'Evaluating'));
    fresh.observed('ns/p', at('12', 'Evaluating'));
    const newer = at('13', 'Remediating');
    expect(fresh.read('ns/p', newer)).toBe(newer);
  });

  it('gives up on a version the informer never shows after the ttl (a relist skipped it)', () => {
    let now = 0;
    const fresh = new FreshReads({ ttlMs: 1000, now: () => now });
    fresh.remember('ns/p', at('12', 'Evaluating'));
    now = 1001;
    const relisted = at('15', 'Remediating');
    expect(fresh.read('ns/p', relisted)).toBe(relisted);
  });

  it('forgets a deleted object', () => {
    const fresh = new FreshReads();
    fresh.remember('ns/p', at('12'));
    fresh.observed('ns/p', undefined);
    expect(fresh.read('ns/p', undefined)).toBeUndefined();
  });
});
