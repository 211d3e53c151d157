// Keptn's sli.yaml (keptn-semantics.md §3.9): `indicators` maps an SLI name to a provider query
// (PromQL for Prometheus) that may use placeholders such as $SERVICE or $DURATION_SECONDS.
import { loadYaml } from './yaml.ts';
import type { Diagnostic } from './yaml.ts';
import { FieldReader, isRecord } from './slo.ts';

export interface Sli {
  specVersion: string | undefined;
  /** SLI name → query, in file order. */
  indicators: Record<string, string>;
  warnings: Diagnostic[];
}

/**
 * Where a service's SLI file may be, relative to its directory, in the order Rebound looks: beside
 * slo.yaml, then where Keptn's SLI providers kept theirs (the Prometheus provider read
 * `prometheus/sli.yaml`, the Dynatrace one `dynatrace/sli.yaml`). The first that exists is used.
 */
export const SLI_LOCATIONS = ['sli.yaml', 'prometheus/sli.yaml', 'dynatrace/sli.yaml'] as const;

/** The SLI file paths of a service directory (`carts`), in lookup order. */
export function sliFilePaths(serviceDir: string): string[] {
  return SLI_LOCATIONS.map((location) =>
    serviceDir === '' || serviceDir === '.' ? location : `${serviceDir}/${location}`,
  );
}

/**
 * For a path ending in one of SLI_LOCATIONS: the service directory it belongs to and its rank in
 * the lookup order (0 first). `carts/prometheus/sli.yaml` → `{dir: 'carts', rank: 1}`.
 */
export function sliLocationOf(path: string): { dir: string; rank: number } | undefined {
  for (let rank = SLI_LOCATIONS.length - 1; rank >= 0; rank--) {
    const location = SLI_LOCATIONS[rank] as string;
    if (path === location) return { dir: '.', rank };
    if (path.endsWith(`/${location}`)) return { dir: path.slice(0, -location.length - 1), rank };
  }
  return undefined;
}

export type SliParseResult = { ok: true; sli: Sli } | { ok: false; diagnostics: Diagnostic[] };

export function parseSliFile(file: string, text: string): SliParseResult {
  const loaded = loadYaml(file, text);
  if (!loaded.ok) return loaded;
  const r = new FieldReader(loaded.yaml);
  const root = loaded.yaml.toJS();
  if (!isRecord(root)) {
    return { ok: false, diagnostics: [r.diag([], 'not an SLI file: expected a mapping with "indicators"')] };
  }
  r.unknownKeys(root, [], ['spec_version', 'indicators']);
  const specVersion = root['spec_version'] == null ? undefined : r.scalarString(root['spec_version'], ['spec_version']);
  const indicators: Record<string, string> = {};
  const raw = root['indicators'];
  if (raw == null || (isRecord(raw) && Object.keys(raw).length === 0)) {
    // Keptn's Prometheus provider refused such a file with this message.
    r.error(raw == null ? [] : ['indicators'], 'missing required field: indicators');
  } else if (!isRecord(raw)) {
    r.error(['indicators'], 'indicators must be a mapping of SLI names to queries');
  } else {
    for (const [name, query] of Object.entries(raw)) {
      if (typeof query !== 'string' || query.trim() === '') {
        r.error(['indicators', name], `the query of indicator "${name}" must be a non-empty string`);
      } else {
        indicators[name] = query;
      }
    }
  }
  if (r.errors.length > 0) return { ok: false, diagnostics: r.errors };
  return { ok: true, sli: { specVersion, indicators, warnings: r.warnings } };
}
