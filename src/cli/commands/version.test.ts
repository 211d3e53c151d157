import { describe, expect, it } from 'vitest';
import { buildInfo, formatBuildInfo } from './version.ts';

describe('rebound version', () => {
  const pkg = { version: '0.1.0', repository: { type: 'git', url: 'https://github.com/rebound-dev/rebound' } };

  it("takes an image build's facts over package.json, so it prints what the labels say", () => {
    expect(buildInfo(pkg, { version: '0.2.0', revision: 'abc123', source: 'https://example.com/fork' })).toEqual({
      version: '0.2.0',
      revision: 'abc123',
      source: 'https://example.com/fork',
    });
  });

  it('falls back to package.json, with an unknown revision, outside an image', () => {
    expect(buildInfo(pkg, undefined)).toEqual({
      version: '0.1.0',
      revision: 'unknown',
      source: 'https://github.com/rebound-dev/rebound',
    });
    expect(buildInfo({ version: '0.1.0', repository: 'https://example.com/r' }, { revision: '' })).toMatchObject({
      revision: 'unknown',
      source: 'https://example.com/r',
    });
    expect(buildInfo(undefined, undefined)).toEqual({ version: 'unknown', revision: 'unknown', source: 'unknown' });
  });

  it('prints one fact per line', () => {
    expect(formatBuildInfo({ version: '0.1.0', revision: 'abc', source: 'https://s' })).toBe(
      'rebound 0.1.0\nrevision: abc\nsource: https://s\n',
    );
  });
});
