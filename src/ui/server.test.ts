// The UI's HTTP handler on a loopback server with fake caches and a fake API server: paging 10,000
// problems, the security headers, both ways to authenticate, and the event stream.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { fakeCache, fakeKube, generatedProblems } from './fixtures.test-helper.ts';
import { UiChanges, uiHandler } from './server.ts';

const problems = generatedProblems(10_000);
const changes = new UiChanges();
const kube = fakeKube();
const handler = uiHandler(
  {
    cache: fakeCache(problems),
    health: { identity: 't', leading: () => true, informers: () => [] },
    kube,
    log: createLogger({ level: 'silent' }),
    now: () => Date.parse('2026-12-02T00:00:00Z'),
    listDebounceMs: 10,
  },
  changes,
);
let server: Server;
let base = '';
const auth = { authorization: 'Bearer admin-token' };

beforeAll(async () => {
  server = createServer((req, res) => handler.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  handler.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const rows = (body: string): number => (body.match(/<a href="\/problems\//g) ?? []).length;
const flat = (body: string): string => body.replace(/\s+/g, ' ');

describe('the UI server', () => {
  it('pages 10,000 problems on the server: one page of rows, the total, and links to the rest', async () => {
    const res = await fetch(`${base}/`, { headers: auth });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(rows(body)).toBe(50);
    expect(flat(body)).toContain('10000 problems, page 1 of 200');
    expect(body).toContain('href="/?page=200"');
    // Newest first.
    expect(body.indexOf('problem-9999')).toBeGreaterThan(-1);
    expect(body).not.toContain('problem-9949<');
    const last = await (await fetch(`${base}/?page=200&size=50`, { headers: auth })).text();
    expect(rows(last)).toBe(50);
    expect(last).toContain('sockshop/problem-0<');
    const filtered = await (await fetch(`${base}/?service=carts&phase=Exhausted&size=200`, { headers: auth })).text();
    // service carts: i % 5 == 0; Exhausted, the 8th of the 9 phases: i % 9 == 7; both: i % 45 == 25 → 222 problems.
    expect(flat(filtered)).toContain('222 problems, page 1 of 2');
    expect(rows(filtered)).toBe(200);
  });

  it('sends the security headers and asks people without a session to sign in', async () => {
    const res = await fetch(`${base}/`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
    const login = await fetch(`${base}/login`);
    expect(login.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(login.headers.get('x-frame-options')).toBe('DENY');
    expect(await login.text()).not.toMatch(/<script>|\sstyle=|\son[a-z]+=/);
    expect((await fetch(`${base}/`, { headers: { authorization: 'Bearer wrong' }, redirect: 'manual' })).status).toBe(
      303,
    );
  });

  it('signs in with a token into an HttpOnly, SameSite=Strict, Secure cookie, and refuses a cross-site sign-in', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const ok = await fetch(`${base}/login`, {
      method: 'POST',
      headers: form,
      body: 'token=viewer-token',
      redirect: 'manual',
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('set-cookie')).toMatch(
      /^rebound_ui_session=[\w-]{40,}; Path=\/; HttpOnly; SameSite=Strict; Secure$/,
    );
    const cross = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { ...form, origin: 'http://evil.example' },
      body: 'token=viewer-token',
      redirect: 'manual',
    });
    expect(cross.status).toBe(403);
    const cookie = (ok.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const page = await (await fetch(`${base}/problems/sockshop/problem-2`, { headers: { cookie } })).text();
    expect(page).toContain('Read-only');
    const post = await fetch(`${base}/problems/sockshop/problem-2/abort`, {
      method: 'POST',
      headers: { ...form, cookie },
      body: '_csrf=guess',
      redirect: 'manual',
    });
    expect(post.status).toBe(403);
  });

  it('streams the re-rendered list when a problem changes', async () => {
    const res = await fetch(`${base}/events?view=list&size=25`, { headers: auth });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = (res.body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const decoder = new TextDecoder();
    let text = '';
    const until = async (want: RegExp): Promise<void> => {
      while (!want.test(text)) {
        const chunk = await reader.next();
        if (chunk.done) throw new Error(`stream ended before ${String(want)}`);
        text += decoder.decode(chunk.value);
      }
    };
    await until(/event: html\n(data: .*\n)+\n/);
    const first = text;
    expect(flat(first.replace(/^data: /gm, ''))).toContain('10000 problems, page 1 of 400');
    text = '';
    changes.notify('problemevents', 'sockshop', 'problem-0');
    await until(/event: html\n(data: .*\n)+\n/);
    await reader.return?.();
  });
});
