// Which events wake which keys: the named map functions and predicates the controllers' setups use.
import { describe, expect, it } from 'vitest';
import type { Approval, Phase, ProblemEvent, Project, Remediation } from '../api/index.ts';
import { CacheIndex } from './cache-index.ts';
import { projectGroup } from './keys.ts';
import { projectChanged, specChanged, stageHeadsMoved } from './predicates.ts';
import {
  becameTerminal,
  problemOfApproval,
  problemsForProject,
  problemsForRemediation,
  waitingInProjectOf,
} from './problemevent/setup.ts';
import { projectsOfRepository } from './project/setup.ts';
import { remediationsForProject } from './remediation/setup.ts';

function problem(
  name: string,
  over: { namespace?: string; project?: string; service?: string; phase?: Phase; suspended?: boolean } = {},
): ProblemEvent {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: {
      name,
      namespace: over.namespace ?? 'ops',
      ...(over.suspended ? { annotations: { 'rebound.dev/suspend': 'true' } } : {}),
    },
    spec: {
      project: over.project ?? 'sockshop',
      stage: 'production',
      service: over.service ?? 'carts',
      problemTitle: 'latency',
      state: 'OPEN',
    },
    ...(over.phase ? { status: { phase: over.phase } } : {}),
  };
}

function project(
  name: string,
  over: { namespace?: string; generation?: number; url?: string; stages?: string[] } = {},
): Project {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Project',
    metadata: { name, namespace: over.namespace ?? 'ops', generation: over.generation ?? 1 },
    spec: { git: { url: over.url ?? 'https://git.example.com/org/sockshop.git' } },
    ...(over.stages
      ? {
          status: {
            stages: over.stages.map((s) => ({
              name: s,
              branch: s,
              remediation: 'automated',
              apply: 'helm',
              namespace: `sockshop-${s}`,
            })),
          },
        }
      : {}),
  };
}

function remediation(
  name: string,
  over: { namespace?: string; project?: string; service?: string; generation?: number } = {},
): Remediation {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Remediation',
    metadata: { name, namespace: over.namespace ?? 'ops', generation: over.generation ?? 1 },
    spec: {
      project: over.project ?? 'sockshop',
      stage: 'production',
      service: over.service ?? 'carts',
      remediations: [],
    },
  };
}

function indexed<T extends ProblemEvent | Remediation>(group: (o: T) => string, objects: T[]): CacheIndex<T> {
  const index = new CacheIndex<T>(group);
  for (const o of objects) index.handler().onAdd?.(o, false);
  return index;
}

const byProject = (problems: ProblemEvent[]): CacheIndex<ProblemEvent> =>
  indexed((p) => projectGroup(p.metadata.namespace, p.spec.project), problems);

describe('the ProblemEvent controller wakes', () => {
  const problems = [
    problem('open-carts'),
    problem('open-orders', { service: 'orders' }),
    problem('done-carts', { phase: 'Resolved' }),
    problem('other-project', { project: 'shop2' }),
    problem('other-namespace', { namespace: 'elsewhere' }),
  ];

  it('the open problems of a Project', () => {
    expect(problemsForProject(byProject(problems), project('sockshop')).sort()).toEqual([
      'ops/open-carts',
      'ops/open-orders',
    ]);
  });

  it("the open problems of a Remediation's service", () => {
    expect(problemsForRemediation(byProject(problems), remediation('carts'))).toEqual(['ops/open-carts']);
    expect(problemsForRemediation(byProject(problems), remediation('orders', { service: 'orders' }))).toEqual([
      'ops/open-orders',
    ]);
  });
});

describe('a finished problem wakes', () => {
  it('the open, unsuspended problems of its Project, whose budget it frees', () => {
    const problems = [
      problem('done', { phase: 'Resolved' }),
      problem('orders', { service: 'orders' }),
      problem('held', { suspended: true }),
      problem('other', { project: 'shop2' }),
    ];
    expect(waitingInProjectOf(byProject(problems), problem('done', { phase: 'Resolved' }))).toEqual(['ops/orders']);
  });

  it('only when it becomes final, not on later updates', () => {
    expect(becameTerminal(problem('p', { phase: 'Remediating' }), problem('p', { phase: 'Exhausted' }))).toBe(true);
    expect(becameTerminal(problem('p', { phase: 'Exhausted' }), problem('p', { phase: 'Exhausted' }))).toBe(false);
  });
});

describe('an Approval wakes', () => {
  it('the problem it answers, in its namespace', () => {
    const approval: Approval = {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Approval',
      metadata: { name: 'a1', namespace: 'ops' },
      spec: { problem: 'p1', attempt: 2, decision: 'Approve', user: 'alice' },
    };
    expect(problemOfApproval(approval)).toBe('ops/p1');
  });
});

describe('the Remediation controller wakes', () => {
  it("a Project's Remediations, in its namespace only", () => {
    const index = indexed(
      (r: Remediation) => projectGroup(r.metadata.namespace, r.spec.project),
      [
        remediation('carts'),
        remediation('orders', { service: 'orders' }),
        remediation('elsewhere', { namespace: 'other' }),
        remediation('shop2', { project: 'shop2' }),
      ],
    );
    expect(remediationsForProject(index, project('sockshop')).sort()).toEqual(['ops/carts', 'ops/orders']);
  });
});

describe('the Project controller wakes', () => {
  it('the Projects of a pushed repository', () => {
    const projects = [
      project('a'),
      project('b', { url: 'https://git.example.com/org/other.git' }),
      project('c', { namespace: 'x', url: 'https://GIT.example.com/org/sockshop/' }),
    ];
    expect(projectsOfRepository(projects, 'https://git.example.com/org/sockshop')).toEqual(['ops/a', 'x/c']);
  });
});

describe('predicates', () => {
  it('specChanged: a new generation, not a status write', () => {
    expect(specChanged(project('p', { generation: 1 }), project('p', { generation: 2 }))).toBe(true);
    expect(
      specChanged(project('p', { generation: 1, stages: ['dev'] }), project('p', { generation: 1, stages: ['prod'] })),
    ).toBe(false);
  });

  it('projectChanged: a new generation or a different stage list, not a poll that found the same stages', () => {
    expect(projectChanged(project('p', { stages: ['dev'] }), project('p', { stages: ['dev', 'prod'] }))).toBe(true);
    expect(projectChanged(project('p', { stages: ['dev'] }), project('p', { stages: ['dev'] }))).toBe(false);
    expect(projectChanged(project('p', { generation: 1 }), project('p', { generation: 2 }))).toBe(true);
    const reset = project('p');
    reset.metadata.annotations = { 'rebound.dev/circuit-reset': '2026-12-01T10:00:00Z' };
    expect(projectChanged(project('p'), reset)).toBe(true);
  });

  it('stageHeadsMoved: the branch watch found a stage branch at a new head (holds), not a poll that found the same', () => {
    const at = (commit: string): Project => {
      const p = project('p', { stages: ['prod'] });
      const stage = p.status?.stages?.[0];
      if (stage) stage.commit = commit;
      return p;
    };
    expect(stageHeadsMoved(at('a'.repeat(40)), at('b'.repeat(40)))).toBe(true);
    expect(stageHeadsMoved(at('a'.repeat(40)), at('a'.repeat(40)))).toBe(false);
    expect(projectChanged(at('a'.repeat(40)), at('b'.repeat(40)))).toBe(false);
  });
});
