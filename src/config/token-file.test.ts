import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTokens, watchTokenFile } from './token-file.ts';

const quiet = { info: () => undefined, warn: () => undefined };

describe('parseTokens', () => {
  it('takes one token per line and skips blanks and comments', () => {
    expect(parseTokens('# rotated 2026-11\nabc\n\n  def  \r\n')).toEqual(['abc', 'def']);
  });
});

describe('watchTokenFile', () => {
  it('picks up a rotated token without a restart (atomic replace, as Kubernetes does)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokens-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'old-token\n');
    const tokens = watchTokenFile(file, quiet);
    try {
      expect(tokens.tokens()).toEqual(['old-token']);
      await new Promise((r) => setTimeout(r, 200));
      writeFileSync(join(dir, '.tmp'), 'new-token\n');
      renameSync(join(dir, '.tmp'), file);
      await expect.poll(() => tokens.tokens(), { timeout: 5_000, interval: 50 }).toEqual(['new-token']);
    } finally {
      await tokens.close();
    }
  });

  it('keeps the previous tokens when the file becomes empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokens-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'kept\n');
    const tokens = watchTokenFile(file, quiet);
    try {
      await new Promise((r) => setTimeout(r, 200));
      writeFileSync(file, '\n');
      await new Promise((r) => setTimeout(r, 500));
      expect(tokens.tokens()).toEqual(['kept']);
    } finally {
      await tokens.close();
    }
  });

  it('refuses to start without a token', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokens-'));
    writeFileSync(join(dir, 'token'), '# nothing\n');
    expect(() => watchTokenFile(join(dir, 'token'), quiet)).toThrow(/holds no token/);
  });
});
