import { describe, expect, it } from 'vitest';
import { combinedRollout, withAutoscalers, workloadRollout } from './rollout-status.ts';
import type { WorkloadObject } from './rollout-status.ts';
import { judgeListed } from './rollout.ts';

function deployment(
  name: string,
  {
    generation = 2,
    replicas = 2,
    status = {},
  }: { generation?: number; replicas?: number; status?: NonNullable<WorkloadObject['status']> } = {},
): WorkloadObject {
  return { kind: 'Deployment', metadata: { name, generation }, spec: { replicas }, status };
}

const done = { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 };

describe('workloadRollout (kubectl rollout status)', () => {
  it.each<{ name: string; w: WorkloadObject; kind: string; reason?: string }>([
    {
      name: 'a Deployment not observed yet',
      w: deployment('carts', { status: {} }),
      kind: 'progressing',
      reason: 'ObservedGeneration',
    },
    {
      name: 'an older generation observed',
      w: deployment('carts', { status: { ...done, observedGeneration: 1 } }),
      kind: 'progressing',
      reason: 'ObservedGeneration',
    },
    {
      name: 'fewer updated replicas than wanted',
      w: deployment('carts', { status: { ...done, updatedReplicas: 1 } }),
      kind: 'progressing',
      reason: 'UpdatedReplicas',
    },
    {
      name: 'old replicas still terminating',
      w: deployment('carts', { status: { ...done, replicas: 3 } }),
      kind: 'progressing',
      reason: 'OldReplicas',
    },
    {
      name: 'updated replicas not available yet',
      w: deployment('carts', { status: { ...done, availableReplicas: 1 } }),
      kind: 'progressing',
      reason: 'AvailableReplicas',
    },
    { name: 'every replica updated and available', w: deployment('carts', { status: done }), kind: 'complete' },
    {
      name: 'the progress deadline passed',
      w: deployment('carts', {
        status: {
          ...done,
          updatedReplicas: 1,
          conditions: [
            { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'too slow' },
          ],
        },
      }),
      kind: 'failed',
      reason: 'ProgressDeadlineExceeded',
    },
    {
      name: 'a StatefulSet with a pod not ready',
      w: {
        kind: 'StatefulSet',
        metadata: { name: 'db', generation: 1 },
        spec: { replicas: 2 },
        status: { ...done, observedGeneration: 1, readyReplicas: 1 },
      },
      kind: 'progressing',
      reason: 'ReadyReplicas',
    },
    {
      name: 'a StatefulSet whose pods run the old revision',
      w: {
        kind: 'StatefulSet',
        metadata: { name: 'db', generation: 1 },
        spec: { replicas: 2 },
        status: { ...done, observedGeneration: 1, currentRevision: 'db-1', updateRevision: 'db-2' },
      },
      kind: 'progressing',
      reason: 'UpdateRevision',
    },
    {
      name: 'a StatefulSet rolled out',
      w: {
        kind: 'StatefulSet',
        metadata: { name: 'db', generation: 1 },
        spec: { replicas: 2 },
        status: { ...done, observedGeneration: 1, currentRevision: 'db-2', updateRevision: 'db-2' },
      },
      kind: 'complete',
    },
  ])('$name: $kind', ({ w, kind, reason }) => {
    const got = workloadRollout(w);
    expect(got.kind).toBe(kind);
    if (reason) expect(got).toMatchObject({ reason });
  });

  it('several workloads: the first that waits says why, the figures add up', () => {
    const got = combinedRollout([
      workloadRollout(deployment('a', { status: done })),
      workloadRollout(deployment('b', { status: { ...done, availableReplicas: 0 } })),
    ]);
    expect(got).toMatchObject({
      kind: 'progressing',
      reason: 'AvailableReplicas',
      figures: { replicas: 4, availableReplicas: 2, observedGeneration: 2 },
    });
  });
});

describe('withAutoscalers', () => {
  const hpa = {
    metadata: { name: 'carts' },
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'carts' }, minReplicas: 3, maxReplicas: 4 },
  };
  it('a raised HPA minimum the HPA has not acted on yet: still rolling out', () => {
    const w = deployment('carts', { status: done });
    expect(withAutoscalers(w, workloadRollout(w), [hpa])).toMatchObject({ kind: 'progressing', reason: 'Autoscaler' });
  });
  it('within the HPA bounds: complete', () => {
    const w = deployment('carts', {
      replicas: 3,
      status: { ...done, replicas: 3, updatedReplicas: 3, availableReplicas: 3 },
    });
    expect(withAutoscalers(w, workloadRollout(w), [hpa]).kind).toBe('complete');
  });
});

describe('judgeListed', () => {
  const target = { namespace: 'sockshop-production', service: 'carts' };
  it('finds the service by name, Helm release annotation or instance label', () => {
    const listed: WorkloadObject[] = [
      deployment('carts', { status: done }),
      {
        ...deployment('carts-db', { status: done }),
        kind: 'StatefulSet',
        metadata: { name: 'carts-db', generation: 2, annotations: { 'meta.helm.sh/release-name': 'carts' } },
      } as WorkloadObject,
      deployment('orders', { status: done }),
    ];

    const got = judgeListed(target, listed);
    expect(got).toMatchObject({ kind: 'observed', workloads: ['Deployment/carts', 'StatefulSet/carts-db'] });
  });
  it('nothing of the service: nothing rolls out', () => {
    expect(judgeListed(target, [deployment('orders')])).toEqual({ kind: 'none' });
  });
  it('a workload found earlier and gone since was deleted mid-rollout', () => {
    expect(judgeListed({ ...target, workloads: ['Deployment/carts'] }, [])).toEqual({
      kind: 'missing',
      workloads: ['Deployment/carts'],
      gone: ['Deployment/carts'],
    });
  });
});
