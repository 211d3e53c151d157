import { describe, expect, it } from 'vitest';
import type { ProblemEvent, Project, Remediation } from '../api/index.ts';
import { breakGlass, holdFor } from './holds.ts';

const NOW = new Date('2026-11-21T12:00:00Z'); // a Saturday
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
const project = (spec: Partial<Project['spec']>, annotations?: Record<string, string>): Project => ({
  apiVersion: 'rebound.dev/v1alpha1',
  kind: 'Project',
  metadata: { name: 'sockshop', namespace: 'sockshop', ...(annotations ? { annotations } : {}) },
  spec: { git: { url: 'http://x/y.git' }, ...spec },
});
const weekend = { windows: [{ name: 'weekend', schedule: '0 18 * * fri', duration: '60h' }] };
const remediation = (breakGlassSpec?: { severities?: string[] }): Remediation => ({
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
        ...(breakGlassSpec ? { breakGlass: breakGlassSpec } : {}),
      },
    ],
  },
});

describe('holdFor', () => {
  it('is open with no rules', () => {
    expect(
      holdFor({ problem: problem(), project: project({}), projectProblems: [], remediation: undefined, now: NOW }),
    ).toEqual({ kind: 'none' });
  });

  it("reads the Project's problems only for a rule that counts them", () => {
    let reads = 0;
    const input = (spec: Parameters<typeof project>[0]): Parameters<typeof holdFor>[0] => ({
      problem: problem(),
      project: project(spec),
      get projectProblems() {
        reads++;
        return [];
      },
      remediation: undefined,
      now: NOW,
    });
    expect(holdFor(input(weekend)).kind).toBe('held');
    expect(reads).toBe(0);
    expect(holdFor(input({ budgets: { maxInFlight: 1 } }))).toEqual({ kind: 'none' });
    expect(reads).toBe(1);
  });

  it('names the window and until when', () => {
    const out = holdFor({
      problem: problem(),
      project: project(weekend),
      projectProblems: [],
      remediation: undefined,
      now: NOW,
    });
    expect(out).toEqual({
      kind: 'held',
      hold: {
        reason: 'DenyWindow',
        message:
          'deny window weekend (since 2026-11-20T18:00:00.000Z, until 2026-11-23T06:00:00.000Z) holds automated actions back in stage production',
        until: new Date('2026-11-23T06:00:00Z'),
      },
    });
  });

  it('lets a policy entry break the glass for a listed severity, and only for it', () => {
    const glass = holdFor({
      problem: problem('critical'),
      project: project(weekend),
      projectProblems: [],
      remediation: remediation({ severities: ['critical'] }),
      now: NOW,
    });
    expect(glass).toEqual({
      kind: 'break-glass',
      note: 'deny window weekend (since 2026-11-20T18:00:00.000Z, until 2026-11-23T06:00:00.000Z): break-glass by entry "response_time_p90" of Remediation carts (severity critical)',
    });
    const warning = holdFor({
      problem: problem('warning'),
      project: project(weekend),
      projectProblems: [],
      remediation: remediation({ severities: ['critical'] }),
      now: NOW,
    });
    expect(warning.kind).toBe('held');
  });

  it('breaks the glass for every problem of an entry without severities; not without breakGlass', () => {
    expect(breakGlass({ problem: problem(), remediation: remediation({}) })).toContain('every problem it matches');
    expect(breakGlass({ problem: problem('critical'), remediation: remediation() })).toBeUndefined();
    expect(breakGlass({ problem: problem('critical'), remediation: undefined })).toBeUndefined();
  });

  it('holds with the circuit breaker before any window, and says how to reset it', () => {
    const exhausted = (name: string, at: string): ProblemEvent => ({
      ...problem(),
      metadata: { name, namespace: 'sockshop' },
      status: { phase: 'Exhausted', completionTime: at },
    });
    const out = holdFor({
      problem: problem(),
      project: project({ ...weekend, circuitBreaker: { maxExhausted: 1, window: '1h' } }),
      projectProblems: [exhausted('x', '2026-11-21T11:00:00Z')],
      remediation: remediation({}),
      now: NOW,
    });
    expect(out.kind === 'held' && out.hold.reason).toBe('CircuitOpen');
    expect(out.kind === 'held' && out.hold.message).toContain('rebound.dev/circuit-reset=');
  });
});
