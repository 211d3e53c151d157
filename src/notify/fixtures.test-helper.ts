// ProblemEvents at each point of the demo's escalation (scale +1 fails, the promotion flag off
// passes), for the notify tests.
import type { Attempt, ProblemEvent, ProblemEventStatus } from '../api/index.ts';

const SHA1 = 'a'.repeat(40);
const SHA2 = 'b'.repeat(40);

export function problemAt(
  status: ProblemEventStatus | undefined,
  over: Partial<ProblemEvent['spec']> = {},
): ProblemEvent {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: {
      namespace: 'shop',
      name: 'carts-high-latency',
      uid: 'uid-1',
      creationTimestamp: new Date('2026-12-02T10:00:00Z'),
    },
    spec: {
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      problemTitle: 'Response time degradation',
      state: 'OPEN',
      problemID: 'P-17',
      ...over,
    },
    ...(status ? { status } : {}),
  };
}

export const FIRST: Attempt = {
  index: 1,
  action: 'scale',
  value: '+1',
  branch: 'production',
  commit: SHA1,
  committedTime: '2026-12-02T10:00:05Z',
  appliedTime: '2026-12-02T10:00:06Z',
};
export const FIRST_FAILED: Attempt = {
  ...FIRST,
  evaluationTime: '2026-12-02T10:02:06Z',
  result: 'fail',
  score: 0,
};
export const SECOND: Attempt = {
  index: 2,
  action: 'featuretoggle',
  value: 'EnablePromotion:off',
  branch: 'production',
  commit: SHA2,
  committedTime: '2026-12-02T10:02:07Z',
  appliedTime: '2026-12-02T10:02:08Z',
};
export const SECOND_PASSED: Attempt = {
  ...SECOND,
  evaluationTime: '2026-12-02T10:04:08Z',
  result: 'pass',
  score: 100,
};

/** The escalation's statuses in the order the loop writes them. */
export const ESCALATION: ProblemEventStatus[] = [
  { phase: 'Pending' },
  { phase: 'Remediating', attempts: [FIRST] },
  { phase: 'Remediating', attempts: [FIRST_FAILED] },
  { phase: 'Remediating', attempts: [FIRST_FAILED, SECOND] },
  { phase: 'Evaluating', attempts: [FIRST_FAILED, SECOND] },
  {
    phase: 'Resolved',
    attempts: [FIRST_FAILED, SECOND_PASSED],
    completionTime: '2026-12-02T10:04:08Z',
  },
];
