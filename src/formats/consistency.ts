// Checks across the files of one service directory, which no single-file parser can see: an SLO
// objective whose indicator has no query in sli.yaml (the objective fails with "no value received"),
// an slo.yaml without an sli.yaml beside it (the evaluation cannot run), a feature flag a
// remediation toggles that values.yaml does not have (Rebound adds it; the chart may not read it).
// Everything here is a warning: a Remediation resource may point at other files or keys.
import { ACTIONS } from '../api/index.ts';
import { readToggles } from './action-values.ts';
import { parseRemediationFile } from './remediation.ts';
import { parseSliFile } from './sli.ts';
import { isRecord, parseSloFile } from './slo.ts';
import { loadYaml } from './yaml.ts';
import type { Diagnostic, PathSegment } from './yaml.ts';

export interface SourceFile {
  /** As shown in diagnostics. */
  path: string;
  text: string;
}

export interface ServiceFiles {
  slo?: SourceFile;
  sli?: SourceFile;
  remediation?: SourceFile;
  values?: SourceFile;
}

/** Warnings about how the files of one directory fit together; files that do not parse are skipped. */
export function checkServiceFiles(files: ServiceFiles): Diagnostic[] {
  return [...checkIndicators(files), ...checkFeatureFlags(files)];
}

function checkIndicators({ slo, sli }: ServiceFiles): Diagnostic[] {
  if (!slo) return [];
  const parsed = parseSloFile(slo.path, slo.text);
  const loaded = loadYaml(slo.path, slo.text);
  if (!parsed.ok || !loaded.ok || parsed.slo.objectives.length === 0) return [];
  if (!sli) {
    return [
      loaded.yaml.diagnosticAt(
        [],
        'no sli.yaml beside this slo.yaml (nor prometheus/sli.yaml or dynatrace/sli.yaml under its directory): its indicators have no queries, unless a Remediation sets evaluation.sliFile',
      ),
    ];
  }
  const indicators = parseSliFile(sli.path, sli.text);
  if (!indicators.ok) return [];
  const known = new Set(Object.keys(indicators.sli.indicators));
  const root = loaded.yaml.toJS();
  const objectives = isRecord(root) && Array.isArray(root['objectives']) ? (root['objectives'] as unknown[]) : [];
  const warnings: Diagnostic[] = [];
  objectives.forEach((objective, i) => {
    const name = isRecord(objective) ? objective['sli'] : undefined;
    if (typeof name === 'string' && !known.has(name)) {
      warnings.push(
        loaded.yaml.diagnosticAt(
          ['objectives', i, 'sli'],
          `indicator "${name}" has no query in ${sli.path}: this objective will fail with "no value received"`,
        ),
      );
    }
  });
  return warnings;
}

function checkFeatureFlags({ remediation, values }: ServiceFiles): Diagnostic[] {
  if (!remediation || !values) return [];
  const parsed = parseRemediationFile(remediation.path, remediation.text);
  const policyYaml = loadYaml(remediation.path, remediation.text);
  const valuesYaml = loadYaml(values.path, values.text);
  if (!parsed.ok || !policyYaml.ok || !valuesYaml.ok) return [];
  const valuesRoot = valuesYaml.yaml.toJS();
  const flags = isRecord(valuesRoot) && isRecord(valuesRoot['featureFlags']) ? valuesRoot['featureFlags'] : {};
  const { format, entries } = parsed.policy;
  const listPath: PathSegment[] = format === 'legacy' ? ['remediations'] : ['spec', 'remediations'];
  const actionsKey = format === 'legacy' ? 'actions' : 'actionsOnOpen';
  const warnings: Diagnostic[] = [];
  // A parsed policy keeps every entry and action in file order, so indices match the file.
  entries.forEach((entry, i) => {
    entry.actions.forEach((action, j) => {
      if (action.action !== ACTIONS.featuretoggle) return;
      for (const { flag } of readToggles(action.value) ?? []) {
        if (flag in flags) continue;
        warnings.push(
          policyYaml.yaml.diagnosticAt(
            [...listPath, i, actionsKey, j, 'value'],
            `feature flag "${flag}" is not under featureFlags in ${values.path}: Rebound will add it, check that the chart reads it`,
          ),
        );
      }
    });
  });
  return warnings;
}
