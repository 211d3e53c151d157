// The web UI's HTTP handler: server-rendered pages over the controller's informer caches, live
// updates by server-sent events, and controls that act with the user's own Kubernetes token.
//
// Every request but the sign-in page and the assets is authenticated (a session made from a bearer
// token, or an `Authorization: Bearer` header from a proxy in front), and every read and write is
// authorized by a SubjectAccessReview for that user: a person sees the namespaces they may list
// ProblemEvents in, and sees controls only where RBAC lets them create Approvals or patch
// ProblemEvents. Writes are then made with the user's token, so the API server decides again.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { GROUP, PLURALS } from '../api/constants.ts';
import type { ApprovalDecision, ProblemEvent } from '../api/index.ts';
import { errorMessage } from '../errors.ts';
import { ASSETS } from './assets.ts';
import { pageProblems, parseProblemQuery } from './model.ts';
import type { AccessAttributes, KubeEventRow, UiCache, UiHealth, UiKube, UiSliSeries, UserInfo } from './ports.ts';
import { SliSeriesCache } from './sli-series.ts';
import { SESSION_COOKIE, Sessions, cookie, csrfMatches, sameOrigin } from './sessions.ts';
import type { Session } from './sessions.ts';
import {
  errorPage,
  healthPage,
  loginPage,
  problemDetail,
  problemPage,
  problemTable,
  problemsPage,
  serviceRows,
  servicesPage,
} from './views.ts';
import type { Layout, ProblemView } from './views.ts';

export interface UiOptions {
  cache: UiCache;
  health: UiHealth;
  kube: UiKube;
  log: Logger;
  now: () => number;
  /** Set the cookie's Secure flag (default true; browsers keep Secure cookies on http://localhost too). */
  secureCookie?: boolean;
  /** Coalesce changes for this long before pushing a problem page (default 100 ms) or the list (default 1 s). */
  problemDebounceMs?: number;
  listDebounceMs?: number;
  /** How long an access decision is reused (default 10 s). */
  accessTtlMs?: number;
  /** At most this many open event streams (default 500). */
  maxStreams?: number;
  /** Where SLI charts read their values; without it the page says no Prometheus is configured. */
  sliSeries?: UiSliSeries;
  /** How long chart values are reused (default 30 s). */
  chartTtlMs?: number;
}

/** The caches' change feed: wire.ts calls `notify` from the informers' handlers (synchronous, cheap). */
export class UiChanges {
  readonly #listeners = new Set<(namespace: string, name: string, kind: string) => void>();
  notify(kind: string, namespace: string, name: string): void {
    for (const l of this.#listeners) l(namespace, name, kind);
  }
  subscribe(listener: (namespace: string, name: string, kind: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

interface Identity {
  user: UserInfo;
  token: string;
  /** Undefined for header authentication (no cookie, so no CSRF to guard against). */
  session: Session | undefined;
}

const PROBLEMS = { group: GROUP, resource: PLURALS.ProblemEvent };
const MAX_BODY = 16 * 1024;

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export interface UiHandler {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Ends every event stream (the server can then close). */
  close(): void;
}

export function uiHandler(options: UiOptions, changes: UiChanges): UiHandler {
  const { cache, kube, log } = options;
  const sessions = new Sessions({ now: options.now });
  const accessTtl = options.accessTtlMs ?? 10_000;
  const decisions = new Map<string, { allowed: boolean; at: number }>();
  const tokenUsers = new Map<string, { user: UserInfo | undefined; at: number }>();
  const streams = new Set<ServerResponse>();
  const maxStreams = options.maxStreams ?? 500;
  const eventCache = new Map<string, { rows: KubeEventRow[] | undefined; at: number }>();
  const series = options.sliSeries
    ? new SliSeriesCache(options.sliSeries, {
        now: options.now,
        ...(options.chartTtlMs === undefined ? {} : { ttlMs: options.chartTtlMs }),
      })
    : undefined;

  async function allowed(user: UserInfo, attrs: AccessAttributes): Promise<boolean> {
    const key = JSON.stringify([user.username, user.groups, attrs.verb, attrs.group, attrs.resource, attrs.namespace]);
    const hit = decisions.get(key);
    const now = options.now();
    if (hit && now - hit.at < accessTtl) return hit.allowed;
    const result = await kube.allowed(user, attrs);
    if (decisions.size > 50_000) decisions.clear();
    decisions.set(key, { allowed: result, at: now });
    return result;
  }

  /** Namespaces whose ProblemEvents the user may list: `all`, or a set of the namespaces in the cache. */
  async function visibleNamespaces(
    user: UserInfo,
    resource: string,
    namespaces: Iterable<string>,
  ): Promise<'all' | Set<string>> {
    if (await allowed(user, { verb: 'list', group: GROUP, resource, namespace: '' })) return 'all';
    const out = new Set<string>();
    for (const ns of new Set(namespaces))
      if (await allowed(user, { verb: 'list', group: GROUP, resource, namespace: ns })) out.add(ns);
    return out;
  }

  async function visibleProblems(user: UserInfo): Promise<readonly ProblemEvent[]> {
    const all = cache.problems();
    const seen = await visibleNamespaces(
      user,
      PROBLEMS.resource,
      all.map((p) => p.metadata.namespace ?? ''),
    );
    return seen === 'all' ? all : all.filter((p) => seen.has(p.metadata.namespace ?? ''));
  }

  async function identify(req: IncomingMessage): Promise<Identity | undefined> {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      const token = header.slice('Bearer '.length).trim();
      const key = createHash('sha256').update(token).digest('hex');
      const now = options.now();
      let hit = tokenUsers.get(key);
      if (!hit || now - hit.at > accessTtl) {
        hit = { user: await kube.authenticate(token), at: now };
        if (tokenUsers.size > 10_000) tokenUsers.clear();
        tokenUsers.set(key, hit);
      }
      return hit.user ? { user: hit.user, token, session: undefined } : undefined;
    }
    const session = sessions.get(cookie(req.headers.cookie, SESSION_COOKIE));
    return session ? { user: session.user, token: session.token, session } : undefined;
  }

  const layout = (id: Identity | undefined, title: string, nav: Layout['nav']): Layout => ({
    title,
    script: ASSETS.script.path,
    style: ASSETS.style.path,
    nav,
    ...(id ? { user: id.user } : {}),
    ...(id?.session ? { csrf: id.session.csrf } : {}),
  });

  function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    });
    res.end(body);
  }

  const redirect = (res: ServerResponse, to: string, headers: Record<string, string> = {}): void =>
    send(res, 303, '', { location: to, ...headers });

  function cookieHeader(value: string, maxAge?: number): string {
    return [
      `${SESSION_COOKIE}=${value}`,
      'Path=/',
      'HttpOnly',
      'SameSite=Strict',
      ...(options.secureCookie === false ? [] : ['Secure']),
      ...(maxAge !== undefined ? [`Max-Age=${maxAge}`] : []),
    ].join('; ');
  }

  async function readForm(req: IncomingMessage): Promise<URLSearchParams | 'too-large' | 'bad-type'> {
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('application/x-www-form-urlencoded')) return 'bad-type';
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) return 'too-large';
      chunks.push(chunk);
    }
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  }

  async function events(id: Identity, problem: ProblemEvent): Promise<KubeEventRow[] | undefined> {
    const uid = problem.metadata.uid ?? '';
    const key = `${id.user.username}\u0000${uid}`;
    const hit = eventCache.get(key);
    const now = options.now();
    if (hit && now - hit.at < 5_000) return hit.rows;
    const rows = await kube.events(id.token, problem.metadata.namespace ?? '', uid).catch((err: unknown) => {
      log.debug({ err: errorMessage(err) }, 'could not read events for the UI');
      return undefined;
    });
    if (eventCache.size > 1000) eventCache.clear();
    eventCache.set(key, { rows, at: now });
    return rows;
  }

  async function problemView(id: Identity, problem: ProblemEvent): Promise<ProblemView> {
    const ns = problem.metadata.namespace ?? '';
    const [answer, suspend, evs, charts] = await Promise.all([
      allowed(id.user, { verb: 'create', group: GROUP, resource: PLURALS.Approval, namespace: ns }),
      allowed(id.user, { verb: 'patch', ...PROBLEMS, namespace: ns }),
      events(id, problem),
      series?.charts(problem),
    ]);
    return {
      problem,
      project: cache.projects().find((p) => p.metadata.namespace === ns && p.metadata.name === problem.spec.project),
      approvals: cache.approvals(ns, problem.metadata.name ?? ''),
      events: evs,
      charts,
      // Header-authenticated users get no forms: the forms' CSRF token lives in a session.
      may: { answer: answer && id.session !== undefined, suspend: suspend && id.session !== undefined },
      csrf: id.session?.csrf ?? '',
      nowMs: options.now(),
    };
  }

  async function listPage(id: Identity, url: URL, res: ServerResponse): Promise<void> {
    const q = parseProblemQuery(url.searchParams);
    const result = pageProblems(await visibleProblems(id.user), q);
    send(res, 200, problemsPage(layout(id, 'Problems', 'problems'), result, q, options.now()));
  }

  function problemPath(path: string): { namespace: string; name: string; action?: string } | undefined {
    const m = /^\/problems\/([^/]+)\/([^/]+)(?:\/(answer|abort|retry))?$/.exec(path);
    if (!m) return undefined;
    try {
      return {
        namespace: decodeURIComponent(m[1] ?? ''),
        name: decodeURIComponent(m[2] ?? ''),
        ...(m[3] ? { action: m[3] } : {}),
      };
    } catch {
      return undefined;
    }
  }

  async function showProblem(
    id: Identity,
    ref: { namespace: string; name: string },
    res: ServerResponse,
  ): Promise<void> {
    const l = layout(id, 'Problem', 'problems');
    if (!(await allowed(id.user, { verb: 'get', ...PROBLEMS, namespace: ref.namespace })))
      return send(res, 403, errorPage(l, 403, `You may not read ProblemEvents in ${ref.namespace}.`));
    const problem = cache.problem(ref.namespace, ref.name);
    if (!problem) return send(res, 404, errorPage(l, 404, `ProblemEvent ${ref.namespace}/${ref.name} does not exist.`));
    send(res, 200, problemPage({ ...l, title: problem.spec.problemTitle }, await problemView(id, problem)));
  }

  async function act(
    id: Identity,
    req: IncomingMessage,
    ref: { namespace: string; name: string; action?: string },
    res: ServerResponse,
  ): Promise<void> {
    const l = layout(id, 'Problem', 'problems');
    const form = await readForm(req);
    if (form === 'too-large') return send(res, 413, errorPage(l, 413, 'The form is too large.'));
    if (form === 'bad-type') return send(res, 415, errorPage(l, 415, 'Forms only.'));
    // Controls come from our own forms: a session with its CSRF token, from our own origin.
    if (!id.session || !csrfMatches(id.session, form.get('_csrf') ?? undefined) || !sameOrigin(req.headers))
      return send(
        res,
        403,
        errorPage(l, 403, 'The form was not sent from this page (CSRF check failed). Reload and try again.'),
      );
    const problem = cache.problem(ref.namespace, ref.name);
    if (!problem) return send(res, 404, errorPage(l, 404, `ProblemEvent ${ref.namespace}/${ref.name} does not exist.`));
    const back = `/problems/${encodeURIComponent(ref.namespace)}/${encodeURIComponent(ref.name)}`;
    try {
      if (ref.action === 'answer') {
        if (
          !(await allowed(id.user, {
            verb: 'create',
            group: GROUP,
            resource: PLURALS.Approval,
            namespace: ref.namespace,
          }))
        )
          return send(res, 403, errorPage(l, 403, `You may not create Approvals in ${ref.namespace}.`));
        const decision = form.get('decision');
        const attempt = Number(form.get('attempt'));
        if ((decision !== 'Approve' && decision !== 'Reject') || !Number.isInteger(attempt) || attempt < 1)
          return send(res, 400, errorPage(l, 400, 'Choose Approve or Reject for an attempt.'));
        const message = (form.get('message') ?? '').trim().slice(0, 1024);
        const name = await kube.createApproval(id.token, id.user, {
          namespace: ref.namespace,
          problem: ref.name,
          attempt,
          decision: decision satisfies ApprovalDecision,
          ...(message ? { message } : {}),
        });
        log.info(
          { user: id.user.username, problem: `${ref.namespace}/${ref.name}`, attempt, decision, approval: name },
          'approval made in the UI',
        );
      } else {
        if (!(await allowed(id.user, { verb: 'patch', ...PROBLEMS, namespace: ref.namespace })))
          return send(res, 403, errorPage(l, 403, `You may not patch ProblemEvents in ${ref.namespace}.`));
        const suspend = ref.action === 'abort';
        await kube.setSuspended(id.token, ref.namespace, ref.name, suspend);
        log.info(
          { user: id.user.username, problem: `${ref.namespace}/${ref.name}`, suspend },
          suspend ? 'remediation aborted in the UI' : 'remediation resumed in the UI',
        );
      }
    } catch (err) {
      const status = (err as { status?: number }).status;
      const code = status === 403 || status === 404 || status === 409 || status === 422 ? status : 502;
      return send(res, code, errorPage(l, code, `The API server refused: ${errorMessage(err)}`));
    }
    redirect(res, back);
  }

  function stream(id: Identity, url: URL, req: IncomingMessage, res: ServerResponse): void {
    const view = url.searchParams.get('view');
    const ns = url.searchParams.get('namespace') ?? '';
    const name = url.searchParams.get('name') ?? '';
    if ((view !== 'list' && view !== 'problem') || (view === 'problem' && (!ns || !name)))
      return send(res, 400, 'unknown view', { 'content-type': 'text/plain' });
    if (streams.size >= maxStreams)
      return send(res, 503, 'too many live views', { 'content-type': 'text/plain', 'retry-after': '30' });
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    streams.add(res);
    let timer: NodeJS.Timeout | undefined;
    let rendering = false;
    let again = false;
    const debounce = view === 'problem' ? (options.problemDebounceMs ?? 100) : (options.listDebounceMs ?? 1000);
    const sendEvent = (event: string, data: string): void => {
      res.write(
        `event: ${event}\n${data
          .split('\n')
          .map((l) => `data: ${l}`)
          .join('\n')}\n\n`,
      );
    };
    const push = async (): Promise<void> => {
      if (rendering) {
        again = true;
        return;
      }
      rendering = true;
      try {
        // The session may have ended, or RBAC changed: a stream lives only as long as the right to read.
        if (id.session && sessions.get(id.session.id) === undefined) return end();
        if (view === 'problem') {
          if (!(await allowed(id.user, { verb: 'get', ...PROBLEMS, namespace: ns }))) return end();
          const problem = cache.problem(ns, name);
          if (!problem) return sendEvent('gone', '');
          sendEvent('html', problemDetail(await problemView(id, problem)).value);
        } else {
          const q = parseProblemQuery(url.searchParams);
          sendEvent('html', problemTable(pageProblems(await visibleProblems(id.user), q), q, options.now()).value);
        }
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'could not render a live update');
      } finally {
        rendering = false;
        if (again) {
          again = false;
          schedule();
        }
      }
    };
    const schedule = (): void => {
      timer ??= setTimeout(() => {
        timer = undefined;
        void push();
      }, debounce);
    };
    const unsubscribe = changes.subscribe((cns, cname, kind) => {
      if (view === 'list' ? kind === 'problemevents' : cns === ns && (kind === 'approvals' || cname === name))
        schedule();
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
    const end = (): void => {
      if (timer) clearTimeout(timer);
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
      if (!res.writableEnded) res.end();
    };
    req.on('close', end);
    res.on('error', end);
    // What changed between the page's render and this stream's start.
    void push();
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    for (const asset of Object.values(ASSETS)) {
      if (path === asset.path && method === 'GET') {
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'content-type': asset.type,
          'cache-control': 'public, max-age=31536000, immutable',
        });
        res.end(asset.body);
        return;
      }
    }
    if (path === '/login' && method === 'GET')
      return send(res, 200, loginPage(layout(undefined, 'Sign in', 'none'), false));
    if (path === '/login' && method === 'POST') {
      if (!sameOrigin(req.headers)) {
        log.info({ origin: req.headers.origin, site: req.headers['sec-fetch-site'] }, 'cross-site sign-in refused');
        return send(res, 403, errorPage(layout(undefined, 'Sign in', 'none'), 403, 'Cross-site sign-in refused.'));
      }
      const form = await readForm(req);
      const token = typeof form === 'string' ? undefined : form.get('token')?.trim();
      const user = token ? await kube.authenticate(token) : undefined;
      if (!token || !user) log.info('sign-in refused: the API server did not accept the token');
      if (!token || !user) return send(res, 401, loginPage(layout(undefined, 'Sign in', 'none'), true));
      const session = sessions.create(token, user);
      log.info({ user: user.username }, 'signed in to the UI');
      return redirect(res, '/', { 'set-cookie': cookieHeader(session.id) });
    }
    const id = await identify(req);
    if (!id) {
      if (path === '/events') return send(res, 401, 'sign in first', { 'content-type': 'text/plain' });
      return redirect(res, '/login');
    }
    if (path === '/logout' && method === 'POST') {
      const form = await readForm(req);
      if (id.session && typeof form !== 'string' && csrfMatches(id.session, form.get('_csrf') ?? undefined))
        sessions.delete(id.session.id);
      return redirect(res, '/login', { 'set-cookie': cookieHeader('', 0) });
    }
    if (method === 'GET' && path === '/') return listPage(id, url, res);
    if (method === 'GET' && path === '/events') return stream(id, url, req, res);
    if (method === 'GET' && path === '/services') {
      const rems = cache.remediations();
      const seen = await visibleNamespaces(
        id.user,
        PROBLEMS.resource,
        [...cache.problems(), ...rems].map((o) => o.metadata.namespace ?? ''),
      );
      const visible = <T extends { metadata: { namespace?: string } }>(list: readonly T[]): T[] =>
        list.filter((o) => seen === 'all' || seen.has(o.metadata.namespace ?? ''));
      return send(
        res,
        200,
        servicesPage(layout(id, 'Services', 'services'), serviceRows(visible(cache.problems()), visible(rems))),
      );
    }
    if (method === 'GET' && path === '/health') {
      const projects = cache.projects();
      const seen = await visibleNamespaces(
        id.user,
        PLURALS.Project,
        projects.map((p) => p.metadata.namespace ?? ''),
      );
      const health = {
        informers: options.health.informers(),
        leading: options.health.leading(),
        identity: options.health.identity,
      };
      return send(
        res,
        200,
        healthPage(
          layout(id, 'Health', 'health'),
          health,
          projects.filter((p) => seen === 'all' || seen.has(p.metadata.namespace ?? '')),
        ),
      );
    }
    const ref = problemPath(path);
    if (ref && method === 'GET' && ref.action === undefined) return showProblem(id, ref, res);
    if (ref && method === 'POST' && ref.action !== undefined) return act(id, req, ref, res);
    send(res, 404, errorPage(layout(id, 'Not found', 'none'), 404, 'There is no such page.'));
  }

  return {
    handle(req, res) {
      route(req, res).catch((err: unknown) => {
        log.error({ err: errorMessage(err) }, 'UI request failed');
        if (!res.headersSent) send(res, 500, 'internal error', { 'content-type': 'text/plain' });
        else res.end();
      });
    },
    close() {
      for (const res of [...streams]) {
        res.end();
        res.socket?.end();
      }
    },
  };
}
