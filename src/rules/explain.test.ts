import { describe, expect, it } from 'vitest';
import type { ProblemEvent, Project, Remediation } from '../api/index.ts';
import { explainRules } from './explain.ts';
import type { ExplainInput } from './explain.ts';

const SATURDAY = new Date('2026-11-21T12:00:00Z');
const WEDNESDAY = new Date('2026-11-18T12:00:00Z');
const problem = (severity?: string): ProblemEvent => ({
  apiVersion: 'rebound.dev/v1alpha1',
  kind: 'ProblemEvent',
  metadata: { name: 'p1', namespace: 'sockshop' },
  spec: {
    project: 'sockshop',
    stage: 'production',
    service: 'carts',
    problemTitle: 'response_time_p90',
    state: 'OPEN',
    ...(severity ? { details: { labels: { severity } } } : {}),
  },
});
const project = (spec: Partial<Project['spec']>): Project => ({
  apiVersion: 'rebound.dev/v1alpha1',
  kind: 'Project',
  metadata: { name: 'sockshop', namespace: 'sockshop' },
  spec: { git: { url: 'http://x/y.git' }, ...spec },
});
const weekend = [{ name: 'weekend', schedule: '0 18 * * fri', duration: '60h' }];
const critical: Remediation = {
  apiVersion: 'rebound.dev/v1alpha1',
  kind: 'Remediation',
  metadata: { name: 'carts' },
  spec: {
    project: 'sockshop',
    stage: 'production',
    service: 'carts',
    remediations: [
      {
        problemType: 'response_time_p90',
        actionsOnOpen: [{ name: 's', action: 'scale', value: '+1' }],
        breakGlass: { severities: ['critical'] },
      },
    ],
  },
};
const input = (over: Partial<ExplainInput> = {}): ExplainInput => ({
  problem: problem(),
  project: project({}),
  stage: { name: 'production', branch: 'production', remediation: 'automated' },
  action: {},
  attempt: 1,
  remediation: undefined,
  projectProblems: [],
  now: WEDNESDAY,
  ...over,
});

describe('explainRules: approval', () => {
  it('an automated stage and a plain action do not wait', () => {
    expect(explainRules(input()).approval).toEqual({ waits: false });
  });

  it('a manual stage waits, for whom and how long the Project says', () => {
    const out = explainRules(
      input({
        stage: { name: 'production', branch: 'production', remediation: 'manual' },
        project: project({ approval: { minApprovals: 2, groups: ['sre'], timeout: '1h', onTimeout: 'Escalate' } }),
        attempt: 2,
      }),
    );
    expect(out.approval).toEqual({
      waits: true,
      why: 'stage production is manual: every action waits for approval',
      mode: 'approvals',
      minApprovals: 2,
      groups: ['sre'],
      timeout: '1h',
      onTimeout: 'Escalate',
      who: 'people RBAC lets create Approvals in namespace sockshop (ClusterRole rebound-approver), counted only when in sre',
      answer: '0 of 2 approval(s) from members of sre: rebound approve p1 -n sockshop --attempt 2 (or rebound reject)',
    });
  });

  it('a policy entry that requires approval, answered by merging in merge mode', () => {
    const out = explainRules(
      input({ action: { approval: 'required' }, project: project({ approval: { mode: 'merge' } }) }),
    );
    expect(out.approval).toMatchObject({
      waits: true,
      why: 'action 1 of the policy requires approval',
      mode: 'merge',
      minApprovals: 1,
      groups: [],
      timeout: null,
      who: 'whoever the forge lets merge into production (its branch protection and required reviews)',
      answer: 'merge the proposal branch rebound/p1/1 into production (closing its pull request rejects)',
    });
  });

  it("the shipyard's approval task: waits on manual, not on automatic", () => {
    const gated = (pass: 'automatic' | 'manual') =>
      input({
        stage: {
          name: 'production',
          branch: 'production',
          remediation: 'automated',
          sequence: { approval: { pass, warning: 'manual' } },
        },
      });
    expect(explainRules(gated('manual')).approval).toMatchObject({
      waits: true,
      why: 'the remediation sequence of stage production has an approval task (pass: manual)',
    });
    expect(explainRules(gated('automatic')).approval).toEqual({ waits: false });
  });

  it('no action planned: nothing to approve', () => {
    expect(explainRules(input({ action: undefined })).approval).toEqual({ waits: false });
  });
});

describe('explainRules: windows', () => {
  it('open, with the next window covering the stage', () => {
    const out = explainRules(input({ project: project({ windows: weekend }) }));
    expect(out.window).toEqual({
      state: 'open',
      window: null,
      since: null,
      until: null,
      breakGlass: null,
      next: { window: 'weekend', opens: '2026-11-20T18:00:00.000Z', closes: '2026-11-23T06:00:00.000Z' },
      message:
        'no deny window is active; next deny window weekend opens 2026-11-20T18:00:00.000Z and closes 2026-11-23T06:00:00.000Z',
    });
    expect(out.hold).toBeNull();
  });

  it('denied: until when, the next one after it, and the hold the loop would record', () => {
    const out = explainRules(input({ project: project({ windows: weekend }), now: SATURDAY }));
    expect(out.window).toMatchObject({
      state: 'denied',
      window: 'weekend',
      since: '2026-11-20T18:00:00.000Z',
      until: '2026-11-23T06:00:00.000Z',
      breakGlass: null,
      next: { window: 'weekend', opens: '2026-11-27T18:00:00.000Z' },
    });
    expect(out.hold).toEqual({
      reason: 'DenyWindow',
      message:
        'deny window weekend (since 2026-11-20T18:00:00.000Z, until 2026-11-23T06:00:00.000Z) holds automated actions back in stage production',
      until: '2026-11-23T06:00:00.000Z',
    });
  });

  it('denied, but the policy breaks the glass for a critical problem: no hold', () => {
    const out = explainRules(
      input({
        project: project({ windows: weekend }),
        now: SATURDAY,
        problem: problem('critical'),
        remediation: critical,
      }),
    );
    expect(out.window.breakGlass).toBe(
      'break-glass by entry "response_time_p90" of Remediation carts (severity critical)',
    );
    expect(out.window.message).toContain('but break-glass by entry "response_time_p90"');
    expect(out.hold).toBeNull();
    // A warning is not critical: held.
    const warning = explainRules(
      input({
        project: project({ windows: weekend }),
        now: SATURDAY,
        problem: problem('warning'),
        remediation: critical,
      }),
    );
    expect(warning.window.breakGlass).toBeNull();
    expect(warning.hold?.reason).toBe('DenyWindow');
  });

  it('a malformed window is invalid and holds everything back', () => {
    const out = explainRules(
      input({ project: project({ windows: [{ name: 'bad', schedule: '61 * * * *', duration: '1h' }] }) }),
    );
    expect(out.window.state).toBe('invalid');
    expect(out.window.window).toBe('bad');
    expect(out.hold?.reason).toBe('WindowInvalid');
  });

  it('windows of other stages do not cover this one', () => {
    const out = explainRules(
      input({ project: project({ windows: [{ ...weekend[0]!, stages: ['staging'] }] }), now: SATURDAY }),
    );
    expect(out.window).toMatchObject({ state: 'open', next: null, message: 'no deny window covers stage production' });
  });
});

describe('explainRules: budgets and the circuit breaker', () => {
  const other = (
    name: string,
    phase: NonNullable<NonNullable<ProblemEvent['status']>['phase']>,
    completionTime?: string,
  ): ProblemEvent => ({
    ...problem(),
    metadata: { name, namespace: 'sockshop' },
    status: { phase, ...(completionTime ? { completionTime } : {}) },
  });

  it('in flight elsewhere in the Project: held by maxInFlight until one finishes', () => {
    const out = explainRules(
      input({ project: project({ budgets: { maxInFlight: 1 } }), projectProblems: [other('q', 'Remediating')] }),
    );
    expect(out.hold).toEqual({
      reason: 'InFlightLimitReached',
      message: 'budgets.maxInFlight: 1 of 1 remediation(s) in flight in Project sockshop; waiting until one finishes',
      until: null,
    });
  });

  it('an open breaker holds back first, even outside windows', () => {
    const out = explainRules(
      input({
        project: project({ circuitBreaker: { maxExhausted: 1, window: '1h' }, windows: weekend }),
        projectProblems: [other('q', 'Exhausted', '2026-11-18T11:30:00Z')],
      }),
    );
    expect(out.hold?.reason).toBe('CircuitOpen');
    expect(out.hold?.message).toContain('circuit breaker of Project sockshop is open');
    expect(out.window.state).toBe('open');
  });
});
