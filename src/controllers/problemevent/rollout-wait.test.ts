import { describe, expect, it } from 'vitest';
import type { RolloutObservation } from '../../apply/types.ts';
import { judgeRollout } from './rollout-wait.ts';

const STARTED = new Date('2026-11-22T12:00:00Z');
const at = (s: number): Date => new Date(STARTED.getTime() + s * 1000);
const target = { namespace: 'sockshop-production', service: 'carts' };
const previous = { state: 'Progressing' as const, startedTime: STARTED.toISOString() };
const figures = { observedGeneration: 3, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 };
const observed = (rollout: Extract<RolloutObservation, { kind: 'observed' }>['rollout']): RolloutObservation => ({
  kind: 'observed',
  workloads: ['Deployment/carts'],
  rollout,
});
const TIMEOUT = 60_000;

describe('judgeRollout', () => {
  it('a complete rollout is live, with its figures and how long it took', () => {
    const got = judgeRollout(
      observed({ kind: 'complete', figures: { ...figures, readyReplicas: 2, availableReplicas: 2 } }),
      previous,
      target,
      at(4.2),
      TIMEOUT,
    );
    expect(got).toEqual({
      kind: 'live',
      rollout: {
        state: 'Complete',
        startedTime: STARTED.toISOString(),
        workloads: ['Deployment/carts'],
        ...figures,
        readyReplicas: 2,
        availableReplicas: 2,
      },
      detail: 'Deployment/carts rolled out in 4.2s (2/2 ready)',
    });
  });
  it('no workload of the service: live as applied', () => {
    expect(judgeRollout({ kind: 'none' }, previous, target, at(0), TIMEOUT)).toMatchObject({
      kind: 'live',
      detail: 'no Deployment or StatefulSet of carts in sockshop-production to wait for',
    });
  });
  it('under way and in time: waiting, with the workload’s words', () => {
    const got = judgeRollout(
      observed({
        kind: 'progressing',
        reason: 'AvailableReplicas',
        message: 'Deployment/carts: 1 of 2 available',
        figures,
      }),
      previous,
      target,
      at(30),
      TIMEOUT,
    );
    expect(got).toMatchObject({
      kind: 'waiting',
      rollout: { state: 'Progressing', reason: 'AvailableReplicas', readyReplicas: 1 },
      message: 'waiting for the rollout: Deployment/carts: 1 of 2 available',
    });
  });
  it('under way past the timeout: the attempt fails with RolloutTimedOut', () => {
    const got = judgeRollout(
      observed({
        kind: 'progressing',
        reason: 'AvailableReplicas',
        message: 'Deployment/carts: 1 of 2 available',
        figures,
      }),
      previous,
      target,
      at(60),
      TIMEOUT,
    );
    expect(got).toMatchObject({
      kind: 'failed',
      reason: 'RolloutTimedOut',
      rollout: { state: 'TimedOut' },
      message: 'the rollout did not finish within 60s (--rollout-timeout): Deployment/carts: 1 of 2 available',
    });
  });
  it('the progress deadline passed: RolloutFailed at once', () => {
    const got = judgeRollout(
      observed({ kind: 'failed', reason: 'ProgressDeadlineExceeded', message: 'Deployment/carts: too slow', figures }),
      previous,
      target,
      at(1),
      TIMEOUT,
    );
    expect(got).toMatchObject({ kind: 'failed', reason: 'RolloutFailed', rollout: { state: 'Failed' } });
  });
  it('a workload deleted mid-rollout: WorkloadNotFound', () => {
    const got = judgeRollout(
      { kind: 'missing', workloads: ['Deployment/carts'], gone: ['Deployment/carts'] },
      previous,
      target,
      at(1),
      TIMEOUT,
    );
    expect(got).toMatchObject({
      kind: 'failed',
      reason: 'WorkloadNotFound',
      message: 'Deployment/carts in sockshop-production was deleted during the rollout',
    });
  });
});
