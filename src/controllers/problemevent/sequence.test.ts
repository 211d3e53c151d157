import { describe, expect, it } from 'vitest';
import type { Attempt, RemediationTaskSpec, SequenceTaskRun } from '../../api/index.ts';
import { decide } from './decide.ts';
import type { DecisionInput } from './decide.ts';
import { evaluationWindow, taskDecision } from './sequence.ts';
import type { RemediationSequence } from '../../remediation/stage.ts';
import { remediationSequence } from './shipyard-sequence.ts';

/** Seed 001's production remediation sequence (the Keptn full tour). */
const SEED_001: RemediationTaskSpec[] = [
  { name: 'get-action' },
  { name: 'action' },
  { name: 'je-test' },
  { name: 'evaluation', properties: { timeframe: '2m' } },
];

describe('remediationSequence', () => {
  it.each<{ name: string; tasks: RemediationTaskSpec[] | undefined; want: RemediationSequence }>([
    {
      name: 'seed 001: je-test between the action and the evaluation, a 2m timeframe',
      tasks: SEED_001,
      want: { tasks: [{ name: 'je-test', delayMs: 0 }], timeframeMs: 120_000 },
    },
    { name: 'no sequence (the Project lists its stages)', tasks: undefined, want: { tasks: [] } },
    {
      name: 'the recommended sequence: nothing to dispatch, the evaluation waits 10m',
      tasks: [
        { name: 'get-action' },
        { name: 'action' },
        { name: 'evaluation', triggeredAfter: '10m', properties: { timeframe: '10m' } },
      ],
      want: { tasks: [], evaluationWaitMs: 600_000, timeframeMs: 600_000 },
    },
    {
      name: 'several tasks in order, with their triggeredAfter and properties',
      tasks: [
        { name: 'get-action' },
        { name: 'action' },
        { name: 'warm-up', triggeredAfter: '30s' },
        { name: 'je-test', properties: { users: 5 } },
        { name: 'evaluation' },
      ],
      want: {
        tasks: [
          { name: 'warm-up', delayMs: 30_000 },
          { name: 'je-test', delayMs: 0, properties: { users: 5 } },
        ],
      },
    },
    {
      name: 'tasks before the action and after the evaluation are not run',
      tasks: [{ name: 'notify' }, { name: 'action' }, { name: 'je-test' }, { name: 'evaluation' }, { name: 'release' }],
      want: { tasks: [{ name: 'je-test', delayMs: 0 }] },
    },
    {
      name: 'an approval after the action is for a person, never dispatched, and holds nothing back',
      tasks: [{ name: 'action' }, { name: 'approval' }, { name: 'je-test' }, { name: 'evaluation' }],
      want: { tasks: [{ name: 'je-test', delayMs: 0 }] },
    },
    {
      name: 'an approval before the action holds it back; a missing or unknown setting is manual',
      tasks: [
        { name: 'get-action' },
        { name: 'approval', properties: { pass: 'automatic', warning: 'ask' } },
        { name: 'action' },
        { name: 'evaluation' },
      ],
      want: { approval: { pass: 'automatic', warning: 'manual' }, tasks: [] },
    },
    {
      name: 'an approval without properties waits for people whatever the result',
      tasks: [{ name: 'approval' }, { name: 'get-action' }, { name: 'action' }],
      want: { approval: { pass: 'manual', warning: 'manual' }, tasks: [] },
    },
    {
      name: 'no action task: an approval before the evaluation holds the action back',
      tasks: [{ name: 'get-action' }, { name: 'approval', properties: { pass: 'manual' } }, { name: 'evaluation' }],
      want: { approval: { pass: 'manual', warning: 'manual' }, tasks: [] },
    },
    {
      name: 'no action task: what follows get-action',
      tasks: [{ name: 'get-action' }, { name: 'je-test' }, { name: 'evaluation' }],
      want: { tasks: [{ name: 'je-test', delayMs: 0 }] },
    },
    {
      name: 'no evaluation task: every task after the action',
      tasks: [{ name: 'action' }, { name: 'je-test' }],
      want: { tasks: [{ name: 'je-test', delayMs: 0 }] },
    },
    {
      name: 'a timeframe that is not a duration is left out',
      tasks: [{ name: 'action' }, { name: 'evaluation', properties: { timeframe: '2 minutes' } }],
      want: { tasks: [] },
    },
    {
      name: 'a timeframe that is not a string is left out',
      tasks: [{ name: 'action' }, { name: 'evaluation', properties: { timeframe: 120 } }],
      want: { tasks: [] },
    },
  ])('$name', ({ tasks, want }) => {
    expect(remediationSequence(tasks)).toEqual(want);
  });
});

const APPLIED = '2026-11-22T12:00:00.000Z';
const at = (iso: string): Date => new Date(iso);
const SEQUENCE: RemediationSequence = {
  tasks: [
    { name: 'warm-up', delayMs: 30_000 },
    { name: 'je-test', delayMs: 0 },
  ],
};
const run = (name: string, fields: Partial<SequenceTaskRun> & Pick<SequenceTaskRun, 'state'>): SequenceTaskRun => ({
  name,
  id: `ns~p~1~uid~${name}`,
  ...fields,
});
const attempt = (tasks?: SequenceTaskRun[]): Attempt => ({
  index: 1,
  action: 'scale',
  value: '2',
  appliedTime: APPLIED,
  ...(tasks ? { tasks } : {}),
});

describe('taskDecision', () => {
  it.each<{ name: string; attempt: Attempt; now: string; want: ReturnType<typeof taskDecision> }>([
    {
      name: 'the first task waits for its triggeredAfter from the action',
      attempt: attempt(),
      now: '2026-11-22T12:00:10Z',
      want: { kind: 'wait-task', index: 1, task: 'warm-up', until: at('2026-11-22T12:00:30Z') },
    },
    {
      name: 'then it is sent',
      attempt: attempt(),
      now: '2026-11-22T12:00:30Z',
      want: { kind: 'run-task', index: 1, task: 'warm-up' },
    },
    {
      name: 'a recorded task that is not sent yet: the step sends it',
      attempt: attempt([run('warm-up', { state: 'Running' })]),
      now: '2026-11-22T12:01:00Z',
      want: { kind: 'run-task', index: 1, task: 'warm-up' },
    },
    {
      name: 'a sent task waits for its executor until its deadline',
      attempt: attempt([run('warm-up', { state: 'Waiting', deadline: '2026-11-22T12:30:00Z' })]),
      now: '2026-11-22T12:01:00Z',
      want: { kind: 'wait-task', index: 1, task: 'warm-up', until: at('2026-11-22T12:30:00Z') },
    },
    {
      name: 'past its deadline: the step fails it',
      attempt: attempt([run('warm-up', { state: 'Waiting', deadline: '2026-11-22T12:30:00Z' })]),
      now: '2026-11-22T12:30:00Z',
      want: { kind: 'run-task', index: 1, task: 'warm-up' },
    },
    {
      name: 'an answer before the deadline: the step records it',
      attempt: attempt([
        run('warm-up', { state: 'Waiting', deadline: '2026-11-22T12:30:00Z', callbackStatus: 'succeeded' }),
      ]),
      now: '2026-11-22T12:01:00Z',
      want: { kind: 'run-task', index: 1, task: 'warm-up' },
    },
    {
      name: 'an answer that overtook the record of the send',
      attempt: attempt([run('warm-up', { state: 'Running', callbackStatus: 'failed' })]),
      now: '2026-11-22T12:01:00Z',
      want: { kind: 'run-task', index: 1, task: 'warm-up' },
    },
    {
      name: 'the next task follows a succeeded one (no delay of its own)',
      attempt: attempt([run('warm-up', { state: 'Succeeded', finishedTime: '2026-11-22T12:02:00Z' })]),
      now: '2026-11-22T12:02:00Z',
      want: { kind: 'run-task', index: 1, task: 'je-test' },
    },
    {
      name: 'all succeeded: the evaluation is next',
      attempt: attempt([run('warm-up', { state: 'Succeeded' }), run('je-test', { state: 'Succeeded' })]),
      now: '2026-11-22T12:05:00Z',
      want: undefined,
    },
  ])('$name', ({ attempt: a, now, want }) => {
    expect(taskDecision(a, SEQUENCE, new Date(now))).toEqual(want);
  });

  it('decides nothing without a sequence or tasks', () => {
    expect(taskDecision(attempt(), undefined, new Date(APPLIED))).toBeUndefined();
    expect(taskDecision(attempt(), { tasks: [], timeframeMs: 60_000 }, new Date(APPLIED))).toBeUndefined();
  });
});

describe('decide with a sequence', () => {
  const problem = (a: Attempt, nextEvaluationTime?: string): DecisionInput['problem'] => ({
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: { name: 'p', namespace: 'ns', uid: 'uid' },
    spec: { project: 'sockshop', stage: 'production', service: 'carts', problemTitle: 't', state: 'OPEN' },
    status: { phase: 'Remediating', attempts: [a], ...(nextEvaluationTime ? { nextEvaluationTime } : {}) },
  });
  const input = (a: Attempt, now: string, nextEvaluationTime?: string): DecisionInput => {
    const p = problem(a, nextEvaluationTime);
    return {
      problem: p,
      siblings: [p],
      now: new Date(now),
      stage: { remediation: 'automated', sequence: SEQUENCE },
      limits: undefined,
    };
  };

  it('runs the tasks between the applied action and the evaluation', () => {
    expect(decide(input(attempt(), '2026-11-22T12:00:30Z'))).toEqual({ kind: 'run-task', index: 1, task: 'warm-up' });
    const done = attempt([run('warm-up', { state: 'Succeeded' }), run('je-test', { state: 'Succeeded' })]);
    expect(decide(input(done, '2026-11-22T12:05:00Z', '2026-11-22T12:06:00Z'))).toEqual({
      kind: 'wait-evaluation',
      index: 1,
      at: at('2026-11-22T12:06:00Z'),
    });
    expect(decide(input(done, '2026-11-22T12:06:00Z', '2026-11-22T12:06:00Z'))).toEqual({ kind: 'evaluate', index: 1 });
  });

  it('a failed task has failed the attempt: the next action comes', () => {
    const failed = { ...attempt([run('warm-up', { state: 'Failed' })]), result: 'fail' as const };
    expect(decide(input(failed, '2026-11-22T12:05:00Z'))).toEqual({ kind: 'start-attempt', index: 2 });
  });
});

describe('evaluationWindow', () => {
  const now = new Date('2026-11-22T12:10:00Z');
  it('reaches back the timeframe from the evaluation', () => {
    expect(evaluationWindow(attempt(), now, { tasks: [], timeframeMs: 120_000 })).toEqual({
      start: new Date('2026-11-22T12:08:00Z'),
      end: now,
    });
  });
  it('without a timeframe, runs from when the action took effect', () => {
    expect(evaluationWindow(attempt(), now, { tasks: [] })).toEqual({ start: new Date(APPLIED), end: now });
    expect(evaluationWindow(attempt(), now, undefined)).toEqual({ start: new Date(APPLIED), end: now });
  });
  it('after a rollout, runs from when the change was live, not from the apply', () => {
    const liveTime = '2026-11-22T12:01:30Z';
    expect(evaluationWindow({ ...attempt(), liveTime }, now, { tasks: [] })).toEqual({
      start: new Date(liveTime),
      end: now,
    });
  });
});
