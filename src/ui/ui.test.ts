import { describe, expect, it } from 'vitest';
import type { ProblemEvent } from '../api/types.ts';
import { commitUrl, repositoryWebUrl } from './git-links.ts';
import { escapeHtml, html, query, safeHref } from './html.ts';
import { age, displayPhase, pageProblems, parseProblemQuery, problemKey } from './model.ts';
import { Sessions, cookie, csrfMatches, sameOrigin } from './sessions.ts';
import { timeline } from './timeline.ts';
import { problemDetail, problemTable } from './views.ts';

function problem(
  name: string,
  over: Partial<ProblemEvent['spec']> = {},
  status: ProblemEvent['status'] = {},
  created = 0,
): ProblemEvent {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, creationTimestamp: new Date(created) },
    spec: {
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      problemTitle: `title ${name}`,
      state: 'OPEN',
      ...over,
    },
    status,
  };
}

const HOSTILE = '<img src=x onerror="alert(1)">';

describe('html', () => {
  it('escapes every interpolated value, keeps nested markup', () => {
    expect(html`<td>${HOSTILE}</td>`.value).toBe('<td>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</td>');
    expect(html`<p>${html`<b>${'a&b'}</b>`}${['<', 1]}${undefined}${false}</p>`.value).toBe(
      '<p><b>a&amp;b</b>&lt;1</p>',
    );
    expect(escapeHtml(`'\`"`)).toBe('&#39;&#96;&quot;');
  });

  it('lets only http(s) and same-site links through', () => {
    expect(safeHref('https://github.com/a/b/commit/1')).toBe('https://github.com/a/b/commit/1');
    expect(safeHref('/problems/a/b')).toBe('/problems/a/b');
    expect(safeHref('javascript:alert(1)')).toBe('#');
    expect(safeHref('//evil.example/x')).toBe('#');
    expect(query({ a: 'x y', b: '', c: undefined, d: 2 })).toBe('?a=x+y&d=2');
  });
});

describe('git links', () => {
  const sha = 'a'.repeat(40);
  it.each([
    ['https://github.com/org/repo.git', `https://github.com/org/repo/commit/${sha}`],
    ['git@github.com:org/repo.git', `https://github.com/org/repo/commit/${sha}`],
    [
      'https://token:x@gitlab.example.com/group/sub/repo.git',
      `https://gitlab.example.com/group/sub/repo/-/commit/${sha}`,
    ],
    ['http://gitea.local:3000/org/repo', `http://gitea.local:3000/org/repo/commit/${sha}`],
    ['ssh://git@gitea.local:2222/org/repo.git', `https://gitea.local/org/repo/commit/${sha}`],
  ])('%s', (url, want) => {
    expect(commitUrl(url, sha)).toBe(want);
  });
  it('refuses what is not a repository or a commit', () => {
    expect(commitUrl('https://github.com/org/repo', 'not-a-sha')).toBeUndefined();
    expect(repositoryWebUrl('file:///tmp/repo')).toBeUndefined();
    expect(repositoryWebUrl('https://github.com/')).toBeUndefined();
  });
});

describe('the problem list', () => {
  it('shows "closed by its source" apart from a resolved evaluation', () => {
    expect(displayPhase(problem('a', { state: 'RESOLVED' }, { phase: 'Evaluating' }))).toBe('ClosedBySource');
    const bySource = {
      phase: 'Resolved' as const,
      conditions: [
        {
          type: 'Ready',
          status: 'True' as const,
          reason: 'ProblemResolved',
          message: '',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    };
    expect(displayPhase(problem('b', { state: 'RESOLVED' }, bySource))).toBe('ClosedBySource');
    const passed = { ...bySource, conditions: [{ ...bySource.conditions[0]!, reason: 'EvaluationPassed' }] };
    expect(displayPhase(problem('c', { state: 'RESOLVED' }, passed))).toBe('Resolved');
    expect(displayPhase(problem('d', { state: 'RESOLVED' }, { phase: 'Exhausted' }))).toBe('Exhausted');
    expect(displayPhase(problem('e'))).toBe('Pending');
    // Resolved and waiting to revert: the alert clearing is expected, not a close by the source.
    expect(displayPhase(problem('f', { state: 'RESOLVED' }, { phase: 'Reverting' }))).toBe('Reverting');
  });

  it('filters and pages on the server, newest first, with stable ties', () => {
    const all = Array.from({ length: 250 }, (_, i) =>
      problem(
        `p${String(i).padStart(3, '0')}`,
        { service: i % 2 === 0 ? 'carts' : 'orders' },
        { phase: i % 5 === 0 ? 'Exhausted' : 'Remediating' },
        Math.floor(i / 10) * 1000,
      ),
    );
    const q = parseProblemQuery(new URLSearchParams('service=carts&page=2&size=25'));
    const page = pageProblems(all, q);
    expect(page.total).toBe(125);
    expect(page.pages).toBe(5);
    expect(page.rows).toHaveLength(25);
    expect(page.rows.every((r) => r.service === 'carts')).toBe(true);
    const first = pageProblems(all, { ...q, page: 1 });
    expect(first.rows[0]?.created).toBe(24_000);
    // Ties on time are broken by key: pages never repeat or skip a problem.
    const keys = [1, 2, 3, 4, 5].flatMap((p) =>
      pageProblems(all, { ...q, page: p }).rows.map((r) => `${r.namespace}/${r.name}`),
    );
    expect(new Set(keys).size).toBe(125);
    expect(pageProblems(all, { page: 99, size: 50, phase: 'Exhausted' })).toMatchObject({
      total: 50,
      page: 1,
      pages: 1,
    });
    expect(pageProblems(all, { page: 1, size: 50, text: 'TITLE P01' }).total).toBe(10);
    expect(page.facets.services).toEqual(['carts', 'orders']);
  });

  it('bounds what the URL asks for', () => {
    expect(parseProblemQuery(new URLSearchParams('page=-3&size=100000&phase=<x>&q=' + 'x'.repeat(999)))).toEqual({
      page: 1,
      size: 50,
      text: 'x'.repeat(256),
    });
  });

  it('renders a hostile title as text', () => {
    const result = pageProblems([problem('h', { problemTitle: HOSTILE, source: '<script>x</script>' })], {
      page: 1,
      size: 50,
    });
    const out = problemTable(result, { page: 1, size: 50 }, 0).value;
    expect(out).not.toContain('<img');
    expect(out).not.toContain('<script>');
    expect(out).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
    expect(age(0, 3_600_000 * 5)).toBe('5h');
  });
});

describe('the problem page', () => {
  const approval = {
    state: 'Pending' as const,
    requestedTime: '2026-01-01T00:01:00Z',
    why: 'stage production is manual',
    diff: '--- a\n+++ b\n-replicaCount: 1\n+replicaCount: 2',
    file: 'carts/values.yaml',
  };
  const p = problem(
    'x',
    { problemTitle: HOSTILE },
    {
      phase: 'AwaitingApproval',
      startTime: '2026-01-01T00:00:05Z',
      attempts: [
        {
          index: 1,
          action: 'scale',
          value: '+1',
          commit: 'b'.repeat(40),
          branch: 'production',
          committedTime: '2026-01-01T00:00:10Z',
          appliedTime: '2026-01-01T00:00:20Z',
          helmRevision: 3,
          evaluationTime: '2026-01-01T00:00:50Z',
          result: 'fail',
          indicatorResults: [{ metric: 'response_time_p95', value: 812, status: 'fail', message: '<=700' }],
        },
        { index: 2, action: 'scale', value: '+2', approval },
      ],
    },
    Date.parse('2026-01-01T00:00:00Z'),
  );

  it('orders every step in time with its duration', () => {
    const steps = timeline(p);
    expect(steps.map((s) => s.step)).toEqual([
      'opened',
      'picked up',
      'committed',
      'applied',
      'evaluated: fail',
      'approval requested',
    ]);
    expect(steps[3]).toMatchObject({ attempt: 1, detail: 'Helm revision 3', durationMs: 10_000 });
  });

  it('shows attempts, the diff, SLIs and controls only to those who may use them', () => {
    const base = { problem: p, project: undefined, approvals: [], events: [], csrf: 'tok', nowMs: 0 };
    const may = problemDetail({ ...base, may: { answer: true, suspend: true } }).value;
    expect(may).toContain('Approve attempt 2');
    expect(may).toContain('name="_csrf" value="tok"');
    expect(may).toContain('<span class="add">+replicaCount: 2</span>');
    expect(may).toContain('response_time_p95');
    expect(may).toContain('Abort remediation');
    expect(may).not.toContain('<img');
    const viewer = problemDetail({ ...base, may: { answer: false, suspend: false } }).value;
    expect(viewer).not.toContain('Approve attempt');
    expect(viewer).not.toContain('Abort remediation');
    expect(viewer).toContain('you may not answer it');
  });

  it('shows the undo after resolve: what it set back, and a key it left, escaped', () => {
    const reverted = problem(
      'r',
      {},
      {
        phase: 'Resolved',
        revert: {
          state: 'Conflicted',
          after: '1h',
          dueTime: '2026-01-01T01:00:00Z',
          reverts: ['b'.repeat(40)],
          conflicts: [{ key: 'replicaCount', wrote: '2', found: '5', commit: 'c'.repeat(40), author: HOSTILE }],
        },
      },
    );
    const base = { problem: reverted, project: undefined, approvals: [], events: [], csrf: 't', nowMs: 0 };
    const out = problemDetail({ ...base, may: { answer: false, suspend: false } }).value;
    expect(out).toContain('Revert: Conflicted');
    expect(out).toContain('Keys left alone: changed by someone since');
    expect(out).toContain('c'.repeat(12));
    expect(out).not.toContain('<img');
    expect(problemDetail({ ...base, problem: p, may: { answer: false, suspend: false } }).value).not.toContain(
      'Revert:',
    );
  });
});

describe('sessions', () => {
  it('expire when idle or old, and evict the least recently used', () => {
    let now = 0;
    const s = new Sessions({ now: () => now, idleMs: 100, maxAgeMs: 1000, max: 2 });
    const a = s.create('t1', { username: 'a', groups: [] });
    now = 50;
    expect(s.get(a.id)?.token).toBe('t1');
    now = 200;
    expect(s.get(a.id)).toBeUndefined();
    const b = s.create('t2', { username: 'b', groups: [] });
    const c = s.create('t3', { username: 'c', groups: [] });
    s.get(b.id);
    s.create('t4', { username: 'd', groups: [] });
    expect(s.get(c.id)).toBeUndefined();
    expect(s.get(b.id)).toBeDefined();
    now = 1300;
    expect(s.get(b.id)).toBeUndefined();
  });

  it('checks CSRF tokens and origins', () => {
    const s = new Sessions({ now: () => 0 }).create('t', { username: 'a', groups: [] });
    expect(csrfMatches(s, s.csrf)).toBe(true);
    expect(csrfMatches(s, `${s.csrf}x`)).toBe(false);
    expect(csrfMatches(s, undefined)).toBe(false);
    expect(sameOrigin({ origin: 'http://ui:1', host: 'ui:1', 'sec-fetch-site': 'same-origin' })).toBe(true);
    expect(sameOrigin({ origin: 'http://evil', host: 'ui:1' })).toBe(false);
    expect(sameOrigin({ host: 'ui:1', 'sec-fetch-site': 'cross-site' })).toBe(false);
    expect(cookie('a=1; rebound_ui_session=xyz; b=2', 'rebound_ui_session')).toBe('xyz');
    expect(problemKey(problem('k'))).toBe('ns/k');
  });
});
