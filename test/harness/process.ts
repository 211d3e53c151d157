// Supervision of the local servers we start (etcd, kube-apiserver, Prometheus, Alertmanager, ...).
//
// Every child runs in its own process group (detached), so stopping it also stops anything it
// started, and a Ctrl-C on the terminal reaches only us: we decide the order of shutdown. Nothing may
// outlive the Node process: live children and their temporary directories are remembered, and killed
// and removed on 'exit' and on SIGINT/SIGTERM/SIGHUP when nobody else handles those signals. (A
// SIGKILL of Node itself cannot be caught; that is the one case that can leave orphans behind.)
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReboundError, errorMessage } from '../../src/errors.ts';
import { LOOPBACK, freePort, retryOnAddressInUse } from './ports.ts';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartProcessOptions {
  /** Short name used in messages: 'etcd', 'kube-apiserver'. */
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** How many lines of output to keep for error messages (default 60). */
  keepLines?: number;
  /** Run as this user and group (only root may switch: PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  /** What stop() sends first (default SIGTERM; PostgreSQL's fast shutdown is SIGINT). */
  stopSignal?: NodeJS.Signals;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Settles (never rejects) once the process has exited. */
  readonly exited: Promise<ProcessExit>;
  /** The exit status once the process has exited. */
  exitStatus(): ProcessExit | undefined;
  /** The last lines the process wrote to stdout and stderr, oldest first. */
  recentOutput(): string;
  /** SIGTERM (or `stopSignal`) to the process group, SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const DEFAULT_GRACE_MS = 10_000;
const HANDLED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const liveGroups = new Set<number>();
const tempDirs = new Set<string>();
let hooksInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function cleanUpNow(): void {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  liveGroups.clear();
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Best effort while exiting; nothing useful can be done with the error here.
    }
  }
  tempDirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // A program with its own handler (the demo, vitest) owns its shutdown; the 'exit' hook still runs.
  if (process.listenerCount(signal) > 1) return;
  cleanUpNow();
  uninstallHooks();
  // Re-raise so the process ends the way it would have without us (exit status 128 + signal).
  process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', cleanUpNow);
  for (const signal of HANDLED_SIGNALS) process.on(signal, onSignal);
}

function uninstallHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.off('exit', cleanUpNow);
  for (const signal of HANDLED_SIGNALS) process.off(signal, onSignal);
}

function uninstallHooksIfIdle(): void {
  if (liveGroups.size === 0 && tempDirs.size === 0) uninstallHooks();
}

/** Removes `dir` when the Node process exits, unless `removeTempDir` removed it first. */
export function registerTempDir(dir: string): void {
  tempDirs.add(dir);
  installHooks();
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  tempDirs.delete(dir);
  uninstallHooksIfIdle();
}

/** Keeps the last `limit` lines written to a stream. */
class LineTail {
  readonly #limit: number;
  readonly #lines: string[] = [];
  #partial = '';

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(chunk: string): void {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) this.#add(line);
  }

  #add(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#limit) this.#lines.shift();
  }

  text(): string {
    return [...this.#lines, ...(this.#partial === '' ? [] : [this.#partial])].join('\n');
  }
}

/**
 * Starts `command` with an argument array (never a shell). Resolves once the process is running;
 * rejects if it cannot be started (for example ENOENT).
 */
export async function startProcess(options: StartProcessOptions): Promise<ManagedProcess> {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  // Listen before anything can be emitted: output is kept, and the exit is never missed.
  const tail = new LineTail(options.keepLines ?? 60);
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => tail.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => tail.push(chunk));
  let status: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      status = { code, signal };
      if (child.pid !== undefined) {
        // The group may still hold grandchildren; they go with their parent.
        killGroup(child.pid, 'SIGKILL');
        liveGroups.delete(child.pid);
      }
      uninstallHooksIfIdle();
      resolve(status);
    });
  });

  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) =>
      reject(
        new ReboundError(`cannot start ${options.name} (${options.command}): ${err.message}`, {
          code: 'ProcessStartFailed',
          retryable: false,
          cause: err,
        }),
      ),
    );
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name} started without a pid`);
  if (status === undefined) {
    liveGroups.add(pid);
    installHooks();
  }

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = DEFAULT_GRACE_MS): Promise<void> => {
    stopping ??= (async () => {
      if (status !== undefined) return;
      killGroup(pid, options.stopSignal ?? 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };

  return {
    name: options.name,
    pid,
    exited,
    exitStatus: () => status,
    recentOutput: () => tail.text(),
    stop,
  };
}

export function describeExit(exit: ProcessExit): string {
  return exit.signal === null ? `exit code ${String(exit.code)}` : `signal ${exit.signal}`;
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Fail at once, with its output, if this process exits while we wait. */
  process?: ManagedProcess;
}

/**
 * Polls `probe` until it returns true. A probe that throws counts as "not yet"; its last error is
 * reported on timeout together with the process's recent output.
 */
export async function waitUntil(what: string, probe: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 100;
  for (;;) {
    const exit = options.process?.exitStatus();
    if (options.process && exit) {
      throw new ReboundError(
        `${options.process.name} exited (${describeExit(exit)}) before ${what}; its last output:\n${options.process.recentOutput()}`,
        { code: 'ProcessExited', retryable: false },
      );
    }
    let lastError = '';
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = errorMessage(err);
    }
    if (Date.now() >= deadline) {
      const output = options.process
        ? `; ${options.process.name}'s last output:\n${options.process.recentOutput()}`
        : '';
      throw new ReboundError(
        `timed out after ${options.timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}${output}`,
        { code: 'StartTimeout', retryable: true },
      );
    }
    await sleep(interval);
  }
}

/** A readiness probe: true when GET `url` answers 2xx. */
export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  await res.arrayBuffer();
  return res.ok;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  input?: string;
  uid?: number;
  gid?: number;
}

/** Runs a short command to completion (argument array, no shell); rejects with its stderr on failure. */
/**
 * When this process leads its process group (a terminal job, a detached child), children that ran in
 * the group (git, helm, the Git server's CGI programs) got the same Ctrl-C and may still be exiting:
 * wait until the group holds only this process, so nothing outlives it. Those still there after
 * `timeoutMs` are killed; their descriptions are returned. Linux (/proc); elsewhere it does nothing.
 */
export async function settleProcessGroup(timeoutMs = 3_000): Promise<string[]> {
  const own = await processGroupOf(String(process.pid));
  if (own !== process.pid) return [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const members = await groupMembers(own);
    if (members.length === 0) return [];
    if (Date.now() > deadline) {
      for (const m of members) {
        try {
          process.kill(m.pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
      }
      return members.map((m) => `${String(m.pid)} ${m.command}`);
    }
    await sleep(20);
  }
}

async function processGroupOf(pid: string): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => undefined);
  if (stat === undefined) return undefined;
  // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so read after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  // A zombie has exited; whoever reaps it is about to.
  return state === 'Z' ? undefined : Number(fields[2]);
}

async function groupMembers(pgid: number): Promise<{ pid: number; command: string }[]> {
  const pids = (await readdir('/proc').catch(() => [])).filter((n) => /^\d+$/.test(n) && n !== String(process.pid));
  const members: { pid: number; command: string }[] = [];
  for (const pid of pids) {
    if ((await processGroupOf(pid)) !== pgid) continue;
    const command = (await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '')).replaceAll('\0', ' ').trim();
    members.push({ pid: Number(pid), command });
  }
  return members;
}

export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
        ...(options.uid === undefined ? {} : { uid: options.uid }),
        ...(options.gid === undefined ? {} : { gid: options.gid }),
      },
      (err, stdout, stderr) => {
        if (err) {
          const detail = stderr.trim() || stdout.trim() || err.message;
          reject(
            new ReboundError(`${command} ${args.join(' ')} failed: ${detail}`, {
              code: 'CommandFailed',
              retryable: false,
              cause: err,
            }),
          );
          return;
        }
        resolve({ stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export interface LoopbackServerSpec {
  /** Program name for messages and the temp dir: 'prometheus'. */
  name: string;
  command: string;
  /** Writes what the server needs into `dir` and returns its arguments for listening at `url`. */
  prepare(dir: string, port: number, url: string): Promise<string[]>;
  /** Path that answers 2xx once the server is ready, e.g. `/-/ready`. */
  readyPath: string;
  startTimeoutMs?: number;
}

export interface LoopbackServer {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Stops the server and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A server program in a temp dir of its own on a free loopback port, resolved once `readyPath`
 * answers. A start that fails removes what it made; one that lost its port to a race is retried.
 */
export function startLoopbackServer(spec: LoopbackServerSpec): Promise<LoopbackServer> {
  return retryOnAddressInUse(async () => {
    const dir = await mkdtemp(join(tmpdir(), `rebound-${spec.name}-`));
    registerTempDir(dir);
    let server: ManagedProcess | undefined;
    const stop = async (): Promise<void> => {
      await server?.stop();
      await removeTempDir(dir);
    };
    try {
      const port = await freePort();
      const url = `http://${LOOPBACK}:${String(port)}`;
      const args = await spec.prepare(dir, port, url);
      server = await startProcess({ name: spec.name, command: spec.command, args });
      const proc = server;
      await waitUntil(`${spec.name} ${spec.readyPath}`, () => httpOk(`${url}${spec.readyPath}`), {
        timeoutMs: spec.startTimeoutMs ?? 60_000,
        process: proc,
      });
      let stopping: Promise<void> | undefined;
      return { url, stop: () => (stopping ??= stop()) };
    } catch (err) {
      await stop();
      throw err;
    }
  });
}
