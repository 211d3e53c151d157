import { describe, expect, it } from 'vitest';
import { ReboundError } from '../../src/errors.ts';
import { runCommand, startProcess, waitUntil } from './process.ts';

const node = process.execPath;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startProcess', () => {
  it('stops the whole process group, grandchildren included', async () => {
    // The child starts a grandchild, prints its pid and keeps running.
    const script = `
      const { spawn } = require('node:child_process');
      const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      console.log('grandchild ' + g.pid);
      setInterval(() => {}, 1000);`;
    const child = await startProcess({ name: 'parent', command: node, args: ['-e', script] });
    let grandchild = 0;
    await waitUntil(
      'the grandchild pid',
      () => {
        const match = /grandchild (\d+)/.exec(child.recentOutput());
        grandchild = Number(match?.[1] ?? 0);
        return Promise.resolve(grandchild > 0);
      },
      { timeoutMs: 10_000, process: child },
    );
    expect(alive(grandchild)).toBe(true);

    await child.stop();
    expect(child.exitStatus()).toEqual({ code: null, signal: 'SIGTERM' });
    await waitUntil('the grandchild to go', () => Promise.resolve(!alive(grandchild)), { timeoutMs: 5_000 });
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const child = await startProcess({
      name: 'stubborn',
      command: node,
      args: ['-e', "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"],
    });
    await waitUntil('ready', () => Promise.resolve(child.recentOutput().includes('ready')), { timeoutMs: 10_000 });
    await child.stop(200);
    expect(child.exitStatus()?.signal).toBe('SIGKILL');
  });

  it('rejects with ProcessStartFailed when the program does not exist', async () => {
    await expect(startProcess({ name: 'ghost', command: '/nonexistent/ghost', args: [] })).rejects.toMatchObject({
      code: 'ProcessStartFailed',
    });
  });
});

describe('waitUntil', () => {
  it('fails at once with the output of a process that exited', async () => {
    const child = await startProcess({
      name: 'crasher',
      command: node,
      args: ['-e', "console.error('listen tcp 127.0.0.1:1: bind: address already in use'); process.exit(3)"],
    });
    const err = await waitUntil('never', () => Promise.resolve(false), { timeoutMs: 10_000, process: child }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReboundError);
    expect(err).toMatchObject({ code: 'ProcessExited' });
    expect((err as Error).message).toContain('crasher exited (exit code 3) before never');
    expect((err as Error).message).toContain('address already in use');
  });

  it('times out naming the last probe error', async () => {
    const err = await waitUntil('the moon', () => Promise.reject(new Error('connection refused')), {
      timeoutMs: 300,
      intervalMs: 50,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'StartTimeout', retryable: true });
    expect((err as Error).message).toMatch(
      /timed out after 300 ms waiting for the moon \(last error: connection refused\)/,
    );
  });
});

describe('runCommand', () => {
  it('returns stdout and feeds stdin', async () => {
    const { stdout } = await runCommand(node, ['-e', 'process.stdin.pipe(process.stdout)'], { input: 'hello' });
    expect(stdout).toBe('hello');
  });

  it('rejects with the command and its stderr', async () => {
    await expect(runCommand(node, ['-e', "console.error('bad flag'); process.exit(2)"])).rejects.toMatchObject({
      code: 'CommandFailed',
      message: expect.stringContaining('bad flag') as unknown,
    });
  });
});

describe('settleProcessGroup', () => {
  /** A process group leader (detached) that starts children in its own group, settles, and reports. */
  async function leader(children: string[], timeoutMs: number): Promise<{ left: string[]; alive: boolean[] }> {
    const module = new URL('./process.ts', import.meta.url).href;
    const script = `
      import { spawn } from 'node:child_process';
      const { settleProcessGroup } = await import(${JSON.stringify(module)});
      const kids = ${JSON.stringify(children)}.map((code) => spawn(process.execPath, ['-e', code], { stdio: 'ignore' }));
      const left = await settleProcessGroup(${String(timeoutMs)});
      await new Promise((r) => setTimeout(r, 100));
      const alive = kids.map((k) => { try { process.kill(k.pid, 0); return k.exitCode === null && k.signalCode === null; } catch { return false; } });
      console.log(JSON.stringify({ left, alive }));`;
    const { stdout } = await runCommand(node, [
      '--input-type=module',
      '-e',
      `import { spawn } from 'node:child_process';
      const c = spawn(process.execPath, ['--input-type=module', '-e', ${JSON.stringify(script)}], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = ''; c.stdout.on('data', (d) => (out += d)); c.on('exit', () => process.stdout.write(out));`,
    ]);
    return JSON.parse(stdout) as { left: string[]; alive: boolean[] };
  }

  it('waits for children of its group that are still exiting', async () => {
    const result = await leader(['setTimeout(() => {}, 300)'], 5_000);
    expect(result).toEqual({ left: [], alive: [false] });
  });

  it('kills what is still there after the timeout, and says what it was', async () => {
    const result = await leader(['setInterval(() => {}, 1000)'], 300);
    expect(result.left).toHaveLength(1);
    expect(result.left[0]).toMatch(/^\d+ .*setInterval/);
    expect(result.alive).toEqual([false]);
  });
});
