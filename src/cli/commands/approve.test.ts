import { describe, expect, it } from 'vitest';
import type { ProblemEvent, ProblemEventStatus } from '../../api/index.ts';
import { attemptToAnswer } from './approve.ts';

const problem = (status: ProblemEventStatus): ProblemEvent => ({
  apiVersion: 'rebound.dev/v1alpha1',
  kind: 'ProblemEvent',
  metadata: { name: 'p1', namespace: 'sockshop' },
  spec: { project: 'sockshop', stage: 'production', service: 'carts', problemTitle: 't', state: 'OPEN' },
  status,
});
const pending = { state: 'Pending', requestedTime: '2026-11-22T12:00:00Z' } as const;

describe('attemptToAnswer', () => {
  const cases: { name: string; problem: ProblemEvent | undefined; wanted?: number; want: string | number }[] = [
    { name: 'an unknown problem', problem: undefined, want: 'ProblemEvent sockshop/p1 does not exist' },
    {
      name: 'a finished problem',
      problem: problem({
        phase: 'Resolved',
        attempts: [{ index: 1, action: 'scale', value: '+1', approval: pending }],
      }),
      want: 'ProblemEvent sockshop/p1 is finished (Resolved): nothing waits for an answer',
    },
    {
      name: 'no attempt yet',
      problem: problem({ phase: 'Pending' }),
      want: 'ProblemEvent sockshop/p1 has no attempt yet',
    },
    {
      name: 'an unknown attempt',
      problem: problem({
        phase: 'AwaitingApproval',
        attempts: [{ index: 1, action: 'scale', value: '+1', approval: pending }],
      }),
      wanted: 3,
      want: 'ProblemEvent sockshop/p1 has no attempt 3',
    },
    {
      name: 'an attempt already decided',
      problem: problem({
        phase: 'Remediating',
        attempts: [{ index: 1, action: 'scale', value: '+1', approval: { ...pending, state: 'Approved' } }],
      }),
      want: 'attempt 1 of ProblemEvent sockshop/p1 cannot be answered: its approval is Approved',
    },
    {
      name: 'an attempt that never waited',
      problem: problem({ phase: 'Evaluating', attempts: [{ index: 1, action: 'scale', value: '+1' }] }),
      want: 'attempt 1 of ProblemEvent sockshop/p1 cannot be answered: it does not wait for approval',
    },
    {
      name: 'the current attempt',
      problem: problem({
        phase: 'AwaitingApproval',
        attempts: [
          { index: 1, action: 'scale', value: '+1', result: 'fail' },
          { index: 2, action: 'scale', value: '+2', approval: pending },
        ],
      }),
      want: 2,
    },
  ];
  it.each(cases)('$name', ({ problem: p, wanted, want }) => {
    const out = attemptToAnswer(p, wanted, 'sockshop/p1');
    expect(out.ok ? out.attempt.index : out.message).toBe(want);
  });
});
