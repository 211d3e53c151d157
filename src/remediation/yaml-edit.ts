// Byte-exact edits of one scalar in a YAML file.
//
// A file may hold several documents (`---` between them), as rendered manifests do: a Deployment and
// the flags ConfigMap in one file for kustomize or Flux. A key path then leads into the one document
// that has it (documentFor); a path that more than one document could hold is refused, never guessed.
//
// Users review every commit Rebound makes, so an edit must not reformat their file: instead of
// re-serialising the document we locate the scalar's source range in the parsed tree and splice new
// text into the original string. Everything else (comments, key order, quoting, blank lines, CRLF
// endings, anchors) stays byte for byte, and the diff touches only the changed line.
import { isAlias, isMap, isScalar, Scalar, visit } from 'yaml';
import type { Node as YamlNode, Pair, YAMLMap } from 'yaml';
import { formatDiagnostic, loadYamlDocuments } from '../formats/yaml.ts';
import type { Diagnostic, LocatedYaml } from '../formats/yaml.ts';
import { ReboundError } from '../errors.ts';
import { REASONS } from '../api/index.ts';
import type { Reason } from '../api/index.ts';

/** Error codes of value edits; all of them need a person to fix the file or the policy. */
export const EDIT_ERROR = {
  invalidYaml: 'ValuesFileInvalid',
  notFound: 'ValueNotFound',
  notAMap: 'ValueParentNotAMap',
  wrongType: 'ValueWrongType',
  sharedValue: 'ValueShared',
  ambiguous: 'ValueAmbiguous',
  invalidActionValue: 'InvalidActionValue',
  unknownAction: 'UnknownAction',
} as const;

type EditErrorCode = (typeof EDIT_ERROR)[keyof typeof EDIT_ERROR];

/**
 * The condition reason each error maps to. None is retryable: a person must fix the values file or
 * the policy (a new commit on the branch or a changed Remediation starts a new try).
 */
const REASON_OF: Record<EditErrorCode, Reason> = {
  ValuesFileInvalid: REASONS.ValuesFileInvalid,
  ValueNotFound: REASONS.ValuesFileInvalid,
  ValueParentNotAMap: REASONS.ValuesFileInvalid,
  ValueWrongType: REASONS.ValuesFileInvalid,
  ValueShared: REASONS.ValuesFileInvalid,
  ValueAmbiguous: REASONS.ValuesFileInvalid,
  InvalidActionValue: REASONS.InvalidActionValue,
  UnknownAction: REASONS.UnknownAction,
};

export function editError(code: EditErrorCode, message: string, cause?: unknown): ReboundError {
  return new ReboundError(message, { code, reason: REASON_OF[code], retryable: false, cause });
}

/** `replicaCount` or `carts.featureFlags` → ['replicaCount'] / ['carts', 'featureFlags']. */
export function parseKeyPath(path: string): string[] {
  const segments = path.split('.');
  if (segments.some((s) => s.length === 0)) {
    throw editError(
      EDIT_ERROR.invalidActionValue,
      `invalid key path "${path}": segments separated by "." must not be empty`,
    );
  }
  return segments;
}

export function formatKeyPath(path: readonly string[]): string {
  return path.join('.');
}

/** A parsed file ready to be edited; `load` fails with the file's diagnostics. */
export interface EditableYaml {
  file: string;
  text: string;
  /** The file's documents in order: one for a values file, several for rendered manifests. */
  documents: LocatedYaml[];
  /** `\r\n` when the file uses CRLF line endings, else `\n`. */
  eol: string;
}

export function loadEditable(file: string, text: string): EditableYaml {
  const loaded = loadYamlDocuments(file, text);
  if (!loaded.ok) {
    throw editError(
      EDIT_ERROR.invalidYaml,
      `cannot edit ${file}: ${loaded.diagnostics.map(formatDiagnostic).join('; ')}`,
    );
  }
  return { file, text, documents: loaded.documents, eol: text.includes('\r\n') ? '\r\n' : '\n' };
}

/**
 * The document a key path leads into: the only one, or among several the one holding the longest
 * part of the path (`spec.replicas`: the Deployment, not the ConfigMap). When no document holds even
 * its first key, the first document, as in a one-document file. Two documents holding the same
 * longest part are refused: an edit must never land in the wrong object.
 */
export function documentFor(target: EditableYaml, path: readonly string[]): LocatedYaml {
  const [first] = target.documents;
  if (!first) throw editError(EDIT_ERROR.notAMap, `${target.file} is empty: no map to hold ${formatKeyPath(path)}`);
  const candidates = target.documents
    .map((located, index) => ({ located, index, depth: depthIn(located, path) }))
    .filter((c) => !isEmptyDocument(c.located));
  if (candidates.length <= 1) return candidates[0]?.located ?? first;
  const best = Math.max(...candidates.map((c) => c.depth));
  const deepest = candidates.filter((c) => c.depth === best);
  const [only] = deepest;
  if (best === 0) return candidates[0]?.located ?? first;
  if (only && deepest.length === 1) return only.located;
  const held =
    best === path.length
      ? formatKeyPath(path)
      : `${formatKeyPath(path.slice(0, best))} (on the way to ${formatKeyPath(path)})`;
  throw editError(
    EDIT_ERROR.ambiguous,
    `${target.file}: ${held} is in documents ${deepest.map((c) => describeDocument(c.located, c.index)).join(' and ')}; ` +
      'a key path must lead into one document: give a longer path that only one object has, or keep the objects in separate files',
  );
}

/** How many leading keys of `path` exist in the document, through maps. */
function depthIn(located: LocatedYaml, path: readonly string[]): number {
  let current: unknown = located.doc.contents;
  let depth = 0;
  for (const segment of path) {
    if (!isMap(current)) break;
    const pair = current.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
    if (!pair) break;
    depth += 1;
    current = pair.value;
  }
  return depth;
}

function isEmptyDocument(located: LocatedYaml): boolean {
  const contents = located.doc.contents;
  return contents === null || (isScalar(contents) && contents.value === null);
}

/** `2 (Deployment carts)`: its number in the file, and the object it is when it names one. */
function describeDocument(located: LocatedYaml, index: number): string {
  const kind = located.doc.get('kind');
  const name = located.doc.getIn(['metadata', 'name']);
  const what = [kind, name].filter((v): v is string => typeof v === 'string').join(' ');
  return `${String(index + 1)}${what ? ` (${what})` : ''}`;
}

/** Where a key path leads in a document. */
export type Lookup =
  | { kind: 'scalar'; node: Scalar; key: YamlNode }
  | {
      kind: 'missing';
      /** The deepest existing map on the path, or the key whose value is empty (`featureFlags:`). */
      parent: { map: YAMLMap } | { emptyValueOf: Pair };
      /** The path segments that do not exist yet, from `parent` down. */
      rest: string[];
    };

/** Follow `path` through block and flow maps. Aliases and non-map parents are refused. */
export function lookup(target: EditableYaml, path: readonly string[]): Lookup {
  const { file } = target;
  const located = documentFor(target, path);
  let current: unknown = located.doc.contents;
  if (current === null || (isScalar(current) && current.value === null && path.length > 0)) {
    throw editError(EDIT_ERROR.notAMap, `${file} is empty: no map to hold ${formatKeyPath(path)}`);
  }
  for (let depth = 0; depth < path.length; depth++) {
    const segment = path[depth] as string;
    const here = path.slice(0, depth);
    if (isAlias(current)) {
      throw editError(
        EDIT_ERROR.sharedValue,
        `${where(target, here)}: ${describePath(here)} is an alias (*${current.source}) of a shared map; refusing to edit through it`,
      );
    }
    if (!isMap(current)) {
      throw editError(
        EDIT_ERROR.notAMap,
        `${where(target, here)}: ${describePath(here)} is not a map, cannot hold "${segment}"`,
      );
    }
    if (current.anchor !== undefined && anchorIsUsed(located, current.anchor)) {
      // Any edit below this map (a changed value or an added key) would show through every alias.
      throw editError(
        EDIT_ERROR.sharedValue,
        `${whereKey(target, here)}: ${describePath(here)} is anchored (&${current.anchor}) and used elsewhere through *${current.anchor}; refusing an edit inside it that would also change those places`,
      );
    }
    const pair = current.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
    if (!pair) return { kind: 'missing', parent: { map: current }, rest: path.slice(depth) };
    const value = pair.value;
    const isLast = depth === path.length - 1;
    if (isLast) {
      if (isAlias(value)) {
        throw editError(
          EDIT_ERROR.sharedValue,
          `${where(target, path)}: ${formatKeyPath(path)} is an alias (*${value.source}) of a shared value; refusing to edit it (change the anchored value or replace the alias)`,
        );
      }
      if (!isScalar(value)) {
        throw editError(
          EDIT_ERROR.wrongType,
          `${where(target, path)}: ${formatKeyPath(path)} is a ${value === null ? 'missing value' : 'collection'}, not a scalar`,
        );
      }
      if (value.anchor !== undefined && anchorIsUsed(located, value.anchor)) {
        throw editError(
          EDIT_ERROR.sharedValue,
          `${where(target, path)}: ${formatKeyPath(path)} is anchored (&${value.anchor}) and used elsewhere through *${value.anchor}; refusing an edit that would also change those places`,
        );
      }
      return { kind: 'scalar', node: value, key: pair.key as YamlNode };
    }
    if (isEmptyValue(target.text, value)) {
      return { kind: 'missing', parent: { emptyValueOf: pair }, rest: path.slice(depth + 1) };
    }
    current = value;
  }
  throw editError(EDIT_ERROR.notFound, `${file}: empty key path`);
}

/** `line:column` of the value at `path` (or its nearest existing ancestor). */
export function where(target: EditableYaml, path: readonly string[]): string {
  const d: Diagnostic = locatedOrFirst(target, path).diagnosticAt(path, '');
  return `${d.file}:${d.line}:${d.column}`;
}

/** `line:column` of the key at `path` (where a reader looks for the anchor of a map). */
function whereKey(target: EditableYaml, path: readonly string[]): string {
  const d: Diagnostic = locatedOrFirst(target, path).diagnosticAt(path, '', 'key');
  return `${d.file}:${d.line}:${d.column}`;
}

/** For a position in a message: the path's document, or the first when the path is ambiguous. */
function locatedOrFirst(target: EditableYaml, path: readonly string[]): LocatedYaml {
  try {
    return documentFor(target, path);
  } catch {
    const [first] = target.documents;
    if (!first) throw editError(EDIT_ERROR.notAMap, `${target.file} is empty`);
    return first;
  }
}

function describePath(path: readonly string[]): string {
  return path.length === 0 ? 'the document' : formatKeyPath(path);
}

/** Anchors are a document's own: an alias in another document cannot refer to it. */
function anchorIsUsed(located: LocatedYaml, anchor: string): boolean {
  let used = false;
  visit(located.doc, {
    Alias(_key, node) {
      if (node.source === anchor) {
        used = true;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return used;
}

/** `key:` with nothing after it: a null scalar without source text. */
function isEmptyValue(text: string, value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (!isScalar(value) || value.value !== null || !value.range) return false;
  return text.slice(value.range[0], value.range[1]).trim() === '';
}

/** Render `value` in the quoting style of `node` (plain stays plain, quoted stays quoted). */
export function renderLike(node: Scalar, value: number | boolean): string {
  const raw = String(value);
  switch (node.type) {
    case Scalar.QUOTE_SINGLE:
      return `'${raw}'`;
    case Scalar.QUOTE_DOUBLE:
      return `"${raw}"`;
    default:
      return raw;
  }
}

/**
 * How to write a new flag where none was: quoted like the flags beside it (a chart that compares
 * strings), and always quoted in a ConfigMap's data, which holds only strings (an unquoted `true`
 * there is refused when the manifest is applied).
 */
export function renderNewFlag(
  target: EditableYaml,
  missing: Extract<Lookup, { kind: 'missing' }>,
  path: readonly string[],
  on: boolean,
): string {
  const raw = String(on);
  if ('map' in missing.parent && missing.rest.length === 1) {
    for (const pair of missing.parent.map.items) {
      const value = pair.value;
      if (isScalar(value) && typeof value.value === 'string' && /^(true|false)$/i.test(value.value.trim()))
        return renderLike(value, on);
    }
  }
  const kind = documentFor(target, path).doc.get('kind');
  const inConfigMapData = kind === 'ConfigMap' && (path[0] === 'data' || path[0] === 'binaryData');
  return inConfigMapData ? `"${raw}"` : raw;
}

/** Replace the source text of `node` (not its anchor, tag or comment) with `replacement`. */
export function replaceScalar(
  target: EditableYaml,
  node: Scalar,
  replacement: string,
  path: readonly string[],
): string {
  if (!node.range)
    throw editError(EDIT_ERROR.wrongType, `${target.file}: ${formatKeyPath(path)} has no source position`);
  if (node.type === Scalar.BLOCK_FOLDED || node.type === Scalar.BLOCK_LITERAL) {
    throw editError(
      EDIT_ERROR.wrongType,
      `${where(target, path)}: ${formatKeyPath(path)} is a block scalar (| or >); refusing to rewrite it`,
    );
  }
  const [start, end] = node.range;
  const { text } = target;
  // Keep an aligned trailing comment in its column (`true    # x` → `false   # x`), with at least one space.
  const gap = /^[ \t]*(?=#)/.exec(text.slice(end))?.[0];
  if (gap !== undefined && gap.length > 0 && !gap.includes('\t')) {
    const width = Math.max(1, gap.length + (end - start) - replacement.length);
    return text.slice(0, start) + replacement + ' '.repeat(width) + text.slice(end + gap.length);
  }
  return text.slice(0, start) + replacement + text.slice(end);
}

/**
 * Insert `rest` (missing keys, the last one holding `rendered`) under `parent`, adding as few lines as
 * possible: one line in an existing block map, one entry in a flow map, a small nested block otherwise.
 */
export function insertKeys(
  target: EditableYaml,
  parent: Extract<Lookup, { kind: 'missing' }>['parent'],
  rest: readonly string[],
  rendered: string,
): string {
  const { text, eol } = target;
  const unit = indentUnit(text);
  if ('emptyValueOf' in parent) {
    const keyNode = parent.emptyValueOf.key as YamlNode;
    const keyStart = keyNode.range?.[0] ?? 0;
    const at = endOfLine(text, keyStart);
    return splice(text, at.offset, blockLines(rest, rendered, columnOf(text, keyStart) + unit, unit, eol, at.needsEol));
  }
  const map = parent.map;
  if (map.flow) {
    if (!map.range) throw editError(EDIT_ERROR.notAMap, `${target.file}: flow map without source position`);
    const entry = flowEntry(rest, rendered);
    const last = map.items[map.items.length - 1];
    const lastEnd = last ? nodeEnd(last) : undefined;
    if (lastEnd !== undefined) return splice(text, lastEnd, `, ${entry}`);
    // `{}`: put the entry right after the opening brace.
    const open = text.indexOf('{', map.range[0]);
    return splice(text, open + 1, entry);
  }
  const first = map.items[0];
  const last = map.items[map.items.length - 1];
  if (!first || !last) throw editError(EDIT_ERROR.notAMap, `${target.file}: empty block map`);
  const indent = columnOf(text, (first.key as YamlNode).range?.[0] ?? 0);
  const lastEnd = nodeEnd(last) ?? 0;
  const at = text[lastEnd - 1] === '\n' ? { offset: lastEnd, needsEol: false } : endOfLine(text, lastEnd);
  return splice(text, at.offset, blockLines(rest, rendered, indent, unit, eol, at.needsEol));
}

function flowEntry(rest: readonly string[], rendered: string): string {
  const [head, ...tail] = rest;
  return tail.length === 0 ? `${head}: ${rendered}` : `${head}: {${flowEntry(tail, rendered)}}`;
}

/** Lines for `rest`, each key nested one unit deeper, ending with the line ending (or starting with it at EOF). */
function blockLines(
  rest: readonly string[],
  rendered: string,
  indent: number,
  unit: number,
  eol: string,
  atEofWithoutEol: boolean,
): string {
  const lines = rest.map(
    (key, i) => ' '.repeat(indent + i * unit) + (i === rest.length - 1 ? `${key}: ${rendered}` : `${key}:`),
  );
  return atEofWithoutEol ? eol + lines.join(eol) : lines.join(eol) + eol;
}

function nodeEnd(pair: Pair): number | undefined {
  const value = pair.value as YamlNode | null;
  if (value && value.range) return value.range[1];
  const key = pair.key as YamlNode | null;
  return key?.range?.[1];
}

/** The offset just after the line ending of the line holding `offset` (or EOF, flagged). */
function endOfLine(text: string, offset: number): { offset: number; needsEol: boolean } {
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? { offset: text.length, needsEol: true } : { offset: nl + 1, needsEol: false };
}

function columnOf(text: string, offset: number): number {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return offset - lineStart;
}

/** The file's indentation step: the smallest non-zero indentation of a key line (2 by default). */
function indentUnit(text: string): number {
  let unit = Infinity;
  for (const line of text.split('\n')) {
    const match = /^( +)[^\s#-]/.exec(line);
    if (match?.[1] && match[1].length < unit) unit = match[1].length;
  }
  return Number.isFinite(unit) ? unit : 2;
}

function splice(text: string, offset: number, insert: string): string {
  return text.slice(0, offset) + insert + text.slice(offset);
}
