// The last good version of each configuration file (remediation.yaml, slo.yaml, sli.yaml).
//
// People push to stage branches. A push that breaks remediation.yaml must not stop remediation in
// the middle of an incident: the broken version is reported (file:line:column, for the ConfigValid
// condition) and the last version that parsed stays in force until a fixed one arrives. Pure: the
// caller (the branch watcher) feeds each file's path, commit and text; nothing here reads Git.
import { formatDiagnostic } from '../formats/yaml.ts';
import type { Diagnostic } from '../formats/yaml.ts';
import { parseRemediationFile } from '../formats/remediation.ts';
import type { RemediationPolicy } from '../formats/remediation.ts';
import { parseSliFile } from '../formats/sli.ts';
import type { Sli } from '../formats/sli.ts';
import { parseSloFile } from '../formats/slo.ts';
import type { Slo } from '../formats/slo.ts';

export interface ConfigKey {
  project: string;
  stage: string;
  service: string;
  /** The file's path in the repository (`carts/remediation.yaml`). */
  file: string;
}

export type ConfigParser<T> = (
  file: string,
  text: string,
) => { ok: true; value: T } | { ok: false; diagnostics: Diagnostic[] };

/** The parsers of the three watched files, in the shape the cache takes. */
export const CONFIG_PARSERS = {
  remediation: ((file, text) => {
    const r = parseRemediationFile(file, text);
    return r.ok ? { ok: true, value: r.policy } : r;
  }) satisfies ConfigParser<RemediationPolicy>,
  slo: ((file, text) => {
    const r = parseSloFile(file, text);
    return r.ok ? { ok: true, value: r.slo } : r;
  }) satisfies ConfigParser<Slo>,
  sli: ((file, text) => {
    const r = parseSliFile(file, text);
    return r.ok ? { ok: true, value: r.sli } : r;
  }) satisfies ConfigParser<Sli>,
} as const;

/** What a branch holds for a watched file. */
export type OfferedVersion =
  { commit: string; text: string | null } | { commit: string; tooLarge: { size: number; limit: number } };

export interface ConfigVersion<T> {
  path: string;
  commit: string;
  text: string;
  value: T;
}

export interface RejectedVersion {
  path: string;
  commit: string;
  diagnostics: Diagnostic[];
}

/** What a new version did to the file's entry. */
export type OfferResult<T> =
  /** Same content as the version in force (its commit is updated to the newer one). */
  | { status: 'unchanged'; inForce: ConfigVersion<T> }
  /** A new valid version is in force now. */
  | { status: 'updated'; inForce: ConfigVersion<T>; previous?: ConfigVersion<T> }
  /** The file was deleted on the branch: there is no version in force any more. */
  | { status: 'removed'; previous?: ConfigVersion<T> }
  /** The new version does not parse; `inForce` (if any) is the last good one, kept. */
  | { status: 'invalid'; inForce?: ConfigVersion<T>; rejected: RejectedVersion; message: string };

interface Entry<T> {
  inForce?: ConfigVersion<T>;
  rejected?: RejectedVersion & { text: string };
}

export class ConfigCache<T> {
  private readonly parse: ConfigParser<T>;
  private readonly entries = new Map<string, Entry<T>>();

  constructor(parse: ConfigParser<T>) {
    this.parse = parse;
  }

  /**
   * Feed the file as it is at `commit` (`text: null` when the commit deleted it; `tooLarge` when the
   * store refused to read it for its size: rejected like a file that does not parse).
   */
  offer(key: ConfigKey, offered: OfferedVersion): OfferResult<T> {
    const id = keyId(key);
    const entry = this.entries.get(id) ?? {};
    const { file: path } = key;
    const version = 'tooLarge' in offered ? { commit: offered.commit, text: tooLargeText(offered.tooLarge) } : offered;
    if (version.text === null) {
      this.entries.delete(id);
      return entry.inForce ? { status: 'removed', previous: entry.inForce } : { status: 'removed' };
    }
    if (entry.inForce && entry.inForce.text === version.text) {
      // A revert to the good content, or an unrelated commit: the good version stays, now at this commit.
      entry.inForce = { ...entry.inForce, commit: version.commit };
      delete entry.rejected;
      this.entries.set(id, entry);
      return { status: 'unchanged', inForce: entry.inForce };
    }
    if (entry.rejected && entry.rejected.text === version.text) {
      // The same broken content again: no need to parse it twice.
      entry.rejected = { ...entry.rejected, commit: version.commit };
      return this.invalid(entry, entry.rejected);
    }
    const parsed =
      'tooLarge' in offered
        ? { ok: false as const, diagnostics: [tooLargeDiagnostic(path, offered.tooLarge)] }
        : this.parse(path, version.text);
    if (!parsed.ok) {
      entry.rejected = { path, commit: version.commit, diagnostics: parsed.diagnostics, text: version.text };
      this.entries.set(id, entry);
      return this.invalid(entry, entry.rejected);
    }
    const previous = entry.inForce;
    const inForce: ConfigVersion<T> = { path, commit: version.commit, text: version.text, value: parsed.value };
    this.entries.set(id, { inForce });
    return previous ? { status: 'updated', inForce, previous } : { status: 'updated', inForce };
  }

  /** The version in force: the newest one that parsed. */
  get(key: ConfigKey): ConfigVersion<T> | undefined {
    return this.entries.get(keyId(key))?.inForce;
  }

  /** The newest version, when it does not parse (for the ConfigValid condition). */
  rejected(key: ConfigKey): RejectedVersion | undefined {
    const r = this.entries.get(keyId(key))?.rejected;
    return r ? { path: r.path, commit: r.commit, diagnostics: r.diagnostics } : undefined;
  }

  /** Every file whose newest version is broken, for one project (sorted by path for a stable condition). */
  problems(project: string): (RejectedVersion & { message: string })[] {
    const out: (RejectedVersion & { message: string })[] = [];
    for (const [id, entry] of this.entries) {
      if (!entry.rejected || !id.startsWith(`${project}\u0000`)) continue;
      out.push({
        path: entry.rejected.path,
        commit: entry.rejected.commit,
        diagnostics: entry.rejected.diagnostics,
        message: invalidMessage(entry.rejected, entry.inForce),
      });
    }
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  forget(key: ConfigKey): void {
    this.entries.delete(keyId(key));
  }

  private invalid(entry: Entry<T>, rejected: RejectedVersion): OfferResult<T> {
    const view: RejectedVersion = { path: rejected.path, commit: rejected.commit, diagnostics: rejected.diagnostics };
    const message = invalidMessage(view, entry.inForce);
    return entry.inForce
      ? { status: 'invalid', inForce: entry.inForce, rejected: view, message }
      : { status: 'invalid', rejected: view, message };
  }
}

/** Conditions hold a bounded message: the first diagnostics, then a count. */
const MAX_DIAGNOSTICS_IN_MESSAGE = 3;

/**
 * "carts/remediation.yaml at 1a2b3c4d is invalid: carts/remediation.yaml:7:9: ...; keeping the
 * version from 5e6f7a8b".
 */
export function invalidMessage(rejected: RejectedVersion, inForce: { commit: string } | undefined): string {
  const shown = rejected.diagnostics.slice(0, MAX_DIAGNOSTICS_IN_MESSAGE).map(formatDiagnostic).join('; ');
  const more =
    rejected.diagnostics.length > MAX_DIAGNOSTICS_IN_MESSAGE
      ? ` (and ${rejected.diagnostics.length - MAX_DIAGNOSTICS_IN_MESSAGE} more)`
      : '';
  const kept = inForce ? `keeping the version from ${short(inForce.commit)}` : 'no earlier valid version to keep';
  return `${rejected.path} at ${short(rejected.commit)} is invalid: ${shown}${more}; ${kept}`;
}

// Stands for a too-large version in the rejected entry, so the same one offered again is not re-reported
// as new; NUL never starts a YAML file the formats accept.
function tooLargeText(tooLarge: { size: number; limit: number }): string {
  return `\u0000too large: ${tooLarge.size}`;
}

function tooLargeDiagnostic(file: string, tooLarge: { size: number; limit: number }): Diagnostic {
  return {
    file,
    line: 1,
    column: 1,
    message: `file is ${tooLarge.size} bytes, larger than the ${tooLarge.limit}-byte limit (not read)`,
  };
}

function short(commit: string): string {
  return commit.slice(0, 8);
}

function keyId(key: ConfigKey): string {
  // NUL cannot appear in names or paths, so ids never collide.
  return [key.project, key.stage, key.service, key.file].join('\u0000');
}
