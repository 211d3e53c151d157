import { describe, expect, it } from 'vitest';
import type { Attempt, ProblemEvent } from '../../src/api/index.ts';
import { TimelineTracker, changedLines, formatLine, formatStep } from './demo-timeline.ts';

function problem(status?: ProblemEvent['status']): ProblemEvent {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: {
      name: 'am-carts-0123456789ab',
      namespace: 'sockshop',
      labels: { 'rebound.dev/source': 'alertmanager' },
    },
    spec: {
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      problemTitle: 'Response time degradation',
      state: 'OPEN',
    },
    ...(status ? { status } : {}),
  };
}

const scale: Attempt = {
  index: 1,
  action: 'scale',
  value: '+1',
  branch: 'production',
  commit: 'a'.repeat(40),
  path: 'carts/values.yaml',
  committedTime: '2026-01-01T00:00:01Z',
};
const toggle: Attempt = {
  index: 2,
  action: 'featuretoggle',
  value: 'EnablePromotion:off',
  branch: 'production',
  commit: 'b'.repeat(40),
  committedTime: '2026-01-01T00:00:08Z',
};

describe('TimelineTracker', () => {
  it('tells each step once, in order, also when one snapshot carries several steps', () => {
    const tracker = new TimelineTracker({ actionCount: 2 });
    const kinds = (p: ProblemEvent): string[] =>
      tracker.observe(p).map((s) => ('attempt' in s ? `${s.kind}:${String(s.attempt)}` : s.kind));

    expect(kinds(problem())).toEqual(['received']);
    expect(kinds(problem({ phase: 'Pending' }))).toEqual([]);
    const policySource = {
      kind: 'Git' as const,
      branch: 'production',
      path: 'carts/remediation.yaml',
      problemType: 'Response time degradation',
      match: 'problemTitle' as const,
    };
    expect(kinds(problem({ phase: 'Remediating', policySource, attempts: [scale] }))).toEqual([
      'policy',
      'committed:1',
    ]);
    // Applied, evaluated as failing and the next action committed, all seen in one poll.
    const failed = {
      ...scale,
      appliedTime: '2026-01-01T00:00:02Z',
      helmRevision: 2,
      result: 'fail' as const,
      score: 0,
      indicatorResults: [{ metric: 'response_time_p95', value: 636, status: 'fail' as const }],
    };
    expect(kinds(problem({ phase: 'Remediating', policySource, attempts: [failed, toggle] }))).toEqual([
      'applied:1',
      'evaluated:1',
      'escalated',
      'committed:2',
    ]);
    const passed = {
      ...toggle,
      appliedTime: '2026-01-01T00:00:09Z',
      helmRevision: 3,
      result: 'pass' as const,
      score: 100,
    };
    const conditions = [
      {
        type: 'Ready',
        status: 'True' as const,
        reason: 'EvaluationPassed',
        message: 'attempt 2 passed',
        lastTransitionTime: '2026-01-01T00:00:15Z',
      },
    ];
    const resolved = problem({ phase: 'Resolved', policySource, attempts: [failed, passed], conditions });
    const last = tracker.observe(resolved);
    expect(last.map((s) => s.kind)).toEqual(['applied', 'evaluated', 'finished']);
    expect(last[2]).toEqual({
      kind: 'finished',
      phase: 'Resolved',
      reason: 'EvaluationPassed',
      message: 'attempt 2 passed',
    });
    expect(tracker.observe(resolved)).toEqual([]);
  });

  /** The steps of one attempt that is live, and its rolled-out step as printed at `elapsedMs`. */
  const rolledOut = (attempt: Attempt, elapsedMs: number): { kinds: string[]; line: string[] } => {
    const steps = new TimelineTracker().observe(problem({ phase: 'Evaluating', attempts: [attempt] }));
    const rolled = steps.find((s) => s.kind === 'rolled-out');
    if (!rolled) throw new Error('no rolled-out step');
    return { kinds: steps.map((s) => s.kind), line: formatStep(rolled, { elapsedMs }) };
  };
  const complete = { state: 'Complete' as const, replicas: 2, readyReplicas: 2 };

  it('tells the rollout once the change is live, with its duration and Ready pods', () => {
    const { kinds, line } = rolledOut(
      { ...scale, appliedTime: '2026-01-01T00:00:02Z', liveTime: '2026-01-01T00:00:03.4Z', rollout: complete },
      4_000,
    );
    expect(kinds).toEqual(['received', 'committed', 'applied', 'rolled-out']);
    expect(line).toEqual([formatLine(4_000, 'rolled out', 'in 1.4s after the apply: 2/2 pods Ready')]);
  });

  it('counts the rollout from the push when an engine applied the change, as it reports once healthy', () => {
    const { line } = rolledOut(
      {
        ...scale,
        committedTime: '2026-01-01T00:00:01Z',
        appliedTime: '2026-01-01T00:00:07.9Z',
        liveTime: '2026-01-01T00:00:08Z',
        sync: { engine: 'flux', revision: 'main@sha1:' + 'c0ffee'.repeat(6) + 'c0ff' },
        rollout: complete,
      },
      9_000,
    );
    expect(line).toEqual([formatLine(9_000, 'rolled out', 'in 7.0s after the push: 2/2 pods Ready')]);
  });

  it('tells which engine reported the commit with apply: argocd and flux', () => {
    const sha = 'c0ffee'.repeat(6) + 'c0ff';
    const synced = (engine: 'argocd' | 'flux', revision: string): string[] => {
      const tracker = new TimelineTracker();
      const attempt = { ...scale, appliedTime: '2026-01-01T00:00:02Z', sync: { engine, revision } };
      const step = tracker
        .observe(problem({ phase: 'Evaluating', attempts: [attempt] }))
        .find((s) => s.kind === 'applied');
      if (!step) throw new Error('no applied step');
      return formatStep(step, { elapsedMs: 2_000 });
    };
    expect(synced('argocd', sha)).toEqual([formatLine(2_000, 'applied', `synced by Argo CD at ${sha.slice(0, 12)}`)]);
    expect(synced('flux', `production@sha1:${sha}`)).toEqual([
      formatLine(2_000, 'applied', `applied by Flux at ${sha.slice(0, 12)}`),
    ]);
  });

  it('does not tell a commit before the attempt has one, nor a final phase before there is one', () => {
    const tracker = new TimelineTracker();
    tracker.observe(problem());
    expect(
      tracker.observe(problem({ phase: 'Remediating', attempts: [{ index: 1, action: 'scale', value: '+1' }] })),
    ).toEqual([]);
    expect(
      tracker.observe(problem({ phase: 'Exhausted', attempts: [{ ...scale, result: 'fail' }] })).map((s) => s.kind),
    ).toEqual(['committed', 'evaluated', 'finished']);
  });
});

describe('formatStep', () => {
  it('shows the commit with its changed lines under it, and the evaluation with score and values', () => {
    const committed = formatStep(
      {
        kind: 'committed',
        attempt: 1,
        total: 2,
        action: 'scale',
        value: '+1',
        commit: 'a'.repeat(40),
        branch: 'production',
        path: 'carts/values.yaml',
      },
      { elapsedMs: 1_740, diff: ['-replicaCount: 1', '+replicaCount: 2'] },
    );
    expect(committed[0]).toBe(
      '  +1.7s   action 1 of 2 committed   scale +1: aaaaaaaaaaaa on production (carts/values.yaml)',
    );
    expect(committed.slice(1).map((l) => l.trim())).toEqual(['-replicaCount: 1', '+replicaCount: 2']);
    expect(committed[1]?.indexOf('-')).toBe(committed[0]?.indexOf('scale'));

    const evaluated = formatStep(
      {
        kind: 'evaluated',
        attempt: 1,
        result: 'fail',
        score: 0,
        indicators: [{ metric: 'response_time_p95', value: 636, status: 'fail' }],
      },
      { elapsedMs: 12_345 },
    );
    expect(evaluated).toEqual([' +12.3s   evaluated                 fail, score 0%: response_time_p95 = 636 (fail)']);
  });
});

describe('changedLines', () => {
  it('keeps the removed and added lines of git show, not the file headers', () => {
    const show = [
      'diff --git a/carts/values.yaml b/carts/values.yaml',
      'index 1..2 100644',
      '--- a/carts/values.yaml',
      '+++ b/carts/values.yaml',
      '@@ -3 +3 @@',
      '-replicaCount: 1',
      '+replicaCount: 2',
      '',
    ].join('\n');
    expect(changedLines(show)).toEqual(['-replicaCount: 1', '+replicaCount: 2']);
  });
});
