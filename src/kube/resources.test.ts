import { describe, expect, it } from 'vitest';
import { LAST_APPLIED, slimForCache } from './resources.ts';

const problem = {
  apiVersion: 'rebound.dev/v1alpha1',
  kind: 'ProblemEvent',
  metadata: {
    name: 'p1',
    namespace: 'sockshop',
    resourceVersion: '7',
    annotations: { [LAST_APPLIED]: JSON.stringify({ spec: { service: 'carts' } }), 'rebound.dev/suspend': 'true' },
    managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
  },
  spec: { service: 'carts' },
  status: { phase: 'Pending' },
};

describe('slimForCache', () => {
  it("drops managedFields and kubectl apply's copy of the object, keeping every other annotation", () => {
    const slim = slimForCache(problem);
    expect(slim.metadata).toEqual({
      name: 'p1',
      namespace: 'sockshop',
      resourceVersion: '7',
      annotations: { 'rebound.dev/suspend': 'true' },
    });
    expect(slim.spec).toBe(problem.spec);
    expect(slim.status).toBe(problem.status);
    // The object the API server returned is not changed.
    expect(problem.metadata.annotations[LAST_APPLIED]).toBeDefined();
    expect(problem.metadata.managedFields).toHaveLength(1);
  });

  it('returns an object with neither as it is', () => {
    const plain = { ...problem, metadata: { name: 'p2', annotations: { a: 'b' } } };
    expect(slimForCache(plain)).toBe(plain);
  });
});
