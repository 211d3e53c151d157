// The controller as the benchmarks run it (not a *.bench.ts file: `make bench` does not run it):
// compiled as the image ships it, started as a child process, ready once /readyz answers, with its
// CPU time and memory read from /proc.
import { spawn } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../harness/ports.ts';
import { runCommand } from '../harness/process.ts';
import { REPO_ROOT } from '../harness/world.ts';

/** The image's NODE_OPTIONS (Dockerfile, manifests/deployment.yaml, the chart; a test keeps them equal). */
export const IMAGE_NODE_OPTIONS = '--max-semi-space-size=4 --max-old-space-size-percentage=30';
/** The memory limit of manifests/deployment.yaml and the chart's default values, MiB. */
export const POD_MEMORY_LIMIT_MIB = 512;

/**
 * The image's Node settings as they come out in a pod at POD_MEMORY_LIMIT_MIB: a benchmark runs
 * without that cgroup limit, so the old generation's percentage of it is passed as a size.
 */
export const IMAGE_NODE_FLAGS = IMAGE_NODE_OPTIONS.split(' ').map((flag) => {
  const percent = /^--max-old-space-size-percentage=(\d+)$/.exec(flag)?.[1];
  return percent === undefined
    ? flag
    : `--max-old-space-size=${String(Math.floor((POD_MEMORY_LIMIT_MIB * Number(percent)) / 100))}`;
});

export interface BenchController {
  pid: number;
  metricsUrl: string;
  readyMs: number;
  /** Resolves when the process exits (on its own or stopped). */
  exited: Promise<void>;
  stop(): Promise<void>;
  output(): string;
}

/**
 * The controller as the image ships it: compiled JavaScript (the Dockerfile runs dist/). Compiled
 * into a scratch directory so the working tree's dist/ is never touched. BENCH_FROM_SOURCE=1 runs
 * the TypeScript sources instead (Node strips the types at load: slower start, ~30 MB more RSS).
 * With `ref`, the sources of that commit (`git archive`), compiled the same way: a baseline to
 * measure the working tree against in the same run.
 */
export async function controllerEntry(scratch: string, ref?: string): Promise<string> {
  if (process.env['BENCH_FROM_SOURCE'] === '1' && ref === undefined) return join(REPO_ROOT, 'bin', 'rebound.js');
  let root = REPO_ROOT;
  if (ref !== undefined) {
    root = join(scratch, 'sources');
    await mkdir(root, { recursive: true });
    const tar = join(scratch, 'sources.tar');
    const paths = ['src', 'tsconfig.json', 'tsconfig.build.json'];
    await runCommand('git', ['-C', REPO_ROOT, 'archive', '--format=tar', '-o', tar, ref, ...paths]);
    await runCommand('tar', ['-xf', tar, '-C', root]);
    await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
  }
  const out = join(scratch, 'dist');
  await runCommand(
    join(REPO_ROOT, 'node_modules', '.bin', 'tsc'),
    ['-p', join(root, 'tsconfig.build.json'), '--outDir', out],
    { timeoutMs: 300_000 },
  );
  await writeFile(join(scratch, 'package.json'), '{"type":"module"}\n');
  await symlink(join(REPO_ROOT, 'node_modules'), join(scratch, 'node_modules'));
  const runner = join(scratch, 'rebound.js');
  await writeFile(
    runner,
    "const { main } = await import('./dist/cli/main.js');\nprocess.exitCode = await main(process.argv.slice(2));\n",
  );
  return runner;
}

export interface StartOptions {
  entry: string;
  kubeconfigPath: string;
  workDir: string;
  compileCacheDir: string;
  /** Flags after `controller` besides the kubeconfig, work dir and metrics address. */
  args: readonly string[];
  nodeFlags?: readonly string[];
  /** Extra environment, e.g. `{ MALLOC_ARENA_MAX: '2' }`. */
  env?: Record<string, string>;
}

/** `rebound controller` as a child process; time to ready is process spawn → first /readyz 200. */
export async function startBenchController(options: StartOptions): Promise<BenchController> {
  const port = await freePort();
  const metricsUrl = `http://127.0.0.1:${String(port)}`;
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeFlags ?? []),
      options.entry,
      'controller',
      '--kubeconfig',
      options.kubeconfigPath,
      '--work-dir',
      options.workDir,
      '--metrics-address',
      `127.0.0.1:${String(port)}`,
      ...options.args,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env, NODE_COMPILE_CACHE: options.compileCacheDir },
    },
  );
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 200));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`controller exited: ${lines.join('\n')}`);
    const ok = await fetch(`${metricsUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`controller not ready in 60 s: ${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const readyMs = performance.now() - started;
  return {
    pid: child.pid ?? 0,
    metricsUrl,
    readyMs,
    exited,
    output: () => lines.join('\n'),
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resident memory now (`VmRSS`) or at its peak so far (`VmHWM`), in MB. */
export async function rssMb(pid: number, which: 'VmRSS' | 'VmHWM' = 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8');
  return Number(new RegExp(`^${which}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
}

/** CPU seconds (user + system) a process has used so far. */
export async function cpuSeconds(pid: number | 'self', of: 'own' | 'children' = 'own'): Promise<number> {
  const stat = await readFile(`/proc/${String(pid)}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime, or cutime and cstime: the finished children's (the Git server's git processes).
  const ticks = of === 'own' ? Number(fields[11]) + Number(fields[12]) : Number(fields[13]) + Number(fields[14]);
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** What a controller's memory was made of when its resident set was largest (from its /metrics). */
export interface MemoryPeak {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

/**
 * Samples a controller's resident memory every `everyMs` and, at each new high, its heap and external
 * memory from /metrics (prom-client's process metrics): where the peak went, not only how high it was.
 * Bounded: it stops when `stop` is called.
 */
export function sampleMemory(c: BenchController, everyMs = 500): { stop(): Promise<MemoryPeak> } {
  let peak: MemoryPeak = { rssMb: 0, heapUsedMb: NaN, heapTotalMb: NaN, externalMb: NaN };
  let stopped = false;
  const metric = (text: string, name: string): number =>
    Number(new RegExp(`^rebound_${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 1024 / 1024;
  const loop = (async () => {
    while (!stopped) {
      const rss = await rssMb(c.pid).catch(() => 0);
      if (rss > peak.rssMb) {
        const text = await fetch(`${c.metricsUrl}/metrics`).then(
          (r) => r.text(),
          () => '',
        );
        peak = {
          rssMb: rss,
          heapUsedMb: metric(text, 'nodejs_heap_size_used_bytes'),
          heapTotalMb: metric(text, 'nodejs_heap_size_total_bytes'),
          externalMb: metric(text, 'nodejs_external_memory_bytes'),
        };
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return peak;
    },
  };
}
