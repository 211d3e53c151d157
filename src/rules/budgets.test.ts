import { describe, expect, it } from 'vitest';
import type { Phase, ProblemEvent, ProjectBudgets } from '../api/index.ts';
import { budgetHold } from './budgets.ts';
import type { BudgetInput } from './budgets.ts';

const NOW = new Date('2026-11-22T12:00:00Z');
const ago = (m: number): string => new Date(NOW.getTime() - m * 60_000).toISOString();

function p(
  name: string,
  opts: { stage?: string; phase?: Phase; started?: string[]; completed?: string; state?: 'OPEN' | 'RESOLVED' } = {},
): ProblemEvent {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: { name, namespace: 'sockshop' },
    spec: {
      project: 'sockshop',
      stage: opts.stage ?? 'production',
      service: name,
      problemTitle: 't',
      state: opts.state ?? 'OPEN',
    },
    status: {
      ...(opts.phase ? { phase: opts.phase } : {}),
      ...(opts.completed ? { completionTime: opts.completed } : {}),
      attempts: (opts.started ?? []).map((t, i) => ({ index: i + 1, action: 'scale', value: '+1', committedTime: t })),
    },
  };
}

const me = p('me');
const input = (projectProblems: ProblemEvent[], extra: Partial<BudgetInput> = {}): BudgetInput => ({
  problem: me,
  projectProblems: [me, ...projectProblems],
  budgets: undefined,
  breaker: undefined,
  resetAt: undefined,
  now: NOW,
  ...extra,
});
const budgets = (b: ProjectBudgets): Partial<BudgetInput> => ({ budgets: b });
const breaker = { breaker: { maxExhausted: 2, window: '1h' } };

describe('budgetHold', () => {
  const cases: { name: string; input: BudgetInput; want: ReturnType<typeof budgetHold> }[] = [
    { name: 'no budgets', input: input([p('a', { phase: 'Remediating' })]), want: undefined },
    {
      name: 'in flight below the maximum',
      input: input([p('a', { phase: 'Remediating' })], budgets({ maxInFlight: 2 })),
      want: undefined,
    },
    {
      name: 'in flight at the maximum',
      input: input(
        [p('a', { phase: 'Remediating' }), p('b', { phase: 'AwaitingApproval' })],
        budgets({ maxInFlight: 2 }),
      ),
      want: { rule: 'maxInFlight', inFlight: 2, max: 2 },
    },
    {
      name: 'pending, finished and resolved-by-source problems are not in flight',
      input: input(
        [
          p('a', { phase: 'Pending' }),
          p('b', { phase: 'Exhausted' }),
          p('c', { phase: 'Evaluating', state: 'RESOLVED' }),
        ],
        budgets({ maxInFlight: 1 }),
      ),
      want: undefined,
    },
    {
      name: 'the problem itself never counts',
      input: {
        ...input([], budgets({ maxInFlight: 1 })),
        problem: p('me', { phase: 'Remediating' }),
        projectProblems: [p('me', { phase: 'Remediating' })],
      },
      want: undefined,
    },
    {
      name: 'per stage: another stage does not count',
      input: input([p('a', { phase: 'Evaluating', stage: 'staging' })], budgets({ maxInFlightPerStage: 1 })),
      want: undefined,
    },
    {
      name: 'per stage: the same stage does',
      input: input([p('a', { phase: 'Evaluating' })], budgets({ maxInFlightPerStage: 1 })),
      want: { rule: 'maxInFlightPerStage', inFlight: 1, max: 1 },
    },
    {
      name: 'actions per hour below',
      input: input([p('a', { started: [ago(10)] })], budgets({ maxActionsPerHour: 2 })),
      want: undefined,
    },
    {
      name: 'actions per hour reached: until the oldest leaves the hour',
      input: input(
        [p('a', { started: [ago(50), ago(70)] }), p('b', { started: [ago(20)] })],
        budgets({ maxActionsPerHour: 2 }),
      ),
      want: { rule: 'maxActionsPerHour', count: 2, max: 2, until: new Date(new Date(ago(50)).getTime() + 3_600_000) },
    },
    {
      name: 'breaker: one Exhausted is not enough',
      input: input([p('a', { phase: 'Exhausted', completed: ago(5) })], breaker),
      want: undefined,
    },
    {
      name: 'breaker: two within the window open it',
      input: input(
        [p('a', { phase: 'Exhausted', completed: ago(50) }), p('b', { phase: 'Exhausted', completed: ago(5) })],
        breaker,
      ),
      want: { rule: 'circuitBreaker', count: 2, max: 2, window: '1h', since: new Date(ago(50)) },
    },
    {
      name: 'breaker: two further apart than the window do not',
      input: input(
        [p('a', { phase: 'Exhausted', completed: ago(130) }), p('b', { phase: 'Exhausted', completed: ago(5) })],
        breaker,
      ),
      want: undefined,
    },
    {
      name: 'breaker: stays open as they age (only a reset closes it)',
      input: input(
        [p('a', { phase: 'Exhausted', completed: ago(600) }), p('b', { phase: 'Exhausted', completed: ago(590) })],
        breaker,
      ),
      want: { rule: 'circuitBreaker', count: 2, max: 2, window: '1h', since: new Date(ago(600)) },
    },
    {
      name: 'breaker: a reset after them closes it',
      input: input(
        [p('a', { phase: 'Exhausted', completed: ago(50) }), p('b', { phase: 'Exhausted', completed: ago(5) })],
        { ...breaker, resetAt: ago(1) },
      ),
      want: undefined,
    },
    {
      name: 'breaker: a reset between them leaves one',
      input: input(
        [p('a', { phase: 'Exhausted', completed: ago(50) }), p('b', { phase: 'Exhausted', completed: ago(5) })],
        { ...breaker, resetAt: ago(10) },
      ),
      want: undefined,
    },
    {
      name: 'breaker: an unreadable reset is ignored',
      input: input(
        [p('a', { phase: 'Exhausted', completed: ago(50) }), p('b', { phase: 'Exhausted', completed: ago(5) })],
        { ...breaker, resetAt: 'yesterday' },
      ),
      want: { rule: 'circuitBreaker', count: 2, max: 2, window: '1h', since: new Date(ago(50)) },
    },
    {
      name: 'breaker before budgets',
      input: input(
        [
          p('a', { phase: 'Exhausted', completed: ago(50) }),
          p('b', { phase: 'Exhausted', completed: ago(5) }),
          p('c', { phase: 'Remediating' }),
        ],
        { ...breaker, budgets: { maxInFlight: 1 } },
      ),
      want: { rule: 'circuitBreaker', count: 2, max: 2, window: '1h', since: new Date(ago(50)) },
    },
  ];
  it.each(cases)('$name', ({ input: i, want }) => {
    expect(budgetHold(i)).toEqual(want);
  });
});
