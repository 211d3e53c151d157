// Undo after resolve, as pure functions: which policy entry asks for it (`revertAfter`), what an
// attempt's values edit changed (recorded on the attempt, so the revert knows what to set back), and
// the inverse edit of a values file. A key whose value is no longer the one Rebound wrote was changed
// by someone since: it is left alone (no force) and reported, never overwritten.
import type { ProblemEvent, Remediation, ValueEdit } from '../api/index.ts';
import type { Change } from './value-edits.ts';
import { findEntry, policyFromResource } from './policy.ts';
import { refreshConfigChecksums } from './config-checksum.ts';
import { loadEditable, lookup, parseKeyPath, renderLike, replaceScalar } from './yaml-edit.ts';

/** The matching Remediation entry's `revertAfter`, or undefined when it asks for no undo. */
export function revertAfterFor(
  problem: Pick<ProblemEvent, 'spec'>,
  remediation: Remediation | undefined,
): string | undefined {
  if (!remediation) return undefined;
  const match = findEntry(policyFromResource(remediation).policy, problem.spec);
  if (!match) return undefined;
  const entry = remediation.spec.remediations.find((r) => r.problemType === match.entry.problemType);
  return entry?.revertAfter;
}

/** The keys a values edit changed, with their values before and after, as the attempt records them. */
export function editsOf(change: Change | undefined): ValueEdit[] {
  if (!change) return [];
  if (change.kind === 'replicas') {
    if (change.from === change.to) return [];
    return [{ key: change.path, from: String(change.from), to: String(change.to) }];
  }
  return change.flags
    .filter((f) => f.from !== f.to)
    .map((f) => ({ key: f.path, ...(f.from === undefined ? {} : { from: String(f.from) }), to: String(f.to) }));
}

/**
 * One edit per key over several attempts (1 → 2, then 2 → 3: 1 → 3), in the order the keys were first
 * edited; a key back where it started is dropped.
 */
export function netEdits(edits: readonly ValueEdit[]): ValueEdit[] {
  const byKey = new Map<string, ValueEdit>();
  for (const edit of edits) {
    const first = byKey.get(edit.key);
    byKey.set(edit.key, first ? { ...first, to: edit.to } : edit);
  }
  return [...byKey.values()].filter((e) => e.from === undefined || !sameScalar(e.from, e.to));
}

/** The edit that undoes `edit`, for a key that had a value before (the others cannot be undone). */
export function inverse(edit: ValueEdit & { from: string }): ValueEdit & { from: string } {
  return { key: edit.key, from: edit.to, to: edit.from };
}

/** The scalar at `key` in a values file's text as YAML shows it, or undefined (gone, not a scalar, unreadable). */
export function valueAt(file: string, text: string | undefined, key: string): string | undefined {
  if (text === undefined) return undefined;
  try {
    const found = lookup(loadEditable(file, text), parseKeyPath(key));
    return found.kind === 'scalar' ? scalarText(found.node.value) : undefined;
  } catch {
    return undefined;
  }
}

/** A key left alone: what Rebound wrote and what the file holds now (undefined: the key is gone). */
export interface UndoConflict {
  key: string;
  wrote: string;
  found: string | undefined;
}

export interface UndoResult {
  text: string;
  /** The edits the undo made, in the order made: undoing these restores what was there. */
  undone: ValueEdit[];
  conflicts: UndoConflict[];
  /** Keys the edits added (no value before): left in place, Rebound does not remove keys. */
  added: string[];
}

/**
 * Sets each edit's key back from `to` to `from`, the last edit first (two edits of one key undo in
 * turn: 1 → 2 → 3 goes back to 1). A key that no longer holds `to` is left alone and reported; after
 * a conflict on a key, its earlier edits are left too. Throws the edit errors of an unreadable file.
 */
export function undoEdits(file: string, text: string, edits: readonly ValueEdit[]): UndoResult {
  let current = text;
  const undone: ValueEdit[] = [];
  const conflicts: UndoConflict[] = [];
  const added: string[] = [];
  const blocked = new Set<string>();
  for (const edit of [...edits].reverse()) {
    if (blocked.has(edit.key)) continue;
    if (edit.from === undefined) {
      if (!added.includes(edit.key)) added.push(edit.key);
      blocked.add(edit.key);
      continue;
    }
    const target = loadEditable(file, current);
    const path = parseKeyPath(edit.key);
    let found: ReturnType<typeof lookup> | undefined;
    try {
      found = lookup(target, path);
    } catch {
      // The key's parent is no longer a map (someone restructured the file): theirs, not ours.
      found = undefined;
    }
    const value = found?.kind === 'scalar' ? scalarText(found.node.value) : undefined;
    if (found?.kind !== 'scalar' || value === undefined || !sameScalar(value, edit.to)) {
      conflicts.push({ key: edit.key, wrote: edit.to, found: value });
      blocked.add(edit.key);
      continue;
    }
    current = replaceScalar(target, found.node, renderLike(found.node, parseScalar(edit.from)), path);
    undone.push({ key: edit.key, from: edit.to, to: edit.from });
  }
  // A ConfigMap set back in rendered manifests: its pods' checksum follows, so they roll back too.
  return { text: refreshConfigChecksums(text, current).text, undone, conflicts, added };
}

/** `replicaCount 3 → 1, featureFlags.X true → false`. */
export function describeEdits(edits: readonly ValueEdit[]): string {
  return edits.map((e) => `${e.key} ${e.from ?? '(absent)'} → ${e.to}`).join(', ');
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return value.trim();
  return undefined;
}

function sameScalar(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function parseScalar(text: string): number | boolean {
  if (/^\d+$/.test(text)) return Number(text);
  return text.toLowerCase() === 'true';
}
