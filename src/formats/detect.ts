// Recognises Keptn's configuration files by name (Keptn's layout: shipyard.yaml at the root,
// `<service>/remediation.yaml`, `<service>/slo.yaml`, `<service>/[prometheus/]sli.yaml`) or, for a
// file with another name, by content, and runs the matching parser.
import { basename } from 'node:path';
import { parseRemediationFile } from './remediation.ts';
import { parseShipyardFile } from './shipyard.ts';
import { parseSliFile } from './sli.ts';
import { parseSloFile } from './slo.ts';
import { isRecord } from './slo.ts';
import { loadYaml } from './yaml.ts';
import type { Diagnostic } from './yaml.ts';

export const KEPTN_FILE_KINDS = ['shipyard', 'remediation', 'slo', 'sli'] as const;
export type KeptnFileKind = (typeof KEPTN_FILE_KINDS)[number];

/** The file name Keptn's layout uses for each kind. */
export const KEPTN_FILE_NAMES: Readonly<Record<KeptnFileKind, string>> = {
  shipyard: 'shipyard.yaml',
  remediation: 'remediation.yaml',
  slo: 'slo.yaml',
  sli: 'sli.yaml',
};

/** The kind named by a path's file name (`.yaml` or `.yml`), or undefined. */
export function keptnFileKindOfPath(path: string): KeptnFileKind | undefined {
  const name = basename(path).replace(/\.yml$/, '.yaml');
  return KEPTN_FILE_KINDS.find((kind) => KEPTN_FILE_NAMES[kind] === name);
}

/** The kind a parsed YAML document looks like, or undefined when it is none of them. */
export function keptnFileKindOfDocument(value: unknown): KeptnFileKind | undefined {
  if (!isRecord(value)) return undefined;
  const apiVersion = value['apiVersion'];
  if (typeof apiVersion === 'string' && apiVersion.startsWith('spec.keptn.sh/')) {
    if (value['kind'] === 'Shipyard') return 'shipyard';
    if (value['kind'] === 'Remediation') return 'remediation';
  }
  if ('remediations' in value) return 'remediation';
  if ('stages' in value) return 'shipyard';
  if ('objectives' in value || 'total_score' in value) return 'slo';
  if ('indicators' in value) return 'sli';
  return undefined;
}

/** The kind of a file: by name first, then by content. */
export function detectKeptnFile(path: string, text: string): KeptnFileKind | undefined {
  const byName = keptnFileKindOfPath(path);
  if (byName) return byName;
  const loaded = loadYaml(path, text);
  return loaded.ok ? keptnFileKindOfDocument(loaded.yaml.toJS()) : undefined;
}

export interface FileCheck {
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

/** Parses `text` as a Keptn file of `kind` and returns what was wrong with it. */
export function checkKeptnFile(kind: KeptnFileKind, file: string, text: string): FileCheck {
  const result = parse(kind, file, text);
  return result.ok ? { errors: [], warnings: result.warnings } : { errors: result.diagnostics, warnings: [] };
}

type Checked = { ok: true; warnings: Diagnostic[] } | { ok: false; diagnostics: Diagnostic[] };

function parse(kind: KeptnFileKind, file: string, text: string): Checked {
  switch (kind) {
    case 'shipyard':
      return parseShipyardFile(file, text);
    case 'remediation':
      return parseRemediationFile(file, text);
    case 'slo': {
      const result = parseSloFile(file, text);
      return result.ok ? { ok: true, warnings: result.slo.warnings } : result;
    }
    case 'sli': {
      const result = parseSliFile(file, text);
      return result.ok ? { ok: true, warnings: result.sli.warnings } : result;
    }
  }
}
