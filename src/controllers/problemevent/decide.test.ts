import { describe, expect, it } from 'vitest';
import type { Attempt, ProblemEvent, ProblemEventStatus } from '../../api/index.ts';
import { actsOutside, decide, heldByLimits, needsTurn } from './decide.ts';
import type { DecisionInput } from './decide.ts';

const NOW = new Date('2026-11-22T12:00:00Z');
const minutesAgo = (m: number): string => new Date(NOW.getTime() - m * 60_000).toISOString();

function problem(
  name: string,
  opts: { created?: string; status?: ProblemEventStatus; state?: 'OPEN' | 'RESOLVED'; suspend?: boolean } = {},
): ProblemEvent {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: {
      name,
      namespace: 'sockshop',
      creationTimestamp: new Date(opts.created ?? minutesAgo(10)),
      ...(opts.suspend ? { annotations: { 'rebound.dev/suspend': 'true' } } : {}),
    },
    spec: {
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      problemTitle: 'response_time_p90',
      state: opts.state ?? 'OPEN',
    },
    ...(opts.status ? { status: opts.status } : {}),
  };
}

const attempt = (index: number, extra: Partial<Attempt> = {}): Attempt => ({
  index,
  action: 'scale',
  value: '+1',
  ...extra,
});

function input(p: ProblemEvent, extra: Partial<DecisionInput> = {}): DecisionInput {
  return { problem: p, siblings: [p], now: NOW, stage: { remediation: 'automated' }, limits: undefined, ...extra };
}

describe('decide', () => {
  const reverting = (revert: NonNullable<ProblemEventStatus['revert']>, extra: ProblemEventStatus = {}): ProblemEvent =>
    problem('a', { state: 'RESOLVED', status: { phase: 'Reverting', revert, ...extra } });
  const cases: { name: string; input: DecisionInput; want: ReturnType<typeof decide> }[] = [
    {
      name: 'a Reverting problem waits for revertAfter, its source saying RESOLVED being expected',
      input: input(reverting({ state: 'Waiting', dueTime: minutesAgo(-30) })),
      want: { kind: 'wait-revert', until: new Date(minutesAgo(-30)) },
    },
    {
      name: 'revertAfter has passed: the revert is committed',
      input: input(reverting({ state: 'Waiting', dueTime: minutesAgo(1) })),
      want: { kind: 'commit-revert' },
    },
    {
      name: 'a new open problem of the service calls the revert off',
      input: (() => {
        const p = reverting({ state: 'Waiting', dueTime: minutesAgo(1) });
        return input(p, { siblings: [p, problem('b', { status: { phase: 'Pending' } })] });
      })(),
      want: { kind: 'cancel-revert', why: 'problem b of the service is open' },
    },
    {
      name: 'another problem that is itself waiting to revert does not call it off',
      input: (() => {
        const p = reverting({ state: 'Waiting', dueTime: minutesAgo(1) });
        return input(p, { siblings: [p, { ...reverting({ state: 'Waiting' }), metadata: { name: 'b' } }] });
      })(),
      want: { kind: 'commit-revert' },
    },
    {
      name: 'a committed revert is applied, then evaluated when its wait is over, then restored if it failed',
      input: input(reverting({ state: 'Committed' })),
      want: { kind: 'apply-revert' },
    },
    {
      name: 'a revert handed to a GitOps engine waits until the engine reports it',
      input: input(reverting({ state: 'Committed', sync: { engine: 'argocd', requestedTime: minutesAgo(1) } })),
      want: { kind: 'wait-revert-sync' },
    },
    {
      name: 'an applied revert waits for its evaluation',
      input: input(reverting({ state: 'Applied', appliedTime: minutesAgo(1) }, { nextEvaluationTime: minutesAgo(-1) })),
      want: { kind: 'wait-revert', until: new Date(minutesAgo(-1)) },
    },
    {
      name: 'an applied revert whose wait is over is evaluated',
      input: input(reverting({ state: 'Applied', appliedTime: minutesAgo(3) }, { nextEvaluationTime: minutesAgo(1) })),
      want: { kind: 'evaluate-revert' },
    },
    {
      name: 'an applied revert whose workloads are rolling out waits for them first',
      input: input(
        reverting(
          { state: 'Applied', appliedTime: minutesAgo(3), rollout: { state: 'Progressing' } },
          { nextEvaluationTime: minutesAgo(1) },
        ),
      ),
      want: { kind: 'wait-revert-live' },
    },
    { name: 'a failed revert is restored', input: input(reverting({ state: 'Restoring' })), want: { kind: 'restore' } },
    {
      name: 'a Reverted problem is left alone',
      input: input(problem('a', { status: { phase: 'Reverted' } })),
      want: { kind: 'done', why: 'phase is Reverted' },
    },
    { name: 'a new problem starts attempt 1', input: input(problem('a')), want: { kind: 'start-attempt', index: 1 } },
    {
      name: 'a finished problem is left alone',
      input: input(problem('a', { status: { phase: 'Resolved' } })),
      want: { kind: 'done', why: 'phase is Resolved' },
    },
    {
      name: 'an exhausted problem stays exhausted even if its source resolves it',
      input: input(problem('a', { state: 'RESOLVED', status: { phase: 'Exhausted' } })),
      want: { kind: 'done', why: 'phase is Exhausted' },
    },
    {
      name: 'RESOLVED from the source stops the remediation',
      input: input(problem('a', { state: 'RESOLVED', status: { phase: 'Evaluating' } })),
      want: { kind: 'resolve-by-source' },
    },
    {
      name: 'a suspended problem waits for a person',
      input: input(problem('a', { suspend: true })),
      want: { kind: 'done', why: 'suspended by annotation' },
    },
    {
      name: 'a disabled stage does not act',
      input: input(problem('a'), { stage: { remediation: 'disabled' } }),
      want: { kind: 'unhandled-by-stage', mode: 'disabled' },
    },
    {
      name: 'a manual stage starts an attempt (it will wait for approval)',
      input: input(problem('a'), { stage: { remediation: 'manual' } }),
      want: { kind: 'start-attempt', index: 1 },
    },
    {
      name: 'an attempt waiting for approval waits until its deadline',
      input: input(
        problem('a', {
          status: {
            phase: 'AwaitingApproval',
            attempts: [
              attempt(1, { approval: { state: 'Pending', requestedTime: minutesAgo(1), deadline: minutesAgo(-9) } }),
            ],
          },
        }),
      ),
      want: { kind: 'await-approval', index: 1, until: new Date(minutesAgo(-9)) },
    },
    {
      name: 'an attempt waiting for approval without a timeout waits for people',
      input: input(
        problem('a', {
          status: {
            phase: 'AwaitingApproval',
            attempts: [attempt(1, { approval: { state: 'Pending', requestedTime: minutesAgo(1) } })],
          },
        }),
      ),
      want: { kind: 'await-approval', index: 1 },
    },
    {
      name: 'an unanswered approval past its deadline times out',
      input: input(
        problem('a', {
          status: {
            phase: 'AwaitingApproval',
            attempts: [
              attempt(1, { approval: { state: 'Pending', requestedTime: minutesAgo(11), deadline: minutesAgo(1) } }),
            ],
          },
        }),
      ),
      want: { kind: 'approval-timed-out', index: 1 },
    },
    {
      name: 'an approved attempt not yet committed starts for real, whatever the holds say',
      input: input(
        problem('a', {
          status: {
            phase: 'Remediating',
            attempts: [attempt(1, { approval: { state: 'Approved', requestedTime: minutesAgo(3) } })],
          },
        }),
        { holds: () => ({ kind: 'held', hold: { reason: 'DenyWindow', message: 'm' } }) },
      ),
      want: { kind: 'start-attempt', index: 1 },
    },
    {
      name: 'an approved and committed attempt is applied',
      input: input(
        problem('a', {
          status: {
            phase: 'Remediating',
            attempts: [attempt(1, { commit: 'abc', approval: { state: 'Approved', requestedTime: minutesAgo(3) } })],
          },
        }),
      ),
      want: { kind: 'apply-attempt', index: 1 },
    },
    {
      name: 'a Project rule holds a new attempt back',
      input: input(problem('a'), {
        holds: () => ({
          kind: 'held',
          hold: { reason: 'DenyWindow', message: 'freeze', until: new Date(minutesAgo(-30)) },
        }),
      }),
      want: { kind: 'held', reason: 'DenyWindow', message: 'freeze', until: new Date(minutesAgo(-30)) },
    },
    {
      name: 'break-glass starts the attempt and says which window it broke',
      input: input(problem('a'), { holds: () => ({ kind: 'break-glass', note: 'deny window freeze: entry x' }) }),
      want: { kind: 'start-attempt', index: 1, breakGlass: 'deny window freeze: entry x' },
    },
    {
      name: 'holds are not asked while an attempt is in progress',
      input: input(problem('a', { status: { phase: 'Remediating', attempts: [attempt(1, { commit: 'abc' })] } }), {
        holds: () => {
          throw new Error('asked');
        },
      }),
      want: { kind: 'apply-attempt', index: 1 },
    },
    {
      name: 'a committed but unapplied attempt is applied again (crash between push and apply)',
      input: input(
        problem('a', {
          status: { phase: 'Remediating', attempts: [attempt(1, { commit: 'abc', committedTime: minutesAgo(1) })] },
        }),
      ),
      want: { kind: 'apply-attempt', index: 1 },
    },
    {
      name: 'an attempt handed to a GitOps engine waits until the engine reports its commit',
      input: input(
        problem('a', {
          status: {
            phase: 'Remediating',
            attempts: [
              attempt(1, {
                commit: 'abc',
                sync: { engine: 'flux', objects: ['flux-system/carts'], requestedTime: minutesAgo(1) },
              }),
            ],
          },
        }),
      ),
      want: { kind: 'wait-sync', index: 1 },
    },
    {
      name: 'an applied attempt whose rollout runs waits until it is live',
      input: input(
        problem('a', {
          status: {
            phase: 'Remediating',
            attempts: [
              attempt(1, {
                appliedTime: minutesAgo(1),
                rollout: { state: 'Progressing', startedTime: minutesAgo(1) },
              }),
            ],
          },
        }),
      ),
      want: { kind: 'wait-live', index: 1 },
    },
    {
      name: 'the rollout comes before the sequence tasks after the action',
      input: input(
        problem('a', {
          status: {
            phase: 'Remediating',
            attempts: [attempt(1, { appliedTime: minutesAgo(1), rollout: { state: 'Progressing' } })],
          },
        }),
        {
          stage: {
            remediation: 'automated',
            sequence: { tasks: [{ name: 'test', delayMs: 0 }] },
          },
        },
      ),
      want: { kind: 'wait-live', index: 1 },
    },
    {
      name: 'a live attempt is evaluated from its live time, not its applied time',
      input: input(
        problem('a', {
          status: {
            phase: 'Evaluating',
            attempts: [
              attempt(1, {
                appliedTime: minutesAgo(10),
                liveTime: minutesAgo(-1),
                rollout: { state: 'Complete' },
              }),
            ],
          },
        }),
      ),
      want: { kind: 'wait-evaluation', index: 1, at: new Date(minutesAgo(-1)) },
    },
    {
      name: 'a synced attempt waits for its evaluation like any applied one',
      input: input(
        problem('a', {
          status: {
            phase: 'Evaluating',
            nextEvaluationTime: minutesAgo(-2),
            attempts: [attempt(1, { appliedTime: minutesAgo(0), sync: { engine: 'flux', syncedTime: minutesAgo(0) } })],
          },
        }),
      ),
      want: { kind: 'wait-evaluation', index: 1, at: new Date(minutesAgo(-2)) },
    },
    {
      name: 'an applied attempt waits for its evaluation time',
      input: input(
        problem('a', {
          status: {
            phase: 'Evaluating',
            nextEvaluationTime: minutesAgo(-2),
            attempts: [attempt(1, { appliedTime: minutesAgo(0) })],
          },
        }),
      ),
      want: { kind: 'wait-evaluation', index: 1, at: new Date(minutesAgo(-2)) },
    },
    {
      name: 'an applied attempt is evaluated once its wait is over',
      input: input(
        problem('a', {
          status: {
            phase: 'Evaluating',
            nextEvaluationTime: minutesAgo(1),
            attempts: [attempt(1, { appliedTime: minutesAgo(3) })],
          },
        }),
      ),
      want: { kind: 'evaluate', index: 1 },
    },
    {
      name: 'a failed evaluation escalates to the next attempt',
      input: input(
        problem('a', {
          status: { phase: 'Evaluating', attempts: [attempt(1, { appliedTime: minutesAgo(3), result: 'fail' })] },
        }),
      ),
      want: { kind: 'start-attempt', index: 2 },
    },
    {
      name: 'an action outside Git that is still running is run (or looked after) again',
      input: input(
        problem('a', {
          status: {
            phase: 'Remediating',
            attempts: [attempt(1, { action: 'webhook', execution: { id: 'x', state: 'Running' } })],
          },
        }),
      ),
      want: { kind: 'apply-attempt', index: 1 },
    },
    {
      name: 'an action waiting for its callback waits until its deadline',
      input: input(
        problem('a', {
          status: {
            phase: 'Remediating',
            attempts: [attempt(1, { execution: { id: 'x', state: 'Waiting', deadline: minutesAgo(-5) } })],
          },
        }),
      ),
      want: { kind: 'wait-action', index: 1, until: new Date(minutesAgo(-5)) },
    },
    {
      name: 'a callback that arrived completes the action',
      input: input(
        problem('a', {
          status: {
            phase: 'Remediating',
            attempts: [
              attempt(1, {
                execution: { id: 'x', state: 'Waiting', deadline: minutesAgo(-5), callbackStatus: 'failed' },
              }),
            ],
          },
        }),
      ),
      want: { kind: 'complete-action', index: 1 },
    },
    {
      name: 'a callback counts even before the loop recorded that the call went out',
      input: input(
        problem('a', {
          status: {
            phase: 'Remediating',
            attempts: [attempt(1, { execution: { id: 'x', state: 'Running', callbackStatus: 'succeeded' } })],
          },
        }),
      ),
      want: { kind: 'complete-action', index: 1 },
    },
    {
      name: 'no callback by the deadline times the action out',
      input: input(
        problem('a', {
          status: {
            phase: 'Remediating',
            attempts: [attempt(1, { execution: { id: 'x', state: 'Waiting', deadline: minutesAgo(0) } })],
          },
        }),
      ),
      want: { kind: 'action-timed-out', index: 1 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(decide(c.input)).toEqual(c.want));
  }

  it('leaves the turn to the claim: age in the cache decides nothing', () => {
    const older = problem('older', { created: minutesAgo(20) });
    const younger = problem('younger', { created: minutesAgo(5) });
    expect(decide(input(younger, { siblings: [younger, older] }))).toEqual({ kind: 'start-attempt', index: 1 });
    expect(decide(input(older, { siblings: [younger, older] }))).toEqual({ kind: 'start-attempt', index: 1 });
  });

  it('holds the cooldown after the last action on the service, across problems', () => {
    const done = problem('done', {
      status: { phase: 'Exhausted', attempts: [attempt(1, { appliedTime: minutesAgo(2), result: 'fail' })] },
    });
    const fresh = problem('fresh');
    expect(decide(input(fresh, { siblings: [fresh, done], limits: { cooldown: '5m' } }))).toEqual({
      kind: 'throttled',
      limit: 'cooldown',
      until: new Date(minutesAgo(-3)),
    });
  });
});

describe('needsTurn and actsOutside', () => {
  it('claims the turn for every step but finishing, and reads the claim fresh before acting outside the status', () => {
    const at = new Date(NOW);
    const table: [Parameters<typeof needsTurn>[0], boolean, boolean][] = [
      [{ kind: 'done', why: 'x' }, false, false],
      [{ kind: 'resolve-by-source' }, false, false],
      [{ kind: 'unhandled-by-stage', mode: 'disabled' }, false, false],
      [{ kind: 'throttled', limit: 'cooldown', until: at }, true, false],
      [{ kind: 'start-attempt', index: 1 }, true, true],
      [{ kind: 'apply-attempt', index: 1 }, true, true],
      [{ kind: 'wait-action', index: 1, until: at }, true, false],
      [{ kind: 'complete-action', index: 1 }, true, false],
      [{ kind: 'action-timed-out', index: 1 }, true, false],
      [{ kind: 'wait-evaluation', index: 1, at }, true, false],
      [{ kind: 'evaluate', index: 1 }, true, false],
      // The undo after resolve: a Reverting problem gave its turn back and takes none.
      [{ kind: 'wait-revert', until: at }, false, false],
      [{ kind: 'cancel-revert', why: 'x' }, false, false],
      [{ kind: 'commit-revert' }, false, false],
      [{ kind: 'apply-revert' }, false, false],
      [{ kind: 'wait-revert-sync' }, false, false],
      [{ kind: 'wait-revert-live' }, false, false],
      [{ kind: 'evaluate-revert' }, false, false],
      [{ kind: 'restore' }, false, false],
    ];
    for (const [decision, turn, outside] of table) {
      expect([decision.kind, needsTurn(decision), actsOutside(decision)]).toEqual([decision.kind, turn, outside]);
    }
  });
});

describe('heldByLimits', () => {
  const withCommits = (...minutes: number[]): ProblemEvent =>
    problem('x', {
      status: {
        phase: 'Exhausted',
        attempts: minutes.map((m, i) => attempt(i + 1, { committedTime: minutesAgo(m), appliedTime: minutesAgo(m) })),
      },
    });

  it('allows an action when the hourly budget has room', () => {
    expect(heldByLimits([withCommits(50, 40)], { maxActionsPerHour: 3 }, NOW)).toBeUndefined();
  });

  it('holds the action until the oldest counted action leaves the hour', () => {
    expect(heldByLimits([withCommits(50, 40, 30)], { maxActionsPerHour: 3 }, NOW)).toEqual({
      kind: 'throttled',
      limit: 'maxActionsPerHour',
      until: new Date(minutesAgo(-10)),
    });
  });

  it('counts actions outside Git (no commit) by when they started', () => {
    const p = problem('a', {
      status: {
        attempts: [
          attempt(1, {
            action: 'webhook',
            result: 'fail',
            execution: { id: 'x', state: 'Failed', startedTime: minutesAgo(5) },
          }),
        ],
      },
    });
    expect(heldByLimits([p], { maxActionsPerHour: 1 }, NOW)).toEqual({
      kind: 'throttled',
      limit: 'maxActionsPerHour',
      until: new Date(NOW.getTime() + 55 * 60_000),
    });
    expect(heldByLimits([p], { cooldown: '10m' }, NOW)).toEqual({
      kind: 'throttled',
      limit: 'cooldown',
      until: new Date(NOW.getTime() + 5 * 60_000),
    });
  });

  it('ignores actions older than an hour', () => {
    expect(heldByLimits([withCommits(90, 70, 61)], { maxActionsPerHour: 1 }, NOW)).toBeUndefined();
  });

  it('lets the next action go once the cooldown has passed', () => {
    expect(heldByLimits([withCommits(10)], { cooldown: '5m' }, NOW)).toBeUndefined();
  });
});
