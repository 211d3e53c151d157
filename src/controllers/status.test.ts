import { describe, expect, it } from 'vitest';
import type { Condition } from '../api/index.ts';
import { KubeError } from '../kube/errors.ts';
import { Conditions, writeStatus } from './status.ts';

const now = new Date('2026-12-01T10:00:00Z');
const later = new Date('2026-12-01T10:05:00Z');

function summary(c: Conditions): Record<string, string> {
  return Object.fromEntries(c.list().map((x) => [x.type, `${x.status} ${x.reason}`]));
}

describe('Conditions (kstatus semantics)', () => {
  it('marking Stalled drops Reconciling and sets Ready=False; marking Reconciling clears Stalled', () => {
    const c = new Conditions(undefined, now, 3);
    c.markReconciling('ActionCommitted', 'attempt 1 committed');
    expect(summary(c)).toEqual({ Reconciling: 'True ActionCommitted', Stalled: 'False Progressing' });
    c.markStalled('ApplyFailed', 'helm failed');
    expect(summary(c)).toEqual({ Stalled: 'True ApplyFailed', Ready: 'False ApplyFailed' });
    c.markReconciling('Queued', 'waiting');
    expect(summary(c)).toEqual({
      Stalled: 'False Progressing',
      Ready: 'False ApplyFailed',
      Reconciling: 'True Queued',
    });
    expect(c.list().every((x) => x.observedGeneration === 3)).toBe(true);
  });

  it('Ready=True leaves neither Reconciling nor Stalled True; not ready is not stalled', () => {
    const c = new Conditions(undefined, now, undefined);
    c.markReconciling('WaitingForEvaluation', 'evaluation at noon');
    c.markReady('EvaluationPassed', 'passed');
    expect(summary(c)).toEqual({ Stalled: 'False EvaluationPassed', Ready: 'True EvaluationPassed' });
    c.markNotReady('GitUnreachable', 'connection refused', 'retried on the poll interval');
    expect(summary(c)).toEqual({ Stalled: 'False Progressing', Ready: 'False GitUnreachable' });
    expect(c.get('Stalled')?.message).toBe('retried on the poll interval');
  });

  it('keeps lastTransitionTime while a condition keeps its status', () => {
    const before: Condition[] = [
      {
        type: 'Stalled',
        status: 'True',
        reason: 'ProjectNotFound',
        message: 'x',
        lastTransitionTime: now.toISOString(),
      },
    ];
    const c = new Conditions(before, later, undefined);
    c.markStalled('StageNotFound', 'y');
    expect(c.get('Stalled')).toMatchObject({ reason: 'StageNotFound', lastTransitionTime: now.toISOString() });
    expect(c.get('Ready')?.lastTransitionTime).toBe(later.toISOString());
  });
});

describe('writeStatus', () => {
  const object = { metadata: { generation: 7 }, status: { conditions: [] as Condition[] } };

  it('sends fields, conditions and observedGeneration in one patch', async () => {
    const sent: unknown[] = [];
    const c = new Conditions(undefined, now, 7);
    c.markReady('Succeeded', 'ok');
    const result = await writeStatus(
      {
        patchStatus: (_o, s: { conditions?: Condition[]; observedGeneration?: number; stages?: string[] }) => {
          sent.push(s);
          return Promise.resolve('stored');
        },
      },
      object,
      { stages: ['a'] },
      c,
    );
    expect(result).toBe('stored');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      stages: ['a'],
      observedGeneration: 7,
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'Stalled', status: 'False' },
      ],
    });
  });

  it('ignores a deleted object and passes every other failure on', async () => {
    const c = new Conditions(undefined, now, 7);
    const notFound = new KubeError('not found (404)', { code: 'KubeNotFound', retryable: false, status: 404 });
    expect(await writeStatus({ patchStatus: () => Promise.reject(notFound) }, object, {}, c)).toBeUndefined();
    const conflict = new KubeError('conflict (409)', { code: 'KubeConflict', retryable: true, status: 409 });
    await expect(writeStatus({ patchStatus: () => Promise.reject(conflict) }, object, {}, c)).rejects.toBe(conflict);
  });
});
