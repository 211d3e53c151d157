// The pages, rendered on the server as plain HTML: every value goes through the escaping template
// (html.ts), so what alerts and people wrote is shown as text. Pure: data and the clock in, markup out.
import type {
  Approval,
  Attempt,
  Condition,
  IndicatorResult,
  ProblemEvent,
  Project,
  Remediation,
  Revert,
} from '../api/types.ts';
import { isTerminal } from '../api/phases.ts';
import { commitUrl } from './git-links.ts';
import { html, query, safeHref } from './html.ts';
import type { HtmlValue, Html } from './html.ts';
import { DISPLAY_PHASES, PAGE_SIZES, PHASE_LABELS, age, displayPhase, duration, queryParams } from './model.ts';
import type { DisplayPhase, ProblemPage, ProblemQuery } from './model.ts';
import type { InformerHealth, KubeEventRow, UserInfo } from './ports.ts';
import { timeline } from './timeline.ts';
import { formatValue, sliChart } from './sli-chart.ts';
import { chartKey } from './sli-series.ts';
import type { ChartData } from './sli-series.ts';

export interface Layout {
  title: string;
  user?: UserInfo;
  csrf?: string;
  /** Asset path with its content hash (cache-busting). */
  script: string;
  style: string;
  nav: 'problems' | 'services' | 'health' | 'none';
}

export function page(layout: Layout, body: Html): string {
  const link = (href: string, name: string, key: Layout['nav']): Html =>
    html`<a href="${href}" ${key === layout.nav ? html` aria-current="page"` : ''}>${name}</a>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${layout.title} · Rebound</title>
        <link rel="stylesheet" href="${layout.style}" />
        <script src="${layout.script}" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <span class="brand">Rebound</span>
          <nav aria-label="Main">
            ${link('/', 'Problems', 'problems')} ${link('/services', 'Services', 'services')}
            ${link('/health', 'Health', 'health')}
          </nav>
          ${
            layout.user && layout.csrf
              ? html`<form class="who" method="post" action="/logout">
                  <span>${layout.user.username}</span><input type="hidden" name="_csrf" value="${layout.csrf}" /><button
                    type="submit"
                  >
                    Sign out
                  </button>
                </form>`
              : ''
          }
        </header>
        <main id="main">${body}</main>
      </body>
    </html> `.value;
}

export function loginPage(layout: Layout, failed: boolean): string {
  return page(
    layout,
    html`<h1>Sign in</h1>
      <p>
        Paste a Kubernetes bearer token (for example from <code>kubectl create token NAME</code>). Rebound asks the API
        server who it belongs to and what you may do; the token stays on the server, in memory.
      </p>
      ${failed ? html`<p class="error" role="alert">The API server did not accept that token.</p>` : ''}
      <form method="post" action="/login" class="login">
        <label for="token">Bearer token</label>
        <input id="token" name="token" type="password" autocomplete="off" required maxlength="8192" />
        <button type="submit">Sign in</button>
      </form>`,
  );
}

export function errorPage(layout: Layout, status: number, message: string): string {
  return page(
    layout,
    html`<h1>${status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Error'}</h1>
      <p>${message}</p>`,
  );
}

const phaseBadge = (phase: DisplayPhase, suspended = false): Html =>
  html`<span class="phase phase-${phase}">${PHASE_LABELS[phase]}</span
    >${suspended ? html` <span class="phase phase-suspended">suspended</span>` : ''}`;

function select(
  name: string,
  label: string,
  values: readonly string[],
  current: string | undefined,
  labels?: Record<string, string>,
): Html {
  return html`<label
    >${label}
    <select name="${name}">
      <option value="">all</option>
      ${values.map(
        (v) => html`<option value="${v}" ${v === current ? html` selected` : ''}>${labels?.[v] ?? v}</option>`,
      )}
    </select></label
  >`;
}

/** The problem list's live part: the table and the pager (re-rendered for server-sent updates). */
export function problemTable(result: ProblemPage, q: ProblemQuery, nowMs: number): Html {
  const link = (p: number): string => `/${query(queryParams(q, p))}`;
  return html`<div id="live" data-live="/events${query({ ...queryParams(q), view: 'list' })}">
    <p class="count" aria-live="polite">
      ${result.total}
      problem${result.total === 1 ? '' : 's'}${result.pages > 1 ? `, page ${result.page} of ${result.pages}` : ''}
    </p>
    ${dataTable(
      ['Title', 'Source', 'Project / stage / service', 'Phase', 'Attempt', 'Age'],
      result.rows.map((r) => [
        html`<a href="/problems/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}">${r.title}</a>
          <div class="sub">${r.namespace}/${r.name}</div>`,
        r.source,
        `${r.project} / ${r.stage} / ${r.service}`,
        phaseBadge(r.phase, r.suspended),
        r.attempt > 0 ? html`${r.attempt}${r.action ? html` <span class="sub">${r.action}</span>` : ''}` : '–',
        html`<time datetime="${new Date(r.created).toISOString()}">${age(r.created, nowMs)}</time>`,
      ]),
      { className: 'problems', caption: 'Problems, newest first', hiddenCaption: true },
    )}
    ${result.rows.length === 0 ? html`<p>No problem matches.</p>` : ''}
    <nav class="pager" aria-label="Pages">
      ${result.page > 1 ? html`<a href="${link(1)}">« first</a> <a href="${link(result.page - 1)}" rel="prev">‹ previous</a>` : ''}
      ${result.page < result.pages ? html`<a href="${link(result.page + 1)}" rel="next">next ›</a> <a href="${link(result.pages)}">last »</a>` : ''}
    </nav>
  </div>`;
}

export function problemsPage(layout: Layout, result: ProblemPage, q: ProblemQuery, nowMs: number): string {
  return page(
    layout,
    html`<h1>Problems</h1>
      <form class="filters" method="get" action="/" role="search">
        ${select('project', 'Project', result.facets.projects, q.project)}
        ${select('stage', 'Stage', result.facets.stages, q.stage)}
        ${select('service', 'Service', result.facets.services, q.service)}
        ${select('phase', 'Phase', DISPLAY_PHASES, q.phase, PHASE_LABELS)}
        <label>Text <input type="search" name="q" value="${q.text ?? ''}" maxlength="256" /></label>
        ${select('size', 'Per page', PAGE_SIZES.map(String), String(q.size))}
        <button type="submit">Filter</button>
      </form>
      ${problemTable(result, q, nowMs)}`,
  );
}

export interface ProblemView {
  problem: ProblemEvent;
  project: Project | undefined;
  approvals: readonly Approval[];
  events: readonly KubeEventRow[] | undefined;
  may: { answer: boolean; suspend: boolean };
  csrf: string;
  nowMs: number;
  /** The SLI charts' values by chartKey; undefined when no Prometheus is configured for the UI. */
  charts?: ReadonlyMap<string, ChartData> | undefined;
}

const dl = (pairs: [string, HtmlValue][]): Html =>
  html`<dl class="facts">
    ${pairs
      .filter(([, v]) => v !== undefined && v !== '' && v !== null)
      .map(
        ([k, v]) =>
          html`<div>
            <dt>${k}</dt>
            <dd>${v}</dd>
          </div>`,
      )}
  </dl>`;

const when = (t: string | undefined): Html | undefined =>
  t ? html`<time datetime="${t}">${t.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')}</time>` : undefined;

/** A table of plain cells under column headers (escaped like every value in html``). */
function dataTable(
  columns: readonly string[],
  rows: readonly (readonly HtmlValue[])[],
  options: { className?: string; caption?: string; hiddenCaption?: boolean } = {},
): Html {
  return html`<table${options.className ? html` class="${options.className}"` : ''}>
    ${
      options.caption
        ? html`<caption${options.hiddenCaption ? html` class="visually-hidden"` : ''}>
            ${options.caption}
          </caption>`
        : ''
    }
    <thead>
      <tr>
        ${columns.map((c) => html`<th scope="col">${c}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (cells) =>
          html`<tr>
            ${cells.map((c) => html`<td>${c}</td>`)}
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function conditionsTable(conditions: readonly Condition[]): Html {
  if (conditions.length === 0) return html`<p>No conditions yet.</p>`;
  return dataTable(
    ['Type', 'Status', 'Reason', 'Message', 'Since'],
    conditions.map((c) => [c.type, c.status, c.reason, c.message, when(c.lastTransitionTime)]),
  );
}

function controls(view: ProblemView, attempt: Attempt | undefined): Html {
  const { problem, may, csrf } = view;
  const base = `/problems/${encodeURIComponent(problem.metadata.namespace ?? '')}/${encodeURIComponent(problem.metadata.name ?? '')}`;
  const pending = attempt?.approval?.state === 'Pending' && !isTerminal(problem.status?.phase);
  const suspended = problem.metadata.annotations?.['rebound.dev/suspend'] === 'true';
  const parts: Html[] = [];
  if (pending && attempt) {
    parts.push(
      may.answer
        ? html`<form method="post" action="${base}/answer" class="answer">
            <input type="hidden" name="_csrf" value="${csrf}" /><input
              type="hidden"
              name="attempt"
              value="${attempt.index}"
            />
            <label for="answer-message">Message (optional)</label>
            <input id="answer-message" name="message" maxlength="1024" />
            <button type="submit" name="decision" value="Approve">Approve attempt ${attempt.index}</button>
            <button type="submit" name="decision" value="Reject">Reject</button>
          </form>`
        : html`<p class="readonly">
            Attempt ${attempt.index} waits for approval; you may not answer it (RBAC: create approvals in
            ${problem.metadata.namespace}).
          </p>`,
    );
  }
  if (!isTerminal(problem.status?.phase)) {
    if (may.suspend) {
      parts.push(
        suspended
          ? html`<form method="post" action="${base}/retry">
              <input type="hidden" name="_csrf" value="${csrf}" /><button type="submit">
                Retry (resume remediation)
              </button>
            </form>`
          : html`<form method="post" action="${base}/abort">
              <input type="hidden" name="_csrf" value="${csrf}" /><button type="submit" class="danger">
                Abort remediation
              </button>
            </form>`,
      );
    } else if (!pending) {
      parts.push(
        html`<p class="readonly">
          Read-only: you may not abort or retry (RBAC: patch problemevents in ${problem.metadata.namespace}).
        </p>`,
      );
    }
  }
  return parts.length === 0 ? html`` : html`<section class="controls" aria-label="Controls">${parts}</section>`;
}

function attemptSection(a: Attempt, view: ProblemView): Html {
  const url = a.commit && view.project ? commitUrl(view.project.spec.git.url, a.commit) : undefined;
  const commit = a.commit
    ? html`<code>${a.commit.slice(0, 12)}</code
        >${url ? html` <a href="${safeHref(url)}" rel="noopener noreferrer">view on the Git host</a>` : ''}`
    : undefined;
  const applied: Html[] = [];
  if (a.helmRevision) applied.push(html`Helm revision ${a.helmRevision}`);
  if (a.sync)
    applied.push(
      html`${a.sync.engine}: ${a.sync.syncedTime ? html`synced ${a.sync.revision ?? ''}` : 'waiting for sync'}
      ${(a.sync.objects ?? []).join(', ')}`,
    );
  if (a.appliedTime && applied.length === 0) applied.push(html`applied`);
  const ex = a.execution;
  const approval = a.approval;
  const diff = approval?.diff;
  return html`<section class="attempt" id="attempt-${a.index}" aria-labelledby="attempt-${a.index}-h">
    <h3 id="attempt-${a.index}-h">
      Attempt ${a.index}: ${a.action}
      ${a.value}${a.result ? html` <span class="result result-${a.result}">${a.result}</span>` : ''}
    </h3>
    ${dl([
      [
        'Action',
        a.name || a.description
          ? html`${a.name ?? ''} ${a.description ? html`<span class="sub">${a.description}</span>` : ''}`
          : undefined,
      ],
      ['Commit', commit],
      ['File', a.path ? html`<code>${a.branch ?? ''}:${a.path}</code>` : undefined],
      ['Committed', when(a.committedTime)],
      ['Applied', applied.length > 0 ? html`${applied} ${when(a.appliedTime) ?? ''}` : undefined],
      [
        'Execution',
        ex
          ? html`${ex.executor ?? ''} ${ex.state}${ex.responseCode ? ` (HTTP ${ex.responseCode})` : ''}
            ${ex.target ?? ''} ${ex.message ?? ''} ${ex.callbackMessage ?? ''}`
          : undefined,
      ],
      ['Break-glass', a.breakGlass],
      ['Message', a.message],
      [
        'Evaluated',
        a.evaluationTime
          ? html`${when(a.evaluationTime)}${a.score !== undefined ? ` score ${a.score}` : ''}`
          : undefined,
      ],
    ])}
    ${
      approval
        ? html`<h4>Approval: ${approval.state}</h4>
            ${dl([
              ['Why', approval.why],
              ['Requested', when(approval.requestedTime)],
              ['Deadline', when(approval.deadline)],
              ['Needs', approval.minApprovals ? `${approval.minApprovals} approval(s)` : undefined],
              ['Groups', (approval.groups ?? []).join(', ')],
              ['Decided', when(approval.decidedTime)],
            ])}
            ${
              (approval.approvers ?? []).length > 0
                ? dataTable(
                    ['User', 'Decision', 'Time', 'Message'],
                    (approval.approvers ?? []).map((p) => [p.user, p.decision, when(p.time), p.message]),
                    { caption: 'Who answered' },
                  )
                : ''
            }
            ${
              (approval.notCounted ?? []).length > 0
                ? html`<ul class="sub">
                    ${(approval.notCounted ?? []).map((n) => html`<li>${n.user}: not counted, ${n.why}</li>`)}
                  </ul>`
                : ''
            }`
        : ''
    }
    ${
      diff
        ? html`<h4>Diff${approval?.file ? html` of <code>${approval.file}</code>` : ''}</h4>
            <pre class="diff">${diffLines(diff)}</pre>`
        : ''
    }
    ${
      (a.tasks ?? []).length > 0
        ? html`<h4>Sequence tasks</h4>
            <ul>
              ${(a.tasks ?? []).map((t) => html`<li>${t.name}: ${t.state} ${t.message ?? ''}</li>`)}
            </ul>`
        : ''
    }
    ${
      (a.indicatorResults ?? []).length > 0
        ? html`<h4>Evaluation</h4>
            ${
              a.evaluationTime
                ? html`<p class="sub">
                    SLIs read over ${when(a.evaluationStart ?? a.liveTime ?? a.appliedTime) ?? 'the window'} to
                    ${when(a.evaluationTime)}
                  </p>`
                : ''
            }
            ${dataTable(
              ['SLI', 'Query (resolved)', 'Value', 'Targets', 'Result', 'Values over the window'],
              (a.indicatorResults ?? []).map((r) => [
                r.metric,
                r.query
                  ? html`<code class="query">${r.query}</code
                      >${r.queryTruncated ? html` <span class="sub">(cut)</span>` : ''}`
                  : '',
                html`${r.value === undefined ? 'none' : formatValue(r.value)}${
                  r.message ? html`<div class="sub">${r.message}</div>` : ''
                }`,
                targets(r),
                r.status
                  ? html`<span class="result result-${r.status}">${r.status}</span>${
                        r.score !== undefined ? html` <span class="sub">score ${formatValue(r.score)}</span>` : ''
                      }`
                  : '',
                chartCell(a, r, view),
              ]),
              { className: 'slis' },
            )}`
        : ''
    }
  </section>`;
}

/** `pass <=600 (600)`, each target with the number it came to; a violated one says so. */
function targets(r: IndicatorResult): Html {
  const list = (kind: string, ts: IndicatorResult['passTargets']): Html[] =>
    (ts ?? []).map(
      (t) =>
        html`<li>
          ${kind} <code>${t.criteria}</code>${
            t.targetValue !== undefined && String(t.targetValue) !== t.criteria.replace(/^[<>=!]+/, '')
              ? html` (${formatValue(t.targetValue)})`
              : ''
          }${t.violated ? html` <span class="violated">not met</span>` : ''}
        </li>`,
    );
  const items = [...list('pass', r.passTargets), ...list('warning', r.warningTargets)];
  return items.length === 0
    ? html``
    : html`<ul class="targets">
        ${items}
      </ul>`;
}

/** The chart of one SLI, or why there is none; the page renders either way. */
function chartCell(a: Attempt, r: IndicatorResult, view: ProblemView): Html {
  if (!r.query) return html``;
  if (view.charts === undefined) return html`<span class="sub">No Prometheus is configured for the UI.</span>`;
  const data = view.charts.get(chartKey(a.index, r.metric));
  if (data === undefined) return html``;
  if ('skipped' in data) return html`<span class="sub">${data.skipped}</span>`;
  if (!data.outcome.ok) return html`<span class="sub chart-off" role="note">No chart: ${data.outcome.message}</span>`;
  const pass = r.passTargets ?? [];
  const target = pass.length === 1 ? pass[0]?.targetValue : undefined;
  return sliChart({
    metric: r.metric,
    series: data.outcome.series,
    startMs: data.window.startMs,
    endMs: data.window.endMs,
    ...(target === undefined ? {} : { target }),
  });
}

function diffLines(diff: string): Html[] {
  return diff.split('\n').map((line) => {
    const cls =
      line.startsWith('+') && !line.startsWith('+++')
        ? 'add'
        : line.startsWith('-') && !line.startsWith('---')
          ? 'del'
          : '';
    return html`<span${cls ? html` class="${cls}"` : ''}>${line}</span>\n`;
  });
}

/** The problem page's live part (re-rendered for server-sent updates). */
/** Undo after resolve (revertAfter): when it is due, what it set back, and any key it left alone. */
function revertSection(r: Revert): Html {
  const edits = (r.edits ?? []).map((e) => `${e.key} ${e.from ?? '(absent)'} → ${e.to}`).join(', ');
  return html`<section class="revert" aria-labelledby="revert-h">
    <h2 id="revert-h">
      Revert: ${r.state}${r.result ? html` <span class="result result-${r.result}">${r.result}</span>` : ''}
    </h2>
    ${dl([
      ['After', r.after],
      ['Due', when(r.dueTime)],
      ['Reverts', (r.reverts ?? []).map((c) => c.slice(0, 12)).join(', ')],
      ['Commit', r.commit ? html`<code>${r.commit.slice(0, 12)}</code>` : undefined],
      ['Set back', edits || undefined],
      ['Applied', when(r.appliedTime)],
      [
        'Evaluated',
        r.evaluationTime
          ? html`${when(r.evaluationTime)}${r.score !== undefined ? ` score ${r.score}` : ''}`
          : undefined,
      ],
      ['Restored in', r.restoreCommit ? html`<code>${r.restoreCommit.slice(0, 12)}</code>` : undefined],
      ['Message', r.message],
    ])}
    ${
      (r.conflicts ?? []).length > 0
        ? dataTable(
            ['Key', 'Rebound wrote', 'Now', 'Changed in', 'By'],
            (r.conflicts ?? []).map((c) => [c.key, c.wrote, c.found ?? '(gone)', c.commit?.slice(0, 12), c.author]),
            { caption: 'Keys left alone: changed by someone since' },
          )
        : ''
    }
  </section>`;
}

export function problemDetail(view: ProblemView): Html {
  const { problem } = view;
  const status = problem.status ?? {};
  const attempts = status.attempts ?? [];
  const current = attempts[attempts.length - 1];
  const ns = problem.metadata.namespace ?? '';
  const name = problem.metadata.name ?? '';
  const source = status.policySource;
  const suspended = problem.metadata.annotations?.['rebound.dev/suspend'] === 'true';
  return html`<div id="live" data-live="/events${query({ view: 'problem', namespace: ns, name })}">
    <h1>${problem.spec.problemTitle}</h1>
    <p class="lead">
      ${phaseBadge(displayPhase(problem), suspended)}
      <span class="sub">${ns}/${name}, generation ${problem.metadata.generation ?? ''}</span>
    </p>
    ${controls(view, current)}
    ${dl([
      ['Project / stage / service', `${problem.spec.project} / ${problem.spec.stage} / ${problem.spec.service}`],
      ['Source', problem.spec.source ?? problem.metadata.labels?.['rebound.dev/source']],
      ['State at source', problem.spec.state],
      ['Root cause', problem.spec.rootCause],
      ['Problem ID', problem.spec.problemID],
      ['Impacted entity', problem.spec.impactedEntity],
      [
        'Opened',
        when(
          problem.metadata.creationTimestamp ? new Date(problem.metadata.creationTimestamp).toISOString() : undefined,
        ),
      ],
      ['Current action', status.currentAction],
      ['Next evaluation', when(status.nextEvaluationTime)],
      [
        'Policy',
        source
          ? html`${source.kind === 'Remediation' ? html`Remediation <code>${source.name ?? ''}</code>` : html`<code>${source.branch ?? ''}:${source.path ?? ''}</code> at <code>${source.commit?.slice(0, 12) ?? ''}</code>`},
              entry <q>${source.problemType ?? ''}</q> matched by ${source.match ?? ''}`
          : undefined,
      ],
    ])}
    <h2>Timeline</h2>
    <ol class="timeline">
      ${timeline(problem).map(
        (e) =>
          html`<li>
            <span class="t">${when(e.time)}</span>
            <span class="step">${e.attempt > 0 ? `attempt ${e.attempt}: ` : ''}${e.step}</span
            >${e.durationMs !== undefined ? html` <span class="dur">+${duration(e.durationMs)}</span>` : ''}${e.detail ? html` <span class="sub">${e.detail}</span>` : ''}
          </li>`,
      )}
    </ol>
    ${status.revert ? revertSection(status.revert) : ''}
    <h2>Attempts</h2>
    ${attempts.length === 0 ? html`<p>No attempt yet.</p>` : [...attempts].reverse().map((a) => attemptSection(a, view))}
    <h2>Conditions</h2>
    ${conditionsTable(status.conditions ?? [])}
    <h2>Approvals</h2>
    ${
      view.approvals.length === 0
        ? html`<p>No Approval objects for this problem.</p>`
        : dataTable(
            ['Approval', 'Attempt', 'User', 'Decision', 'Message'],
            view.approvals.map((a) => [a.metadata.name, a.spec.attempt, a.spec.user, a.spec.decision, a.spec.message]),
          )
    }
    <h2>Kubernetes Events</h2>
    ${
      view.events === undefined
        ? html`<p>Events could not be read.</p>`
        : view.events.length === 0
          ? html`<p>No Events.</p>`
          : dataTable(
              ['Type', 'Reason', 'Message', 'Count', 'Last'],
              view.events.map((e) => [e.type, e.reason, e.message, e.count, when(e.lastTime)]),
            )
    }
  </div>`;
}

export function problemPage(layout: Layout, view: ProblemView): string {
  return page(
    layout,
    html`<p><a href="/">← Problems</a></p>
      ${problemDetail(view)}`,
  );
}

export interface ServiceRow {
  namespace: string;
  project: string;
  stage: string;
  service: string;
  policy: string;
  open: number;
  lastOutcome: DisplayPhase | undefined;
}

/** Per project and stage: each service with its policy, open problems and last outcome. */
export function serviceRows(problems: readonly ProblemEvent[], remediations: readonly Remediation[]): ServiceRow[] {
  const rows = new Map<string, ServiceRow & { last: number }>();
  const row = (namespace: string, project: string, stage: string, service: string): ServiceRow & { last: number } => {
    const key = [namespace, project, stage, service].join('\u0000');
    let r = rows.get(key);
    if (!r) {
      r = {
        namespace,
        project,
        stage,
        service,
        policy: 'remediation.yaml in Git',
        open: 0,
        lastOutcome: undefined,
        last: -1,
      };
      rows.set(key, r);
    }
    return r;
  };
  for (const r of remediations)
    row(r.metadata.namespace ?? '', r.spec.project, r.spec.stage, r.spec.service).policy =
      `Remediation ${r.metadata.name ?? ''}`;
  for (const p of problems) {
    const r = row(p.metadata.namespace ?? '', p.spec.project, p.spec.stage, p.spec.service);
    if (!isTerminal(p.status?.phase)) r.open += 1;
    else {
      const t = Date.parse(p.status?.completionTime ?? '') || 0;
      if (t >= r.last) {
        r.last = t;
        r.lastOutcome = displayPhase(p);
      }
    }
  }
  return [...rows.values()]
    .map(({ last: _last, ...r }) => r)
    .sort((a, b) =>
      [a.namespace, a.project, a.stage, a.service]
        .join('/')
        .localeCompare([b.namespace, b.project, b.stage, b.service].join('/')),
    );
}

export function servicesPage(layout: Layout, rows: readonly ServiceRow[]): string {
  return page(
    layout,
    html`<h1>Services</h1>
      ${dataTable(
        ['Namespace', 'Project', 'Stage', 'Service', 'Policy', 'Open problems', 'Last outcome'],
        rows.map((r) => [
          r.namespace,
          r.project,
          r.stage,
          html`<a href="/${query({ project: r.project, stage: r.stage, service: r.service })}">${r.service}</a>`,
          r.policy,
          r.open,
          r.lastOutcome ? phaseBadge(r.lastOutcome) : '–',
        ]),
      )}`,
  );
}

export function healthPage(
  layout: Layout,
  health: { informers: InformerHealth[]; leading: boolean; identity: string },
  projects: readonly Project[],
): string {
  const cond = (p: Project, type: string): Condition | undefined =>
    (p.status?.conditions ?? []).find((c) => c.type === type);
  return page(
    layout,
    html`<h1>Rebound's health</h1>
      ${dl([
        ['Replica', health.identity],
        ['Leader', health.leading ? 'yes: this replica acts' : 'no: another replica acts'],
      ])}
      <h2>Informers</h2>
      ${dataTable(
        ['Cache', 'Synced'],
        health.informers.map((i) => [i.name, i.synced ? 'yes' : html`<strong>no</strong>`]),
      )}
      <h2>Projects</h2>
      ${dataTable(
        ['Project', 'Git reachable', 'Config valid', 'Message'],
        projects.map((p) => {
          const git = cond(p, 'GitReachable');
          const config = cond(p, 'ConfigValid');
          return [
            `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`,
            git ? `${git.status} (${git.reason})` : 'unknown',
            config ? `${config.status} (${config.reason})` : 'unknown',
            git?.status === 'True' ? config?.message : git?.message,
          ];
        }),
      )}`,
  );
}
