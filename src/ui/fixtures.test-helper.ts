// Fakes for the UI's tests and bench: a cache of generated ProblemEvents and an API server stand-in
// that knows two tokens (an admin who may do anything, a viewer who may read).
import type { ProblemEvent } from '../api/types.ts';
import { PHASES } from '../api/constants.ts';
import type { UiCache, UiKube, UserInfo } from './ports.ts';

export function generatedProblems(count: number, start = Date.parse('2026-12-01T00:00:00Z')): ProblemEvent[] {
  const services = ['carts', 'orders', 'payment', 'catalogue', 'front-end'];
  return Array.from({ length: count }, (_, i) => ({
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: {
      name: `problem-${i}`,
      namespace: i % 2 === 0 ? 'sockshop' : 'podtato',
      uid: `uid-${i}`,
      creationTimestamp: new Date(start + i * 1000),
    },
    spec: {
      project: i % 2 === 0 ? 'sockshop' : 'podtato',
      stage: i % 3 === 0 ? 'staging' : 'production',
      service: services[i % services.length] ?? 'carts',
      problemTitle: i % 7 === 0 ? 'Failure rate increase' : 'Response time degradation',
      state: 'OPEN',
      source: 'alertmanager',
    },
    status: { phase: PHASES[i % PHASES.length] ?? 'Pending', currentAttempt: i % 4, currentAction: 'scale +1' },
  }));
}

export function fakeCache(problems: ProblemEvent[]): UiCache {
  const byKey = new Map(problems.map((p) => [`${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`, p]));
  return {
    problems: () => [...byKey.values()],
    problem: (ns, name) => byKey.get(`${ns}/${name}`),
    projects: () => [],
    remediations: () => [],
    approvals: () => [],
  };
}

export const USERS: Record<string, UserInfo> = {
  'admin-token': { username: 'admin', groups: ['system:masters'] },
  'viewer-token': { username: 'viewer', groups: ['viewers'] },
};

export function fakeKube(): UiKube & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    authenticate: (token) => Promise.resolve(USERS[token]),
    allowed: (user, a) => {
      calls.push(`${user.username} ${a.verb} ${a.resource} ${a.namespace}`);
      return Promise.resolve(user.username === 'admin' || ['get', 'list', 'watch'].includes(a.verb));
    },
    createApproval: () => Promise.resolve('approval-1'),
    setSuspended: () => Promise.resolve(),
    events: () => Promise.resolve([]),
  };
}
