// The unit project's guard (unit-guard.ts, loaded as its set-up file) is what keeps `unit` pure:
// a test that starts a process, listens or watches fails at once instead of slowing `make verify`.
import { execFile, spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';

describe('the unit project guard', () => {
  it('refuses child processes, also through named ESM imports', () => {
    expect(() => spawn(process.execPath, ['-e', ''])).toThrow(
      /unit tests do not start child processes: list this file under IO/,
    );
    expect(() => execFile('git', ['--version'])).toThrow(/io project/);
  });

  it('refuses to listen on a socket', () => {
    expect(() => createServer().listen(0, '127.0.0.1')).toThrow(/unit tests do not listen on sockets/);
  });

  it('refuses to watch the file system', () => {
    expect(() => watch(import.meta.dirname)).toThrow(/unit tests do not watch the file system/);
  });
});
