import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ReboundError } from '../errors.ts';
import { classifyKubeError, Limiter } from './store.ts';

describe('Limiter', () => {
  it('never runs more than max tasks at once and runs them all', async () => {
    const limiter = new Limiter(3);
    let active = 0;
    let peak = 0;
    const done: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limiter.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((resolve) => setTimeout(resolve, i % 3));
          active--;
          done.push(i);
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('releases the slot of a failed task', async () => {
    const limiter = new Limiter(1);
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limiter.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });
});

describe('classifyKubeError', () => {
  const api = (code: number, message: string): ApiException<string> =>
    new ApiException(code, 'Unknown API Status Code!', JSON.stringify({ kind: 'Status', message, code }), {});

  it.each([
    { err: api(422, 'spec.project: Invalid value'), code: 'InvalidProblemEvent', retryable: false, message: /spec.project: Invalid value/ },
    { err: api(403, 'forbidden: cannot create problemevents'), code: 'KubeForbidden', retryable: false, message: /not allowed \(HTTP 403\)/ },
    { err: api(404, 'namespaces "x" not found'), code: 'KubeNotFound', retryable: false, message: /CRD installed/ },
    { err: api(429, 'storage is (re)initializing'), code: 'KubeUnavailable', retryable: true, message: /HTTP 429/ },
    { err: api(503, 'etcd unavailable'), code: 'KubeUnavailable', retryable: true, message: /etcd unavailable/ },
    { err: new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:6443') }), code: 'KubeUnavailable', retryable: true, message: /unreachable/ },
  ])('$code ← $message', ({ err, code, retryable, message }) => {
    const classified = classifyKubeError(err, 'create ProblemEvent ns/x');
    expect(classified).toBeInstanceOf(ReboundError);
    expect(classified.code).toBe(code);
    expect(classified.retryable).toBe(retryable);
    expect(classified.message).toMatch(message);
    expect(classified.message.startsWith('create ProblemEvent ns/x: ')).toBe(true);
  });
});
