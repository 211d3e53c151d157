// A small unified diff for `rebound plan`, statuses and logs.
//
// Value edits change one line, or add a few, so the diff does not need a general LCS: the unchanged
// head and tail are trimmed and what is left in the middle becomes one hunk with `context` lines on
// each side. The output is what `git diff` prints for the same change (`git apply` accepts it).

export interface DiffOptions {
  /** Lines of context around the change (git's default is 3). */
  context?: number;
}

/** `--- a/path` / `+++ b/path` and one hunk; an empty string when the texts are equal. */
export function unifiedDiff(path: string, before: string, after: string, options: DiffOptions = {}): string {
  if (before === after) return '';
  const context = options.context ?? 3;
  const a = splitLines(before);
  const b = splitLines(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;

  const start = Math.max(0, head - context);
  const aEnd = Math.min(a.length, a.length - tail + context);
  const bEnd = Math.min(b.length, b.length - tail + context);
  const out: string[] = [`--- a/${path}`, `+++ b/${path}`, `@@ -${range(start, aEnd - start)} +${range(start, bEnd - start)} @@`];
  for (let i = start; i < head; i++) out.push(' ' + show(a[i]));
  for (let i = head; i < a.length - tail; i++) out.push('-' + show(a[i]), ...noNewline(a, i));
  for (let i = head; i < b.length - tail; i++) out.push('+' + show(b[i]), ...noNewline(b, i));
  for (let i = a.length - tail; i < aEnd; i++) out.push(' ' + show(a[i]), ...noNewline(a, i));
  return out.join('\n') + '\n';
}

/** Lines keep their `\n`, so a last line without one differs from the same line with one, as in git. */
function splitLines(text: string): string[] {
  return text === '' ? [] : text.split(/(?<=\n)/);
}

// A CRLF file's \r stays part of the shown line, as in `git diff` output.
function show(line: string | undefined): string {
  return (line ?? '').replace(/\n$/, '');
}

function noNewline(lines: readonly string[], i: number): string[] {
  return lines[i]?.endsWith('\n') === false ? ['\\ No newline at end of file'] : [];
}

/** `start,count` with git's conventions: 1-based, `,count` omitted for 1, start-1 for an empty side. */
function range(start: number, count: number): string {
  if (count === 0) return `${start},0`;
  return count === 1 ? `${start + 1}` : `${start + 1},${count}`;
}
