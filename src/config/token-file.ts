// Bearer tokens from a mounted Secret, re-read when the file changes so a rotated Secret takes
// effect without a restart. Kubernetes swaps a `..data` symlink in the mount directory on update,
// so the directory is watched, not the file.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { watch } from 'chokidar';
import type { FSWatcher } from 'chokidar';
import { ReboundError } from '../errors.ts';

export interface TokenFile {
  tokens(): readonly string[];
  close(): Promise<void>;
}

export interface TokenFileLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** One token per line; blank lines and `#` comments ignored. */
export function parseTokens(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

/** `purpose` names the file in log lines (`webhook tokens`, `git webhook secret`). */
export function watchTokenFile(path: string, log: TokenFileLogger, purpose = 'tokens'): TokenFile {
  const read = (): string[] => {
    const tokens = parseTokens(readFileSync(path, 'utf8'));
    if (tokens.length === 0) throw new ReboundError(`${path} holds no token`, { code: 'NoToken', retryable: false });
    return tokens;
  };
  let current = read();
  const watcher: FSWatcher = watch(dirname(path), {
    ignoreInitial: true,
    depth: 1,
    awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 },
  });
  const reload = (): void => {
    try {
      const next = read();
      if (next.join('\n') !== current.join('\n')) {
        current = next;
        // Never the tokens themselves: only that they changed and how many there are.
        log.info({ path, purpose, tokens: next.length }, 'token file reloaded');
      }
    } catch (err) {
      log.warn({ path, purpose, err }, 'token file unreadable; keeping the previous tokens');
    }
  };
  watcher.on('add', reload).on('change', reload).on('unlink', reload);
  return { tokens: () => current, close: () => watcher.close() };
}
