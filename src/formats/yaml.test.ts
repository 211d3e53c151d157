import { describe, expect, it } from 'vitest';
import { formatDiagnostic, loadYaml, MAX_FILE_BYTES } from './yaml.ts';

function errors(text: string): string[] {
  const result = loadYaml('f.yaml', text);
  return result.ok ? [] : result.diagnostics.map(formatDiagnostic);
}

describe('loadYaml', () => {
  it('loads plain YAML 1.2 where on/off stay strings', () => {
    const result = loadYaml('f.yaml', 'value: off\nn: 3\n');
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.yaml.toJS()).toEqual({ value: 'off', n: 3 });
  });

  it('reports a duplicated key at the duplicate', () => {
    expect(errors('a: 1\nb: 2\na: 3\n')).toEqual(['f.yaml:3:1: duplicated key']);
  });

  it('refuses custom tags instead of executing or stringifying them', () => {
    expect(errors('a: !!js/function "x"\n')).toEqual(['f.yaml:1:4: unsupported tag: tag:yaml.org,2002:js/function']);
  });

  it('rejects an alias-expansion bomb', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(', ')}]`,
      );
    const out = errors(bomb.join('\n'));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/too many aliases/);
  });

  it('rejects oversized files before parsing', () => {
    const out = errors('a: "' + 'x'.repeat(MAX_FILE_BYTES) + '"\n');
    expect(out[0]).toMatch(/^f\.yaml:1:1: file is \d+ bytes, larger than/);
  });

  it('reports syntax errors with line and column', () => {
    expect(errors('a: [1, 2\nb: 3\n')[0]).toMatch(/^f\.yaml:\d+:\d+: /);
  });

  it('locates values and keys by path, falling back to the nearest ancestor', () => {
    const result = loadYaml('f.yaml', 'spec:\n  stages:\n    - name: dev\n      x: 1\n');
    if (!result.ok) throw new Error('parse failed');
    expect(formatDiagnostic(result.yaml.diagnosticAt(['spec', 'stages', 0, 'name'], 'bad'))).toBe('f.yaml:3:13: bad');
    expect(formatDiagnostic(result.yaml.diagnosticAt(['spec', 'stages', 0, 'x'], 'bad', 'key'))).toBe(
      'f.yaml:4:7: bad',
    );
    expect(formatDiagnostic(result.yaml.diagnosticAt(['spec', 'stages', 0, 'missing'], 'missing'))).toBe(
      'f.yaml:3:7: missing',
    );
  });
});
