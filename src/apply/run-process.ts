// Runs a program with an argument list (never a shell), bounded in time and in captured output.
import { spawn } from 'node:child_process';

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Output beyond this is dropped from the start (the end is what explains a failure). */
  maxOutputBytes?: number;
}

const KILL_GRACE_MS = 2_000;

export function runProcess(file: string, args: readonly string[], options: RunOptions): Promise<ProcessResult> {
  const max = options.maxOutputBytes ?? 1024 * 1024;
  return new Promise((resolve, reject) => {
    // Cancelled before it started (leadership lost): the program must not run at all.
    if (options.signal?.aborted) {
      reject(options.signal.reason instanceof Error ? options.signal.reason : new Error('cancelled before start'));
      return;
    }
    const child = spawn(file, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = new TailBuffer(max);
    const err = new TailBuffer(max);
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));

    const stop = (): void => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.timeoutMs);
    options.signal?.addEventListener('abort', stop, { once: true });

    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', stop);
      resolve({ code, signal, stdout: out.toString(), stderr: err.toString(), timedOut });
    });
  });
}

/** The last `count` non-empty lines of a program's output. */
export function lastLines(text: string, count: number): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0)
    .slice(-count)
    .join('\n');
}

class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.max && this.chunks.length > 1) {
      this.size -= this.chunks.shift()?.length ?? 0;
    }
  }

  toString(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
