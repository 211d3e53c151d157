import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unifiedDiff } from './diff.ts';

const lines = (n: number, from = 1): string => Array.from({ length: n }, (_, i) => `line${i + from}\n`).join('');

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a.yaml', 'x: 1\n', 'x: 1\n')).toBe('');
  });

  it('shows one changed line with three lines of context', () => {
    const before = lines(10);
    const after = before.replace('line5\n', 'line5 changed\n');
    expect(unifiedDiff('carts/values.yaml', before, after)).toBe(
      [
        '--- a/carts/values.yaml',
        '+++ b/carts/values.yaml',
        '@@ -2,7 +2,7 @@',
        ' line2',
        ' line3',
        ' line4',
        '-line5',
        '+line5 changed',
        ' line6',
        ' line7',
        ' line8',
        '',
      ].join('\n'),
    );
  });

  it('clips the context at the start and the end of the file', () => {
    expect(unifiedDiff('v', 'a\nb\n', 'A\nb\n')).toBe('--- a/v\n+++ b/v\n@@ -1,2 +1,2 @@\n-a\n+A\n b\n');
    expect(unifiedDiff('v', 'a\nb\n', 'a\nB\n')).toBe('--- a/v\n+++ b/v\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n');
  });

  it('shows an added line with an empty old side', () => {
    expect(unifiedDiff('v', 'a\nb\n', 'a\nnew\nb\n')).toBe('--- a/v\n+++ b/v\n@@ -1,2 +1,3 @@\n a\n+new\n b\n');
    expect(unifiedDiff('v', '', 'x: 1\n')).toBe('--- a/v\n+++ b/v\n@@ -0,0 +1 @@\n+x: 1\n');
  });

  it('marks a last line without a newline', () => {
    expect(unifiedDiff('v', 'a\nb', 'a\nb\nc')).toBe(
      '--- a/v\n+++ b/v\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n\\ No newline at end of file\n',
    );
  });

  it('splits changes far apart into hunks and merges close ones, as git does', () => {
    const before = lines(20);
    const farApart = before.replace('line3\n', 'line3 edited\n').replace('line17\n', 'line17 edited\n');
    expect(unifiedDiff('v', before, farApart)).toBe(
      [
        '--- a/v',
        '+++ b/v',
        '@@ -1,6 +1,6 @@',
        ' line1',
        ' line2',
        '-line3',
        '+line3 edited',
        ' line4',
        ' line5',
        ' line6',
        '@@ -14,7 +14,7 @@',
        ' line14',
        ' line15',
        ' line16',
        '-line17',
        '+line17 edited',
        ' line18',
        ' line19',
        ' line20',
        '',
      ].join('\n'),
    );
    // Six unchanged lines between two changes still make one hunk (git merges at 2 x context).
    const close = before.replace('line5\n', 'line5 edited\n').replace('line12\n', 'line12 edited\n');
    expect(unifiedDiff('v', before, close).match(/^@@/gm)).toHaveLength(1);
    const apart = before.replace('line5\n', 'line5 edited\n').replace('line13\n', 'line13 edited\n');
    expect(unifiedDiff('v', before, apart).match(/^@@/gm)).toHaveLength(2);
  });

  it('finds the shortest script when lines move', () => {
    expect(unifiedDiff('v', 'a\nb\nc\n', 'b\nc\na\n')).toBe('--- a/v\n+++ b/v\n@@ -1,3 +1,3 @@\n-a\n b\n c\n+a\n');
    expect(unifiedDiff('v', 'x\n', '')).toBe('--- a/v\n+++ b/v\n@@ -1 +0,0 @@\n-x\n');
  });

  it('is accepted by git apply for LF, CRLF and end-of-file changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-diff-'));
    try {
      execFileSync('git', ['init', '-q', dir]);
      const cases: [string, string][] = [
        [lines(20), lines(20).replace('line10\n', 'line10 edited\n')],
        [lines(4).replaceAll('\n', '\r\n'), lines(4).replaceAll('\n', '\r\n').replace('line2', 'line2 edited')],
        ['a: 1\nb: 2', 'a: 1\nb: 2\nc: 3'],
        [lines(3), `${lines(3)}added: true\n`],
        [
          lines(40),
          lines(40).replace('line2\n', 'line2 edited\n').replace('line20\n', '').replace('line38\n', 'line38\nnew\n'),
        ],
        ['k: v\n', ''],
      ];
      for (const [before, after] of cases) {
        writeFileSync(join(dir, 'values.yaml'), before);
        writeFileSync(join(dir, 'patch.diff'), unifiedDiff('values.yaml', before, after));
        execFileSync('git', ['-C', dir, 'apply', '--whitespace=nowarn', 'patch.diff']);
        expect(readFileSync(join(dir, 'values.yaml'), 'utf8')).toBe(after);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
