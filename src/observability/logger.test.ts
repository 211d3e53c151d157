import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED } from './logger.ts';

function sink(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const lines = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, lines };
}

describe('createLogger', () => {
  it('writes JSON lines with a level label, an ISO time and the given fields', () => {
    const { stream, lines } = sink();
    const log = createLogger({ destination: stream, base: { app: 'rebound' } });
    log
      .child({ controller: 'problemevent' })
      .info({ stage: 'production', commit: 'abc123' }, 'pushed remediation commit');
    const [line] = lines();
    expect(line).toMatchObject({
      level: 'info',
      app: 'rebound',
      controller: 'problemevent',
      stage: 'production',
      commit: 'abc123',
      msg: 'pushed remediation commit',
    });
    expect(typeof line?.time).toBe('string');
    expect(Number.isNaN(Date.parse(String(line?.time)))).toBe(false);
  });

  it('redacts secrets at the top level, nested, and in request headers', () => {
    const { stream, lines } = sink();
    const log = createLogger({ destination: stream });
    log.info(
      {
        token: 't0p',
        git: { url: 'http://127.0.0.1/repo.git', password: 'hunter2', credentials: { token: 'abc' } },
        req: { headers: { authorization: 'Bearer xyz', cookie: 'session=1', 'set-cookie': 'a=b' } },
      },
      'call',
    );
    const text = JSON.stringify(lines());
    for (const secret of ['t0p', 'hunter2', 'abc"', 'Bearer xyz', 'session=1', 'a=b'])
      expect(text).not.toContain(secret);
    const [line] = lines();
    expect(line?.token).toBe(REDACTED);
    expect((line?.git as Record<string, unknown>).password).toBe(REDACTED);
    expect((line?.git as Record<string, unknown>).url).toBe('http://127.0.0.1/repo.git');
  });

  it('honours the level', () => {
    const { stream, lines } = sink();
    const log = createLogger({ destination: stream, level: 'warn' });
    log.info('hidden');
    log.warn('shown');
    expect(lines().map((l) => l.msg)).toEqual(['shown']);
  });
});
