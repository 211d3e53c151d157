// The layering, checked: Go refuses import cycles at compile time, TypeScript does not, so this test
// reads every import in src/ and fails on the edges the design forbids. A failure names the importing
// file and what it imports; fix the direction (move the shared piece down), do not add an exception.
//
// A unit is a top-level folder of src/ with everything under it, except that each controller's
// folder is a unit of its own (controllers/problemevent/**, and controllers/*.ts the shared part);
// a file directly in src/ is a unit of its own (the composition root, errors.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(SRC);

/** The composition root, and the one module that may load it (the `rebound controller` command). */
const COMPOSITION_ROOT = 'wire.ts';
const LOADS_COMPOSITION_ROOT = 'cli/commands/controller.ts';

/**
 * Top-level units from the top down (docs/design.md, "Layers"): an import may only point down this
 * list. A new folder must be placed here before anything imports it.
 */
const LAYERS = [
  'cli',
  'wire.ts',
  'config',
  'controllers',
  'ui',
  'ingest',
  'notify',
  'actions',
  'forge',
  'apply',
  'evaluation',
  'rules',
  'remediation',
  'formats',
  'gitstore',
  'kube',
  'observability',
  'runtime',
  'net',
  'errors.ts',
  'api',
];

/** Folders that hold one folder per part: each part is a unit, and parts never import each other. */
const PARTS = ['controllers'];

/** The controller runtime knows nothing but itself: no domain, no kube facade, no logger factory. */
const RUNTIME = 'runtime';

/** Pure folders: parsing, Project rules, value edits, policy, SLO scoring. Their I/O lives elsewhere (evaluation/providers/). */
const PURE = ['formats', 'rules', 'remediation', 'evaluation'];
const IO_MODULES = [
  'node:fs',
  'node:fs/promises',
  'node:http',
  'node:https',
  'node:http2',
  'node:net',
  'node:tls',
  'node:dgram',
  'node:child_process',
  'node:worker_threads',
  '@kubernetes/client-node',
  'isomorphic-git',
  'chokidar',
  'node-cron',
  'undici',
];

/** The tests, the real-parts harness (test/harness/) and the demo (dev/): never part of the product. */
const HARNESS = ['test', 'dev'];

interface Import {
  /** Importing file, relative to src/ with `/` separators. */
  from: string;
  /** The specifier as written. */
  specifier: string;
  /** For a relative specifier: the target relative to the repository root, `/` separators. */
  target?: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const posix = (path: string): string => path.split(sep).join('/');
const isTestCode = (file: string): boolean => /\.test(-helper)?\.ts$/.test(file);

/** Every import, re-export and dynamic import of the production files (tests may reach anywhere). */
function productionImports(): Import[] {
  return sourceFiles(SRC)
    .map((path) => ({ path, file: posix(relative(SRC, path)) }))
    .filter(({ file }) => !isTestCode(file))
    .flatMap(({ path, file }) =>
      ts.preProcessFile(readFileSync(path, 'utf8'), true, true).importedFiles.map(({ fileName }) => ({
        from: file,
        specifier: fileName,
        ...(fileName.startsWith('.') ? { target: posix(relative(ROOT, resolve(dirname(path), fileName))) } : {}),
      })),
    );
}

/** The unit of a file relative to src/ (see the top of this file). */
function unitOf(file: string): string {
  const [first = file, second, ...rest] = file.split('/');
  if (second === undefined) return first;
  return PARTS.includes(first) && rest.length > 0 ? `${first}/${second}` : first;
}

/** `a/x.ts imports b/y.ts`, once per pair of files (a file may import another both as a type and as a value). */
const show = (edges: readonly Import[]): string[] => [
  ...new Set(edges.map((e) => `${e.from} imports ${e.target?.replace(/^src\//, '') ?? e.specifier}`)),
];

/** Groups of units that import each other, directly or around a loop (Tarjan), with the edges inside. */
function unitCycles(imports: readonly Import[]): string[][] {
  const edges = new Map<string, Map<string, Import[]>>();
  for (const imp of imports) {
    if (!imp.target?.startsWith('src/')) continue;
    const from = unitOf(imp.from);
    const to = unitOf(imp.target.slice('src/'.length));
    if (from === to) continue;
    const out = edges.get(from) ?? new Map<string, Import[]>();
    out.set(to, [...(out.get(to) ?? []), imp]);
    edges.set(from, out);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (unit: string): void => {
    index.set(unit, index.size);
    low.set(unit, index.get(unit) ?? 0);
    stack.push(unit);
    for (const next of edges.get(unit)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(unit, Math.min(low.get(unit) ?? 0, low.get(next) ?? 0));
      } else if (stack.includes(next)) {
        low.set(unit, Math.min(low.get(unit) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(unit) !== index.get(unit)) return;
    const members: string[] = [];
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      members.push(top);
      if (top === unit) break;
    }
    if (members.length < 2) return;
    const inside = members.flatMap((m) => members.flatMap((n) => edges.get(m)?.get(n) ?? []));
    cycles.push([`cycle between ${members.sort().join(', ')}:`, ...show(inside).sort()]);
  };
  for (const unit of edges.keys()) if (!index.has(unit)) visit(unit);
  return cycles;
}

const imports = productionImports();

describe('the layering of src/', () => {
  it('finds the imports it checks', () => {
    // A parser that found nothing would pass every rule below.
    expect(imports.length).toBeGreaterThan(300);
    expect(imports).toContainEqual({
      from: 'cli/main.ts',
      specifier: './commands/controller.ts',
      target: 'src/cli/commands/controller.ts',
    });
  });

  it('has no import cycle between folders', () => {
    expect(unitCycles(imports)).toEqual([]);
  });

  it('points every import down the list of layers', () => {
    const top = (file: string): string => file.split('/')[0] ?? file;
    const upward = imports.filter((i) => {
      if (!i.target?.startsWith('src/')) return false;
      const from = LAYERS.indexOf(top(i.from));
      const to = LAYERS.indexOf(top(i.target.slice('src/'.length)));
      return from === -1 || to === -1 || from > to;
    });
    expect(show(upward)).toEqual([]);
  });

  it("never lets one controller's folder import another's", () => {
    const across = imports.filter((i) => {
      const from = unitOf(i.from);
      const to = i.target?.startsWith('src/') ? unitOf(i.target.slice('src/'.length)) : from;
      return from !== to && from.includes('/') && to.includes('/') && from.split('/')[0] === to.split('/')[0];
    });
    expect(show(across)).toEqual([]);
  });

  it('keeps runtime/ free of everything above it', () => {
    const upward = imports.filter(
      (i) => unitOf(i.from) === RUNTIME && i.target !== undefined && !i.target.startsWith(`src/${RUNTIME}/`),
    );
    expect(show(upward)).toEqual([]);
  });

  it('keeps formats/, rules/, remediation/ and evaluation/ free of I/O', () => {
    const pure = (file: string): boolean =>
      PURE.some((folder) => file.startsWith(`${folder}/`) && !file.startsWith(`${folder}/providers/`));
    const io = imports.filter((i) => pure(i.from) && IO_MODULES.includes(i.specifier));
    const fetches = sourceFiles(SRC)
      .map((path) => posix(relative(SRC, path)))
      .filter((file) => pure(file) && !isTestCode(file) && /\bfetch\(/.test(readFileSync(join(SRC, file), 'utf8')))
      .map((file) => `${file} calls fetch()`);
    expect([...show(io), ...fetches]).toEqual([]);
  });

  it('lets nothing but the controller command import the composition root', () => {
    const loaders = imports.filter((i) => i.target === `src/${COMPOSITION_ROOT}` && i.from !== LOADS_COMPOSITION_ROOT);
    expect(show(loaders)).toEqual([]);
    expect(imports.some((i) => i.target === `src/${COMPOSITION_ROOT}`)).toBe(true);
  });

  it('never imports tests or the test harness from production code', () => {
    const intoTests = imports.filter((i) => {
      if (i.target === undefined) return false;
      const file = i.target.startsWith('src/') ? i.target.slice('src/'.length) : undefined;
      const harness = HARNESS.some((h) => i.target?.startsWith(`${h}/`));
      return harness || (file !== undefined && isTestCode(file));
    });
    expect(show(intoTests)).toEqual([]);
  });
});

describe('unitCycles', () => {
  const edge = (from: string, target: string): Import => ({ from, specifier: '', target: `src/${target}` });

  it('reports a two-folder cycle with the imports that close it', () => {
    expect(unitCycles([edge('a/x.ts', 'b/y.ts'), edge('b/y.ts', 'a/z.ts'), edge('a/x.ts', 'c/w.ts')])).toEqual([
      ['cycle between a, b:', 'a/x.ts imports b/y.ts', 'b/y.ts imports a/z.ts'],
    ]);
  });

  it('finds a cycle around three folders, and none inside one folder', () => {
    expect(unitCycles([edge('a/x.ts', 'b/y.ts'), edge('b/y.ts', 'c/z.ts'), edge('c/z.ts', 'a/x.ts')])[0]?.[0]).toBe(
      'cycle between a, b, c:',
    );
    expect(unitCycles([edge('a/x.ts', 'a/y.ts'), edge('a/y.ts', 'a/x.ts')])).toEqual([]);
  });

  it("treats each controller's folder and the shared controllers/ as units, a sub-folder as part of its folder", () => {
    expect(
      unitCycles([
        edge('controllers/x.ts', 'controllers/problemevent/y.ts'),
        edge('controllers/problemevent/y.ts', 'controllers/z.ts'),
      ]),
    ).toHaveLength(1);
    expect(
      unitCycles([
        edge('controllers/problemevent/r.ts', 'controllers/problemevent/steps/s.ts'),
        edge('controllers/problemevent/steps/s.ts', 'controllers/problemevent/p.ts'),
      ]),
    ).toEqual([]);
    expect(
      unitCycles([
        edge('evaluation/providers/p.ts', 'evaluation/e.ts'),
        edge('evaluation/e.ts', 'evaluation/providers/p.ts'),
      ]),
    ).toEqual([]);
  });
});
