// The last good version of every watched configuration file, shared by the Project controller (which
// feeds them when a stage branch moves and reports broken files in ConfigValid) and the ProblemEvent
// loop (which reads policies and SLOs through them). One instance per controller process.
import type { RemediationPolicy } from '../formats/remediation.ts';
import type { Sli } from '../formats/sli.ts';
import { sliLocationOf } from '../formats/sli.ts';
import type { Slo } from '../formats/slo.ts';
import { FileTooLargeError } from '../gitstore/limits.ts';
import { CONFIG_PARSERS, ConfigCache } from '../remediation/config-cache.ts';
import type { OfferedVersion } from '../remediation/config-cache.ts';

export interface ConfigCaches {
  remediation: ConfigCache<RemediationPolicy>;
  slo: ConfigCache<Slo>;
  sli: ConfigCache<Sli>;
}

export function createConfigCaches(): ConfigCaches {
  return {
    remediation: new ConfigCache(CONFIG_PARSERS.remediation),
    slo: new ConfigCache(CONFIG_PARSERS.slo),
    sli: new ConfigCache(CONFIG_PARSERS.sli),
  };
}

/**
 * A watched file read for the caches: its text, `null` when it is not there (at `commit`, when the
 * read does not say), or its size when the store refused to read it, so the cache reports it with
 * its path and size and keeps the last good version in force.
 */
export async function readOffered(
  read: () => Promise<{ commit?: string; text: string } | undefined>,
  commit = '',
): Promise<OfferedVersion> {
  try {
    const file = await read();
    return { commit: file?.commit ?? commit, text: file ? file.text : null };
  } catch (err) {
    if (err instanceof FileTooLargeError) return { commit: err.commit, tooLarge: { size: err.size, limit: err.limit } };
    throw err;
  }
}

/**
 * `<service>/remediation.yaml`, `<service>/slo.yaml` and the SLI files (`<service>/sli.yaml`,
 * `<service>/prometheus/sli.yaml`, `<service>/dynatrace/sli.yaml`): the files a branch watch re-reads.
 */
export function watchedFile(path: string): { service: string; kind: keyof ConfigCaches } | undefined {
  const match = /^([^/]+)\/(remediation|slo)\.yaml$/.exec(path);
  if (match?.[1] && match[2]) return { service: match[1], kind: match[2] as keyof ConfigCaches };
  const sli = sliLocationOf(path);
  if (sli && /^[^/]+$/.test(sli.dir) && sli.dir !== '.') return { service: sli.dir, kind: 'sli' };
  return undefined;
}
