// Rendered manifests (`helm template` output that Flux or Argo CD applies) carry a hash of each
// ConfigMap in the pod template that reads it (`checksum/feature-flags: <sha256>`), so that a changed
// flag restarts the pods that read it at start (envFrom). Helm computes the hash when it renders;
// when Rebound edits the ConfigMap in the rendered file instead, the hash must follow, or the flag
// changes in the ConfigMap while every pod keeps the old value until something else restarts it.
//
// Only an annotation whose value is the hash of the ConfigMap as it was is rewritten, to the hash of
// the ConfigMap as it is now, computed as Helm does (the document as rendered, without the
// `# Source:` line Helm adds). An annotation that holds anything else is someone else's: left alone.
import { createHash } from 'node:crypto';

interface Segment {
  start: number;
  end: number;
}

/** Documents of a multi-document file, between `---` lines. */
function segments(text: string): Segment[] {
  const out: Segment[] = [];
  let start = 0;
  for (const marker of text.matchAll(/^---[ \t]*\r?\n/gm)) {
    out.push({ start, end: marker.index });
    start = marker.index + marker[0].length;
  }
  out.push({ start, end: text.length });
  return out;
}

/** The document as `include "…/configmap.yaml"` returned it when Helm rendered the file. */
function rendered(text: string, segment: Segment): string {
  const body = text.slice(segment.start, segment.end).replace(/^# Source: [^\n]*\n/, '');
  return `${body.replace(/\n+$/, '')}\n`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const HOLDS_DATA = /^kind:[ \t]*["']?(ConfigMap|Secret)["']?[ \t]*\r?$/m;

export interface ChecksumRefresh {
  text: string;
  /** The annotations rewritten (`checksum/feature-flags`), once each. */
  updated: string[];
}

/**
 * `after` is `before` with values edited in place (same documents, in the same order). For each
 * ConfigMap or Secret document the edit changed, the `checksum/…` annotations that held its old hash
 * get its new one: the pods reading it roll out, as after a `helm upgrade`.
 */
export function refreshConfigChecksums(before: string, after: string): ChecksumRefresh {
  const unchanged = { text: after, updated: [] };
  // One document (a values file): nothing to hash. CRLF files were not written by `helm template`.
  if (!/^---/m.test(after) || after.includes('\r\n')) return unchanged;
  const old = segments(before);
  const now = segments(after);
  if (old.length !== now.length) return unchanged;
  const rehash = new Map<string, string>();
  for (const [i, segment] of now.entries()) {
    const was = old[i];
    if (was === undefined || !HOLDS_DATA.test(after.slice(segment.start, segment.end))) continue;
    const from = sha256(rendered(before, was));
    const to = sha256(rendered(after, segment));
    if (from !== to) rehash.set(from, to);
  }
  if (rehash.size === 0) return unchanged;
  const updated = new Set<string>();
  // A hash is 64 hex digits either way: the rest of the file stays byte for byte.
  const text = after.replace(
    /^([ \t]+)(["']?)(checksum\/[^:"'\s]+)\2:([ \t]+)(["']?)([0-9a-f]{64})\5([ \t]*(?:#[^\n]*)?)$/gm,
    (line: string, indent: string, kq: string, key: string, gap: string, vq: string, hash: string, tail: string) => {
      const next = rehash.get(hash);
      if (next === undefined) return line;
      updated.add(key);
      return `${indent}${kq}${key}${kq}:${gap}${vq}${next}${vq}${tail}`;
    },
  );
  return { text, updated: [...updated] };
}
