// The web UI's problem list over 10,000 ProblemEvents in the informer cache: server time per page
// (filter, sort, render, send) as a person pages and filters. Bounded: a fixed number of requests
// against a loopback server with fake access checks (the SubjectAccessReview is cached per user).
// Run: node test/bench/ui.bench.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../../src/observability/logger.ts';
import { fakeCache, fakeKube, generatedProblems } from '../../src/ui/fixtures.test-helper.ts';
import { UiChanges, uiHandler } from '../../src/ui/server.ts';

const COUNT = 10_000;
const ROUNDS = 40;
const handler = uiHandler(
  {
    cache: fakeCache(generatedProblems(COUNT)),
    health: { identity: 'bench', leading: () => true, informers: () => [] },
    kube: fakeKube(),
    log: createLogger({ level: 'silent' }),
    now: () => Date.now(),
  },
  new UiChanges(),
);
const server = createServer((req, res) => handler.handle(req, res));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const QUERIES = {
  'first page': '/',
  'page 100': '/?page=100',
  'last page, 200 rows': '/?page=50&size=200',
  'service + phase filter': '/?service=carts&phase=Exhausted',
  'text search': '/?q=failure',
};

console.log(`UI problem list over ${COUNT} ProblemEvents, ${ROUNDS} requests each (loopback HTTP)`);
for (const [name, path] of Object.entries(QUERIES)) {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    const res = await fetch(`${base}${path}`, { headers: { authorization: 'Bearer admin-token' } });
    await res.text();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const p = (q: number): string => (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0).toFixed(1);
  console.log(`  ${name.padEnd(24)} p50 ${p(0.5)} ms  p95 ${p(0.95)} ms  max ${p(1)} ms`);
}
server.close();
