// A small unified diff for `rebound plan`, statuses and logs.
//
// Value edits change one line or add a few, so the unchanged head and tail are trimmed first and
// Myers' algorithm runs only on what is left (a handful of lines). The output is what `git diff`
// prints for the same change: `--- a/path`, `+++ b/path`, hunks with 3 lines of context, nearby
// changes merged into one hunk; `git apply` accepts it.

export interface DiffOptions {
  /** Lines of context around each change (git's default is 3). */
  context?: number;
}

/** Above this many cells of search state the middle becomes one delete-all/insert-all block. */
const MAX_SEARCH_CELLS = 4_000_000;

type OpKind = ' ' | '-' | '+';

interface Op {
  kind: OpKind;
  line: string;
}

/** An empty string when the texts are equal. */
export function unifiedDiff(path: string, before: string, after: string, options: DiffOptions = {}): string {
  if (before === after) return '';
  const context = options.context ?? 3;
  const ops = diffLines(splitLines(before), splitLines(after));
  const out = [`--- a/${path}`, `+++ b/${path}`];
  for (const hunk of hunks(ops, context)) {
    const slice = ops.slice(hunk.start, hunk.end);
    const aCount = slice.filter((op) => op.kind !== '+').length;
    const bCount = slice.filter((op) => op.kind !== '-').length;
    out.push(`@@ -${range(hunk.aStart, aCount)} +${range(hunk.bStart, bCount)} @@`);
    for (const op of slice) {
      out.push(op.kind + show(op.line));
      if (!op.line.endsWith('\n')) out.push('\\ No newline at end of file');
    }
  }
  return out.join('\n') + '\n';
}

/** The edit script: equal head, Myers on the middle, equal tail. */
function diffLines(a: readonly string[], b: readonly string[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const middle = myers(midA, midB) ?? [
    ...midA.map((line) => ({ kind: '-' as const, line })),
    ...midB.map((line) => ({ kind: '+' as const, line })),
  ];
  return [
    ...a.slice(0, head).map((line) => ({ kind: ' ' as const, line })),
    ...middle,
    ...a.slice(a.length - tail).map((line) => ({ kind: ' ' as const, line })),
  ];
}

/** Myers' O(ND) shortest edit script; undefined when the search would grow past its bound. */
function myers(a: readonly string[], b: readonly string[]): Op[] | undefined {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const width = 2 * max + 2;
  const maxD = Math.min(max, Math.floor(MAX_SEARCH_CELLS / width));
  const offset = max + 1;
  let v = new Int32Array(width);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= maxD; d++) {
    trace.push(v);
    v = v.slice();
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number));
      let x = down ? (v[offset + k + 1] as number) : (v[offset + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(a, b, trace, offset);
    }
  }
  return undefined;
}

/** Walk the saved frontiers back from (n, m) to (0, 0). */
function backtrack(a: readonly string[], b: readonly string[], trace: readonly Int32Array[], offset: number): Op[] {
  const ops: Op[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = trace.length - 1; d >= 0; d--) {
    const v = trace[d] as Int32Array;
    const k = x - y;
    const down = k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number));
    const prevK = down ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : (v[offset + prevK] as number);
    const prevY = d === 0 ? 0 : prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: ' ', line: a[x - 1] as string });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) ops.push({ kind: '+', line: b[y - 1] as string });
      else ops.push({ kind: '-', line: a[x - 1] as string });
    }
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}

interface Hunk {
  /** Range in the op list. */
  start: number;
  end: number;
  /** 0-based line numbers where the hunk starts in each file. */
  aStart: number;
  bStart: number;
}

/** Changes with their context; changes closer than 2 × context lines share a hunk, as in git. */
function hunks(ops: readonly Op[], context: number): Hunk[] {
  const changed = ops.flatMap((op, i) => (op.kind === ' ' ? [] : [i]));
  const groups: [number, number][] = [];
  for (const i of changed) {
    const last = groups[groups.length - 1];
    if (last && i - last[1] - 1 <= 2 * context) last[1] = i;
    else groups.push([i, i]);
  }
  return groups.map(([first, lastChange]) => {
    const start = Math.max(0, first - context);
    const before = ops.slice(0, start);
    return {
      start,
      end: Math.min(ops.length, lastChange + context + 1),
      aStart: before.filter((op) => op.kind !== '+').length,
      bStart: before.filter((op) => op.kind !== '-').length,
    };
  });
}

/** Lines keep their `\n`, so a last line without one differs from the same line with one, as in git. */
function splitLines(text: string): string[] {
  return text === '' ? [] : text.split(/(?<=\n)/);
}

// A CRLF file's \r stays part of the shown line, as in `git diff` output.
function show(line: string): string {
  return line.replace(/\n$/, '');
}

/** `start,count` with git's conventions: 1-based, `,count` omitted for 1, start-1 for an empty side. */
function range(start: number, count: number): string {
  if (count === 0) return `${start},0`;
  return count === 1 ? `${start + 1}` : `${start + 1},${count}`;
}
