// Safe, located YAML loading shared by every Keptn file parser.
//
// Why the `yaml` package and not js-yaml: it keeps a concrete syntax tree with source ranges, so every
// error can name `file:line:column`, duplicate keys are reported at the duplicate, and the same tree
// lets value edits splice the original text without reformatting the user's file.
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, parseDocument } from 'yaml';
import type { Document, DocumentOptions, Node as YamlNode, Pair, ParseOptions, SchemaOptions } from 'yaml';

/** Files larger than this are rejected before parsing: Keptn config files are a few KiB. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Aliases beyond this count are treated as an expansion bomb. */
export const MAX_ALIAS_COUNT = 100;

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.message}`;
}

export type PathSegment = string | number;

/** A parsed YAML file that can point back into its source. */
export class LocatedYaml {
  readonly file: string;
  readonly text: string;
  readonly doc: Document.Parsed;
  private readonly lines: LineCounter;

  constructor(file: string, text: string, doc: Document.Parsed, lines: LineCounter) {
    this.file = file;
    this.text = text;
    this.doc = doc;
    this.lines = lines;
  }

  /** The plain JavaScript value of the document (aliases expanded, bounded). */
  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  }

  /** The node at `path`, or undefined when the path does not exist. */
  nodeAt(path: readonly PathSegment[]): YamlNode | undefined {
    if (path.length === 0) return this.doc.contents ?? undefined;
    const node = this.doc.getIn(path, true);
    return isNodeLike(node) ? node : undefined;
  }

  /** The key node of the pair at `path` (the last segment must be a map key). */
  keyAt(path: readonly PathSegment[]): YamlNode | undefined {
    const parent = path.length > 1 ? this.nodeAt(path.slice(0, -1)) : this.doc.contents;
    const last = path[path.length - 1];
    if (!isMap(parent) || last === undefined) return undefined;
    const pair = parent.items.find((p: Pair) => isScalar(p.key) && p.key.value === last);
    return pair && isNodeLike(pair.key) ? pair.key : undefined;
  }

  /** A diagnostic at the value at `path`, falling back to its nearest existing ancestor. */
  diagnosticAt(path: readonly PathSegment[], message: string, at: 'value' | 'key' = 'value'): Diagnostic {
    for (let depth = path.length; depth >= 0; depth--) {
      const sub = path.slice(0, depth);
      const node = at === 'key' && depth === path.length ? (this.keyAt(sub) ?? this.nodeAt(sub)) : this.nodeAt(sub);
      if (node?.range) return this.diagnosticAtOffset(node.range[0], message);
    }
    return { file: this.file, line: 1, column: 1, message };
  }

  diagnosticAtOffset(offset: number, message: string): Diagnostic {
    const pos = this.lines.linePos(offset);
    return { file: this.file, line: pos.line, column: pos.col, message };
  }
}

export type LoadResult = { ok: true; yaml: LocatedYaml } | { ok: false; diagnostics: Diagnostic[] };

/**
 * Parse YAML text safely: YAML 1.2 core schema (so `on`/`off` stay strings), no custom tags, unique
 * keys, bounded aliases and size. Every problem is returned, not only the first.
 */
export function loadYaml(file: string, text: string): LoadResult {
  const tooLarge = sizeDiagnostic(file, text);
  if (tooLarge) return { ok: false, diagnostics: [tooLarge] };
  const lines = new LineCounter();
  const located = new LocatedYaml(file, text, parseDocument(text, parseOptions(lines)), lines);
  const diagnostics = problemsOf(located);
  return diagnostics.length > 0 ? { ok: false, diagnostics } : { ok: true, yaml: located };
}

export type LoadAllResult = { ok: true; documents: LocatedYaml[] } | { ok: false; diagnostics: Diagnostic[] };

/**
 * Every YAML document of a file (`---` between them), with the same safety as loadYaml: what a
 * renderer such as `helm template` writes for kustomize or Flux. Ranges and line numbers are those of
 * the whole file. A file without any document loads as one empty document.
 */
export function loadYamlDocuments(file: string, text: string): LoadAllResult {
  const tooLarge = sizeDiagnostic(file, text);
  if (tooLarge) return { ok: false, diagnostics: [tooLarge] };
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, parseOptions(lines));
  if (!Array.isArray(parsed) || parsed.length === 0) {
    const single = loadYaml(file, text);
    return single.ok ? { ok: true, documents: [single.yaml] } : single;
  }
  const documents = parsed.map((doc) => new LocatedYaml(file, text, doc, lines));
  const diagnostics = documents.flatMap(problemsOf);
  return diagnostics.length > 0 ? { ok: false, diagnostics } : { ok: true, documents };
}

/** YAML 1.2 core schema (so `on`/`off` stay strings), no custom tags, unique keys. */
function parseOptions(lineCounter: LineCounter): ParseOptions & DocumentOptions & SchemaOptions {
  return { lineCounter, schema: 'core', customTags: [], uniqueKeys: true, prettyErrors: false, strict: true };
}

function sizeDiagnostic(file: string, text: string): Diagnostic | undefined {
  const size = Buffer.byteLength(text, 'utf8');
  if (size <= MAX_FILE_BYTES) return undefined;
  return { file, line: 1, column: 1, message: `file is ${size} bytes, larger than the ${MAX_FILE_BYTES}-byte limit` };
}

/** A parsed document's errors, refused tags and alias bombs, each located. */
function problemsOf(located: LocatedYaml): Diagnostic[] {
  const { doc, file } = located;
  const diagnostics: Diagnostic[] = [];
  for (const err of doc.errors) {
    const message = err.code === 'DUPLICATE_KEY' ? 'duplicated key' : firstLine(err.message);
    diagnostics.push(located.diagnosticAtOffset(err.pos[0], message));
  }
  for (const warn of doc.warnings) {
    // An unresolved tag would silently become a string: refuse it, nothing custom is ever executed.
    if (warn.code === 'TAG_RESOLVE_FAILED') {
      diagnostics.push(
        located.diagnosticAtOffset(
          warn.pos[0],
          `unsupported tag: ${firstLine(warn.message).replace(/^Unresolved tag: /, '')}`,
        ),
      );
    }
  }
  if (diagnostics.length > 0) return diagnostics;
  try {
    located.toJS();
  } catch (err) {
    const message =
      err instanceof Error && /alias/i.test(err.message)
        ? `too many aliases (more than ${MAX_ALIAS_COUNT}): refusing a possible alias-expansion bomb`
        : `cannot load document: ${err instanceof Error ? firstLine(err.message) : String(err)}`;
    return [{ file, line: 1, column: 1, message }];
  }
  return [];
}

function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, '');
}

function isNodeLike(value: unknown): value is YamlNode {
  return (
    isMap(value) || isSeq(value) || isScalar(value) || (typeof value === 'object' && value !== null && 'range' in value)
  );
}
