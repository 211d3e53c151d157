import { describe, expect, it } from 'vitest';
import { decodeSecret } from './secrets.ts';

describe('decodeSecret', () => {
  it('decodes base64 data to strings', () => {
    expect(
      decodeSecret({
        data: { token: Buffer.from('t0k€n').toString('base64'), username: Buffer.from('git').toString('base64') },
      }),
    ).toEqual({ token: 't0k€n', username: 'git' });
  });

  it('lets stringData win over data of the same key', () => {
    expect(
      decodeSecret({ data: { token: Buffer.from('old').toString('base64') }, stringData: { token: 'new' } }),
    ).toEqual({ token: 'new' });
  });

  it('reads a Secret without data as empty', () => {
    expect(decodeSecret({})).toEqual({});
  });
});
