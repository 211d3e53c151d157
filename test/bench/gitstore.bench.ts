// Git write-back benchmark: a remediation step (fetch, edit one line of <service>/values.yaml, commit,
// push) by Rebound's Git store and by the native git CLI, side by side, against the same real
// `git http-backend` on loopback (run in its own process), for three repositories in Keptn's layout:
// h100 (100 services, 100 commits), h10k (100 services, 10,000 commits), f2k (2,000 services, 100 commits).
//
//   node test/bench/gitstore.bench.ts
//
// Environment: REBOUND_BENCH_STEPS (consecutive Rebound steps on h100 for the drift figure, default
// 1000), REBOUND_BENCH_COMPARE_STEPS (steps per tool and repository for the side-by-side, default 200).
// Figures are printed, never asserted: wall-clock times depend on the machine and its load.
import { fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { stripTypeScriptTypes } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/gitstore/store.ts';
import type { FileEdit } from '../../src/gitstore/store.ts';
import { runGit, startGitServer } from '../harness/git-server.ts';
import type { GitServerStats } from '../harness/git-server.ts';
import { keptnSeed } from '../harness/keptn-repo.ts';

const SELF = fileURLToPath(import.meta.url);
const BRANCH = 'production';
const MiB = 1024 * 1024;

interface RepoSpec {
  name: string;
  services: number;
  commits: number;
}
const REPOS: RepoSpec[] = [
  { name: 'h100', services: 100, commits: 100 },
  { name: 'h10k', services: 100, commits: 10_000 },
  { name: 'f2k', services: 2_000, commits: 100 },
];

type ServerRequest =
  | { id: number; cmd: 'create'; repo: RepoSpec }
  | { id: number; cmd: 'stats' }
  | { id: number; cmd: 'reset' }
  | { id: number; cmd: 'stop' };
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type ServerReply = { id: number; url?: string; stats?: GitServerStats; error?: string };
interface ServerInfo {
  url: string;
  username: string;
  password: string;
}

// ---- the Git server process ----
async function serve(): Promise<void> {
  const server = await startGitServer();
  const send = (message: unknown): void => void process.send?.(message);
  process.on('message', (raw: ServerRequest) => {
    const reply = async (): Promise<ServerReply> => {
      switch (raw.cmd) {
        case 'create': {
          const { url } = await server.createRepo(
            raw.repo.name,
            keptnSeed({ services: raw.repo.services, commits: raw.repo.commits, stages: [BRANCH], examplesDir: null }),
          );
          return { id: raw.id, url };
        }
        case 'stats':
          return { id: raw.id, stats: server.stats() };
        case 'reset':
          server.resetStats();
          return { id: raw.id };
        case 'stop':
          await server.stop();
          setImmediate(() => process.exit(0));
          return { id: raw.id };
      }
    };
    reply().then(send, (err: unknown) => send({ id: raw.id, error: String(err) }));
  });
  send({ ready: { url: server.url, username: server.username, password: server.password } });
}

class ServerClient {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: ServerReply) => void>();
  readonly child: ChildProcess;
  readonly info: ServerInfo;

  private constructor(child: ChildProcess, info: ServerInfo) {
    this.child = child;
    this.info = info;
    child.on('message', (reply: ServerReply) => {
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
  }

  static async start(): Promise<ServerClient> {
    const child = fork(SELF, ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const info = await new Promise<ServerInfo>((resolve, reject) => {
      child.once('message', (m: { ready: ServerInfo }) => resolve(m.ready));
      child.once('exit', (code) => reject(new Error(`git server process exited with ${String(code)}`)));
    });
    return new ServerClient(child, info);
  }

  async call(request: WithoutId<ServerRequest>): Promise<ServerReply> {
    const id = this.nextId++;
    const reply = await new Promise<ServerReply>((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ ...request, id });
    });
    if (reply.error !== undefined) throw new Error(reply.error);
    return reply;
  }

  async stats(): Promise<GitServerStats> {
    return (await this.call({ cmd: 'stats' })).stats ?? { requests: 0, bytesReceived: 0, byKind: {} };
  }
}

// ---- the clone-measuring process (a fresh process, so its peak memory is the clone's) ----
async function cloneChild(url: string, dir: string): Promise<void> {
  const auth = { username: process.env.BENCH_GIT_USER ?? '', password: process.env.BENCH_GIT_PASSWORD ?? '' };
  // What the process holds before cloning: Node, isomorphic-git and (running .ts directly) Node's
  // type-stripping compiler, which a compiled build does not load.
  const beforeMiB = process.resourceUsage().maxRSS / 1024;
  const started = performance.now();
  const store = await openStore({ dir, url, auth, author: { name: 'Rebound', email: 'rebound@example.invalid' } });
  await store.head(BRANCH);
  const ms = performance.now() - started;
  store.close();
  process.send?.({ ms, peakMiB: process.resourceUsage().maxRSS / 1024, beforeMiB });
}

async function measureClone(
  url: string,
  dir: string,
  server: ServerInfo,
): Promise<{ ms: number; peakMiB: number; beforeMiB: number }> {
  const child = fork(SELF, ['--clone', url, dir], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_GIT_USER: server.username, BENCH_GIT_PASSWORD: server.password },
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { ms: number; peakMiB: number; beforeMiB: number }) => resolve(m));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`clone process exited with ${String(code)}`));
    });
  });
}

/** Time and peak memory of a native command, through /usr/bin/time when it is there. */
async function timedNative(args: string[], cwd?: string): Promise<{ ms: number; peakMiB: number | undefined }> {
  const useTime = await readFile('/usr/bin/time').then(
    () => true,
    () => false,
  );
  const started = performance.now();
  const stderr = await new Promise<string>((resolve, reject) => {
    const child = useTime
      ? spawn('/usr/bin/time', ['-f', 'MAXRSS=%M', 'git', ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn('git', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(err) : reject(new Error(`git ${args[0] ?? ''} failed: ${err}`))));
  });
  const kb = /MAXRSS=(\d+)/.exec(stderr)?.[1];
  return { ms: performance.now() - started, peakMiB: kb === undefined ? undefined : Number(kb) / 1024 };
}

// ---- steps ----
/** Step i edits one of the first 50 services (the seeder's names: service-001... or service-0001...). */
function serviceName(repo: RepoSpec, step: number): string {
  return `service-${String(1 + (step % 50)).padStart(Math.max(3, String(repo.services).length), '0')}`;
}

interface StepRun {
  times: number[];
  requests: number;
  bytes: number;
  pushBytes: number[];
  rssMiB: number[];
  /** CPU time this process spent per step (user + system): the store's own cost, whatever the load. */
  cpuMsPerStep?: number;
  /** The same per step: unlike wall time, it does not move with the machine's load. */
  cpuMs: number[];
}

function replicaEdit(step: number, service: string): FileEdit {
  const replicas = 100 + step; // always a new value: every step commits
  return {
    path: `${service}/values.yaml`,
    edit: (text) => ({
      text: text.replace(/^replicaCount: *\d+/m, `replicaCount: ${replicas}`),
      summary: `replicaCount -> ${replicas}`,
    }),
    message: `rebound: scale ${service} in ${BRANCH} to ${replicas} replicas`,
    trailers: {
      problem: { namespace: 'bench', name: `p${step}`, uid: `bench-${process.pid}-${step}` },
      attempt: 1,
      action: { action: 'scale', value: String(replicas) },
    },
    since: new Date(Date.now() - 60_000),
  };
}

async function reboundSteps(
  server: ServerClient,
  repo: RepoSpec,
  url: string,
  dir: string,
  steps: number,
): Promise<StepRun> {
  const store = await openStore({
    dir,
    url,
    auth: { username: server.info.username, token: server.info.password },
    author: { name: 'Rebound', email: 'rebound@example.invalid' },
  });
  await store.head(BRANCH);
  // Warm-up outside the figures: the first push after the clone has nothing cached.
  for (let i = 0; i < 3; i += 1) await store.commitEdit(BRANCH, replicaEdit(1_000_000 + i, serviceName(repo, i)));
  await server.call({ cmd: 'reset' });
  const run: StepRun = { times: [], requests: 0, bytes: 0, pushBytes: [], rssMiB: [], cpuMs: [] };
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < steps; i += 1) {
    // Change a different line each step, as a real alert storm would: 1 of the first 50 services.
    const service = serviceName(repo, i);
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const result = await store.commitEdit(BRANCH, replicaEdit(i, service));
    run.times.push(performance.now() - started);
    const cpu = process.cpuUsage(cpuBefore);
    run.cpuMs.push((cpu.user + cpu.system) / 1000);
    if (result.status !== 'committed') throw new Error(`step ${i} did not commit: ${result.status}`);
    run.pushBytes.push(store.stats().lastPushBytes);
    if (i % 10 === 0) run.rssMiB.push(process.memoryUsage().rss / MiB);
    if (i % 100 === 99 && process.env.REBOUND_BENCH_TRACE !== undefined) {
      const m = process.memoryUsage();
      console.log(
        `step ${i + 1}: rss ${(m.rss / MiB).toFixed(0)} MiB, heap ${(m.heapUsed / MiB).toFixed(0)} of ${(m.heapTotal / MiB).toFixed(0)} MiB, external ${(m.external / MiB).toFixed(0)} MiB, arrayBuffers ${(m.arrayBuffers / MiB).toFixed(0)} MiB`,
      );
    }
  }
  const cpu = process.cpuUsage(cpuStart);
  run.cpuMsPerStep = (cpu.user + cpu.system) / 1000 / steps;
  const stats = await server.stats();
  run.requests = stats.requests;
  run.bytes = stats.bytesReceived;
  store.close();
  return run;
}

async function nativeSteps(
  server: ServerClient,
  repo: RepoSpec,
  url: string,
  dir: string,
  steps: number,
): Promise<StepRun> {
  const header = `Authorization: Basic ${Buffer.from(`${server.info.username}:${server.info.password}`).toString('base64')}`;
  // Credentials as an up-front header, as Rebound sends them: no 401 round trip for either tool.
  await runGit([
    '-c',
    `http.extraHeader=${header}`,
    'clone',
    '--quiet',
    '--single-branch',
    '--branch',
    BRANCH,
    url,
    dir,
  ]);
  await runGit(['config', 'http.extraHeader', header], { cwd: dir });
  await runGit(['config', 'user.name', 'Native'], { cwd: dir });
  await runGit(['config', 'user.email', 'native@example.invalid'], { cwd: dir });
  await server.call({ cmd: 'reset' });
  const run: StepRun = { times: [], requests: 0, bytes: 0, pushBytes: [], rssMiB: [], cpuMs: [] };
  for (let i = 0; i < steps; i += 1) {
    const service = serviceName(repo, i);
    const file = join(dir, service, 'values.yaml');
    const started = performance.now();
    await runGit(['pull', '--quiet', '--ff-only', 'origin', BRANCH], { cwd: dir });
    await writeFile(
      file,
      (await readFile(file, 'utf8')).replace(/^replicaCount: *\d+/m, `replicaCount: ${100_000 + i}`),
    );
    await runGit(['commit', '--quiet', '-am', `native step ${i}`], { cwd: dir });
    await runGit(['push', '--quiet', 'origin', `HEAD:${BRANCH}`], { cwd: dir });
    run.times.push(performance.now() - started);
  }
  const stats = await server.stats();
  run.requests = stats.requests;
  run.bytes = stats.bytesReceived;
  return run;
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

const ms = (v: number): string => `${v.toFixed(1)} ms`;
const pad = (text: string, width: number): string => text.padEnd(width);

async function main(): Promise<void> {
  const driftSteps = Number(process.env.REBOUND_BENCH_STEPS ?? 1000);
  const compareSteps = Number(process.env.REBOUND_BENCH_COMPARE_STEPS ?? 200);
  const work = await mkdtemp(join(tmpdir(), 'rebound-git-bench-'));
  const server = await ServerClient.start();
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(
    `git write-back bench: Node ${process.version}, ${(await runGit(['--version'])).trim()}, load average ${load}`,
  );
  console.log(
    `steps: ${driftSteps} consecutive Rebound steps on h100 (drift), ${compareSteps} per tool and repository side by side\n`,
  );
  const rows: string[][] = [];
  const notes: string[] = [];
  try {
    for (const repo of REPOS) {
      const seedStart = performance.now();
      const reply = await server.call({ cmd: 'create', repo });
      const url = reply.url ?? '';
      const seedMs = performance.now() - seedStart;

      const clone = await measureClone(url, join(work, `${repo.name}-clone`), server.info);
      const nativeClone = await timedNative([
        '-c',
        `http.extraHeader=Authorization: Basic ${Buffer.from(`${server.info.username}:${server.info.password}`).toString('base64')}`,
        'clone',
        '--quiet',
        '--depth',
        '1',
        '--single-branch',
        '--branch',
        BRANCH,
        url,
        join(work, `${repo.name}-native-clone`),
      ]);

      const steps = repo.name === 'h100' ? Math.max(driftSteps, compareSteps) : compareSteps;
      const rebound = await reboundSteps(server, repo, url, join(work, `${repo.name}-store`), steps);
      const native = await nativeSteps(server, repo, url, join(work, `${repo.name}-native`), compareSteps);
      const compared = rebound.times.slice(0, compareSteps);

      rows.push([
        repo.name,
        `${ms(quantile(compared, 0.5))} / ${ms(quantile(compared, 0.95))}`,
        `${ms(quantile(native.times, 0.5))} / ${ms(quantile(native.times, 0.95))}`,
        `${(quantile(native.times, 0.5) / quantile(compared, 0.5)).toFixed(2)}x`,
        `${(rebound.requests / steps).toFixed(2)} / ${(native.requests / compareSteps).toFixed(2)}`,
        `${Math.round(quantile(rebound.pushBytes, 0.5))} B / ${Math.round(native.bytes / compareSteps)} B`,
        `${ms(clone.ms)}, ${clone.peakMiB.toFixed(0)} MiB (${clone.beforeMiB.toFixed(0)} before)`,
        `${ms(nativeClone.ms)}, ${nativeClone.peakMiB === undefined ? '?' : `${nativeClone.peakMiB.toFixed(0)} MiB`}`,
      ]);
      if (repo.name === 'h100' && rebound.times.length >= 200) {
        const first = quantile(rebound.times.slice(0, 100), 0.5);
        const last = quantile(rebound.times.slice(-100), 0.5);
        notes.push(
          `drift (h100, ${rebound.times.length} consecutive steps): median of first 100 ${ms(first)}, of last 100 ${ms(last)} ` +
            `(${(((last - first) / first) * 100).toFixed(1)}%); p50/p95 over all ${ms(quantile(rebound.times, 0.5))} / ${ms(quantile(rebound.times, 0.95))}`,
        );
        const medians: string[] = [];
        for (let at = 0; at < rebound.times.length; at += 100)
          medians.push(quantile(rebound.times.slice(at, at + 100), 0.5).toFixed(1));
        notes.push(`median per 100 steps (ms): ${medians.join(' ')}`);
        const cpuFirst = quantile(rebound.cpuMs.slice(0, 100), 0.5);
        const cpuLast = quantile(rebound.cpuMs.slice(-100), 0.5);
        notes.push(
          `the store's own CPU per step (load-independent): median of first 100 ${ms(cpuFirst)}, of last 100 ${ms(cpuLast)} ` +
            `(${(((cpuLast - cpuFirst) / cpuFirst) * 100).toFixed(1)}%)`,
        );
        const rss = rebound.rssMiB;
        notes.push(
          `resident memory during the h100 run: first sample ${rss[0]?.toFixed(0)} MiB, max ${Math.max(...rss).toFixed(0)} MiB, last ${rss[rss.length - 1]?.toFixed(0)} MiB`,
        );
      }
      notes.push(`${repo.name}: Rebound client CPU ${(rebound.cpuMsPerStep ?? 0).toFixed(2)} ms per step`);
      notes.push(`${repo.name}: seeded in ${ms(seedMs)} (${repo.services} services, ${repo.commits} commits)`);
    }
  } finally {
    await server.call({ cmd: 'stop' }).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
  const header = [
    'repo',
    'Rebound step p50 / p95',
    'native step p50 / p95',
    'native÷Rebound',
    'HTTP req/step R / N',
    'push bytes R / N',
    'Rebound clone',
    'native clone (depth 1)',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  console.log(header.map((h, i) => pad(h, widths[i] ?? 0)).join(' | '));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows) console.log(row.map((c, i) => pad(c, widths[i] ?? 0)).join(' | '));
  console.log('');
  for (const note of notes) console.log(note);
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    'goals: step p50 <= 40 ms, p95 <= 60 ms, faster than native, flat; <= 2 requests; <= 4 KB push; clone <= 0.3 s / <= 100 MiB; RSS <= 128 MiB',
  );
}

/**
 * Runs this benchmark as plain JavaScript: its TypeScript (and the store's) is stripped into a
 * temporary directory first. Run directly, Node would load its type-stripping compiler into every
 * process (about 18 MiB), which a built controller does not carry: the memory figures would be wrong.
 */
async function runStripped(): Promise<void> {
  const repoRoot = join(dirname(SELF), '..', '..');
  const files = [
    'test/bench/gitstore.bench.ts',
    'src/errors.ts',
    'src/runtime/clock.ts',
    'test/harness/git-server.ts',
    'test/harness/keptn-repo.ts',
    ...['store', 'lock', 'objects', 'pack', 'remote', 'trailers', 'pktline'].map((f) => `src/gitstore/${f}.ts`),
  ];
  const out = await mkdtemp(join(tmpdir(), 'rebound-git-bench-js-'));
  try {
    for (const file of files) {
      const js = stripTypeScriptTypes(await readFile(join(repoRoot, file), 'utf8'), { mode: 'strip' })
        .replace(/(from\s+'\.{1,2}\/[^']*)\.ts'/g, "$1.js'")
        .replace(/from\s+'(isomorphic-git)'/g, (_m, name: string) => `from '${import.meta.resolve(name)}'`);
      const target = join(out, file.replace(/\.ts$/, '.js'));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, js);
    }
    await writeFile(join(out, 'package.json'), '{"type":"module"}\n');
    const child = fork(join(out, 'test/bench/gitstore.bench.js'), ['--main'], { stdio: 'inherit' });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (code !== 0) process.exitCode = code ?? 1;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

const mode = process.argv[2];
if (mode === '--serve') await serve();
else if (mode === '--clone') await cloneChild(process.argv[3] ?? '', process.argv[4] ?? '');
else if (mode === '--main' || SELF.endsWith('.js')) await main();
else await runStripped();
