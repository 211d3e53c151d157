import { describe, expect, it } from 'vitest';
import type { Approval } from '../api/index.ts';
import { approvalInput, approvalReason, describeRequest, tallyApprovals } from './approvals.ts';

const REQUESTED = '2026-11-22T12:00:00.500Z';
let n = 0;
function answer(
  user: string,
  decision: 'Approve' | 'Reject',
  opts: { at?: string; groups?: string[]; message?: string } = {},
): Approval {
  n += 1;
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Approval',
    metadata: { name: `a${n}`, namespace: 'sockshop', creationTimestamp: new Date(opts.at ?? '2026-11-22T12:01:00Z') },
    spec: {
      problem: 'p1',
      attempt: 1,
      decision,
      user,
      ...(opts.groups ? { groups: opts.groups } : {}),
      ...(opts.message ? { message: opts.message } : {}),
    },
  };
}

describe('approvalReason', () => {
  it.each([
    { stage: 'manual', approval: undefined, want: 'stage production is manual: every action waits for approval' },
    { stage: 'automated', approval: 'required', want: 'action 2 of the policy requires approval' },
    { stage: 'automated', approval: undefined, want: undefined },
  ] as const)('$stage stage, action approval $approval', ({ stage, approval, want }) => {
    expect(approvalReason({ name: 'production', remediation: stage }, approval ? { approval } : {}, 2)).toBe(want);
  });
});

describe('approvalReason: the shipyard approval task', () => {
  const stage = (pass: 'automatic' | 'manual', warning: 'automatic' | 'manual') => ({
    name: 'production',
    remediation: 'automated' as const,
    sequence: { approval: { pass, warning } },
  });
  it.each([
    { pass: 'manual', warning: 'manual', seen: 'pass', want: '(pass: manual)' },
    { pass: 'automatic', warning: 'manual', seen: 'pass', want: undefined },
    { pass: 'automatic', warning: 'manual', seen: 'warning', want: '(warning: manual)' },
    { pass: 'manual', warning: 'automatic', seen: 'warning', want: undefined },
  ] as const)('pass $pass, warning $warning, after $seen', ({ pass, warning, seen, want }) => {
    const why = approvalReason(stage(pass, warning), {}, 1, seen);
    if (want === undefined) expect(why).toBeUndefined();
    else expect(why).toBe(`the remediation sequence of stage production has an approval task ${want}`);
  });

  it('a manual stage or a policy entry says so first', () => {
    expect(approvalReason({ ...stage('automatic', 'automatic'), remediation: 'manual' }, {}, 1)).toContain('is manual');
    expect(approvalReason(stage('automatic', 'automatic'), { approval: 'required' }, 3)).toBe(
      'action 3 of the policy requires approval',
    );
  });

  it.each([
    { previous: undefined, want: 'pass' },
    { previous: { result: 'fail' }, want: 'pass' },
    { previous: { result: 'warning' }, want: 'warning' },
  ] as const)('after $previous the task sees $want', ({ previous, want }) => {
    expect(approvalInput(previous)).toBe(want);
  });
});

describe('tallyApprovals', () => {
  const one = { requestedTime: REQUESTED, minApprovals: 1 };
  const two = { requestedTime: REQUESTED, minApprovals: 2 };
  const sre = { requestedTime: REQUESTED, minApprovals: 1, groups: ['sre'] };
  const cases: {
    name: string;
    approvals: Approval[];
    request: typeof one & { groups?: string[] };
    state: string;
    users: string[];
    ignored: number;
  }[] = [
    { name: 'nobody yet', approvals: [], request: one, state: 'Pending', users: [], ignored: 0 },
    {
      name: 'one approval of one',
      approvals: [answer('alice', 'Approve')],
      request: one,
      state: 'Approved',
      users: ['alice'],
      ignored: 0,
    },
    {
      name: 'one approval of two',
      approvals: [answer('alice', 'Approve')],
      request: two,
      state: 'Pending',
      users: ['alice'],
      ignored: 0,
    },
    {
      name: 'the same person twice is one',
      approvals: [answer('alice', 'Approve'), answer('alice', 'Approve')],
      request: two,
      state: 'Pending',
      users: ['alice'],
      ignored: 0,
    },
    {
      name: 'two people',
      approvals: [answer('alice', 'Approve'), answer('bob', 'Approve')],
      request: two,
      state: 'Approved',
      users: ['alice', 'bob'],
      ignored: 0,
    },
    {
      name: 'a rejection wins over approvals',
      approvals: [answer('alice', 'Approve'), answer('bob', 'Reject')],
      request: one,
      state: 'Rejected',
      users: ['alice', 'bob'],
      ignored: 0,
    },
    {
      name: 'a person changes their mind: the latest answer counts',
      approvals: [
        answer('alice', 'Reject', { at: '2026-11-22T12:01:00Z' }),
        answer('alice', 'Approve', { at: '2026-11-22T12:02:00Z' }),
      ],
      request: one,
      state: 'Approved',
      users: ['alice'],
      ignored: 0,
    },
    {
      name: 'made before the request (an earlier diff)',
      approvals: [answer('alice', 'Approve', { at: '2026-11-22T11:59:00Z' })],
      request: one,
      state: 'Pending',
      users: [],
      ignored: 1,
    },
    {
      name: 'in the same second as the request counts',
      approvals: [answer('alice', 'Approve', { at: '2026-11-22T12:00:00Z' })],
      request: one,
      state: 'Approved',
      users: ['alice'],
      ignored: 0,
    },
    {
      name: 'outside the required groups',
      approvals: [answer('mallory', 'Approve', { groups: ['dev'] })],
      request: sre,
      state: 'Pending',
      users: [],
      ignored: 1,
    },
    {
      name: 'a rejection from outside the groups does not count either',
      approvals: [answer('mallory', 'Reject', { groups: ['dev'] }), answer('alice', 'Approve', { groups: ['sre'] })],
      request: sre,
      state: 'Approved',
      users: ['alice'],
      ignored: 1,
    },
  ];
  it.each(cases)('$name', ({ approvals, request, state, users, ignored }) => {
    const tally = tallyApprovals(approvals, request);
    expect(tally.state).toBe(state);
    expect(tally.approvers.map((a) => a.user)).toEqual(users);
    expect(tally.ignored).toHaveLength(ignored);
  });

  it('describes who may approve', () => {
    expect(describeRequest({ minApprovals: 2, groups: ['sre', 'leads'] }, 1)).toBe(
      '1 of 2 approval(s) from members of sre, leads',
    );
  });
});
