// Holds (docs/remediation.md#holds): which values Rebound wrote to a values file a later push set
// back. Pure: the caller reads the file before Rebound's commit, at it, and at the branch's head.
// Only the scalar values Rebound's commit changed are compared, so a deploy that changes the image
// tag and nothing else breaks no hold.
import { Scalar, isMap, isScalar, isSeq, parseAllDocuments } from 'yaml';
import { refreshConfigChecksums } from './config-checksum.ts';
import { insertKeys, loadEditable, lookup, parseKeyPath, replaceScalar } from './yaml-edit.ts';

export interface SetBackKey {
  /** Dotted path in the values file, e.g. `replicaCount` or `featureFlags.EnablePromotion`. */
  key: string;
  /** What Rebound's commit wrote. */
  wanted: string;
  /** What the head has now (`(removed)` when the key is gone). */
  found: string;
}

/** Re-asserts per problem unless the Remediation's `hold.maxReasserts` says otherwise. */
export const DEFAULT_MAX_REASSERTS = 3;

/** Values beyond this many leaves are not compared: a values file is small, a generated one is refused. */
const MAX_LEAVES = 5_000;
export const REMOVED = '(removed)';

/**
 * The values Rebound's commit changed (`before` → `written`) that differ at the head (`head`), in
 * file order. A file that does not parse at the head sets nothing back (the Project's ConfigValid
 * reports it); a file removed at the head sets every value back.
 */
export function setBackKeys(before: string | undefined, written: string, head: string | undefined): SetBackKey[] {
  const was = leaves(before ?? '');
  const wrote = leaves(written);
  if (!was || !wrote) return [];
  const now = head === undefined ? new Map<string, string>() : leaves(head);
  if (!now) return [];
  const out: SetBackKey[] = [];
  for (const [key, wanted] of wrote) {
    if (was.get(key) === wanted) continue;
    const found = now.get(key) ?? REMOVED;
    if (found !== wanted) out.push({ key, wanted, found });
  }
  return out;
}

/** `key: wanted → found`, as status and Events show it. */
export function describeSetBack(keys: readonly SetBackKey[]): string[] {
  return keys.map((k) => `${k.key}: ${k.wanted} → ${k.found}`);
}

/**
 * Every scalar under a map, by dotted path, as its source text reads (quoted `"1"` stays `"1"` vs `1`).
 * In a file of several documents a path two of them hold is left out: Rebound never edits one
 * (yaml-edit.ts refuses an ambiguous path), so it is not a value Rebound wrote.
 */
function leaves(text: string): Map<string, string> | undefined {
  const parsed = parseAllDocuments(text, { uniqueKeys: false });
  const docs = Array.isArray(parsed) ? parsed : [];
  if (docs.some((d) => d.errors.length > 0)) return undefined;
  const all = new Map<string, string>();
  const repeated = new Set<string>();
  for (const doc of docs) {
    const one = leavesOf(doc.contents);
    if (!one) return undefined;
    for (const [key, value] of one) {
      if (all.has(key)) repeated.add(key);
      all.set(key, value);
    }
    if (all.size > MAX_LEAVES) return undefined;
  }
  for (const key of repeated) all.delete(key);
  return all;
}

function leavesOf(contents: unknown): Map<string, string> | undefined {
  const out = new Map<string, string>();
  const walk = (node: unknown, prefix: string): boolean => {
    if (out.size > MAX_LEAVES) return false;
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined) continue;
        if (!walk(pair.value, prefix ? `${prefix}.${key}` : key)) return false;
      }
      return true;
    }
    // Lists are not edited by Rebound: compared as a whole would flag unrelated changes, so skipped.
    if (isSeq(node)) return true;
    if (isScalar(node)) out.set(prefix, scalarText(node));
    return true;
  };
  return walk(contents, '') ? out : undefined;
}

function scalarText(node: { value: unknown }): string {
  const value = node.value;
  if (value === null) return 'null';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? '';
}

/**
 * The file with each set-back value written again as Rebound wanted it, in place (the same edit
 * rules as an action: comments, quoting and order stay). A removed key is added back.
 */
export function restoreKeys(file: string, text: string, keys: readonly SetBackKey[]): string {
  let out = text;
  for (const { key, wanted } of keys) {
    const target = loadEditable(file, out);
    const path = parseKeyPath(key);
    const found = lookup(target, path);
    out =
      found.kind === 'scalar'
        ? replaceScalar(target, found.node, quotedLike(found.node, wanted), path)
        : insertKeys(target, found.parent, found.rest, wanted);
  }
  // A flag written again in a rendered ConfigMap: the pods reading it roll, as after the action.
  return refreshConfigChecksums(text, out).text;
}

function quotedLike(node: Scalar, value: string): string {
  if (node.type === Scalar.QUOTE_DOUBLE) return JSON.stringify(value);
  if (node.type === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  return value;
}
