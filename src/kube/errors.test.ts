import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ReboundError } from '../errors.ts';
import { KUBE_ERROR_CODES, KubeError, classifyKubeError, isAlreadyExists, isConflict, isNotFound } from './errors.ts';

function apiException(code: number, reason?: string, message?: string): ApiException<string> {
  return new ApiException(code, 'failed', JSON.stringify({ kind: 'Status', reason, message }), {});
}

describe('classifyKubeError', () => {
  it.each([
    [400, undefined, KUBE_ERROR_CODES.Invalid, false],
    [401, undefined, KUBE_ERROR_CODES.Unauthorized, true],
    [403, undefined, KUBE_ERROR_CODES.Forbidden, true],
    [404, 'NotFound', KUBE_ERROR_CODES.NotFound, false],
    [409, 'AlreadyExists', KUBE_ERROR_CODES.AlreadyExists, false],
    [409, 'Conflict', KUBE_ERROR_CODES.Conflict, true],
    [410, 'Expired', KUBE_ERROR_CODES.Expired, true],
    [422, 'Invalid', KUBE_ERROR_CODES.Invalid, false],
    [429, 'TooManyRequests', KUBE_ERROR_CODES.TooManyRequests, true],
    [500, 'InternalError', KUBE_ERROR_CODES.ServerError, true],
    [503, 'ServiceUnavailable', KUBE_ERROR_CODES.ServerError, true],
  ] as const)('HTTP %i (%s) → %s', (status, reason, code, retryable) => {
    const err = classifyKubeError(apiException(status, reason, 'the server said so'), 'get problemevents ns/p');
    expect(err).toBeInstanceOf(KubeError);
    expect(err).toBeInstanceOf(ReboundError);
    expect(err).toMatchObject({ code, retryable, status });
    // No condition reason: the caller's context names the failure (a failed commit, an unreadable Secret).
    expect(err.reason).toBeUndefined();
    expect(err.message).toBe(`get problemevents ns/p: ${err.message.split(': ')[1]}: the server said so`);
    expect(err.cause).toBeInstanceOf(ApiException);
  });

  it('reads the status code of watch errors (statusCode) too', () => {
    const err = classifyKubeError(Object.assign(new Error('Gone'), { statusCode: 410 }), 'watch');
    expect(err.code).toBe(KUBE_ERROR_CODES.Expired);
  });

  it('classifies refused and reset connections as unavailable, looking through causes', () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }),
    });
    expect(classifyKubeError(refused, 'list')).toMatchObject({
      code: KUBE_ERROR_CODES.Unavailable,
      reason: undefined,
      retryable: true,
    });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classifyKubeError(reset, 'list').code).toBe(KUBE_ERROR_CODES.Unavailable);
    const timeout = new DOMException('timed out', 'TimeoutError');
    expect(classifyKubeError(timeout, 'list').code).toBe(KUBE_ERROR_CODES.Unavailable);
    // fetch refuses some failures before any socket exists (a blocked port): still unreachable, named.
    const blocked = classifyKubeError(new TypeError('fetch failed', { cause: new Error('bad port') }), 'create');
    expect(blocked).toMatchObject({ code: KUBE_ERROR_CODES.Unavailable, retryable: true });
    expect(blocked.message).toBe('create: API server unreachable (bad port)');
  });

  it('retries what it cannot name, and passes classified errors through unchanged', () => {
    const unknown = classifyKubeError(new Error('something odd'), 'get');
    expect(unknown).toMatchObject({ code: KUBE_ERROR_CODES.ServerError, retryable: true });
    expect(classifyKubeError(unknown, 'other action')).toBe(unknown);
    expect(classifyKubeError('a string', 'get').message).toBe('get: a string');
  });

  it('copes with a body that is not JSON', () => {
    const err = classifyKubeError(new ApiException(502, 'bad gateway', '<html>proxy error</html>', {}), 'get');
    expect(err).toMatchObject({ code: KUBE_ERROR_CODES.ServerError, status: 502 });
  });

  it('offers predicates so callers never compare codes by hand', () => {
    expect(isNotFound(classifyKubeError(apiException(404, 'NotFound'), 'get'))).toBe(true);
    expect(isConflict(classifyKubeError(apiException(409, 'Conflict'), 'update'))).toBe(true);
    expect(isAlreadyExists(classifyKubeError(apiException(409, 'AlreadyExists'), 'create'))).toBe(true);
    expect(isNotFound(new Error('404'))).toBe(false);
  });
});
