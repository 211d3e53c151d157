import { describe, expect, it } from 'vitest';
import { lastLines, runProcess } from './run-process.ts';

describe('runProcess', () => {
  it('passes arguments verbatim, without a shell', async () => {
    const result = await runProcess('printf', ['%s|', '$HOME', '; echo hi'], { timeoutMs: 5_000 });
    expect(result.stdout).toBe('$HOME|; echo hi|');
    expect(result.code).toBe(0);
  });

  it('stops a process that runs past its time', async () => {
    const result = await runProcess('sleep', ['30'], { timeoutMs: 200 });
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe('SIGTERM');
  });

  it('never starts a program once its signal is aborted, and stops a running one on abort', async () => {
    const before = new AbortController();
    before.abort(new Error('leadership lost'));
    await expect(
      runProcess('touch', ['/nonexistent-dir/x'], { timeoutMs: 5_000, signal: before.signal }),
    ).rejects.toThrow('leadership lost');
    const during = new AbortController();
    const running = runProcess('sleep', ['30'], { timeoutMs: 60_000, signal: during.signal });
    during.abort();
    expect((await running).signal).toBe('SIGTERM');
  });

  it('keeps the end of long output within the bound', async () => {
    const result = await runProcess('seq', ['1', '200000'], { timeoutMs: 5_000, maxOutputBytes: 4096 });
    expect(result.stdout.endsWith('199999\n200000\n')).toBe(true);
    expect(result.stdout.length).toBeLessThan(4096 + 70_000);
  });
});

describe('lastLines', () => {
  it('keeps the last non-empty lines', () => {
    expect(lastLines('a\n\nb\nc\n\n', 2)).toBe('b\nc');
  });
});
