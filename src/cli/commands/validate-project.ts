// `rebound validate --project FILE PATH`: a Project's apply settings checked against the stage
// branches of the configuration repository at PATH, before the controller finds out at the first
// problem. Per stage: the branch exists; `apply: helm` has each service's chart (<service>/chart/
// Chart.yaml, inside the repository: the helm applier installs nothing else); `apply: flux` names
// (in gitops.objects) Kustomizations the repository defines, when it defines any; settings that the
// stage's applier ignores are warned about. The cluster is not asked: what lives only there (a
// Kustomization created by hand) is a warning, never an error.
//
// The file may also hold the Project's Remediations (`---` between documents, as `rebound plan
// --project` reads it). One that names its own values file or keys (rendered manifests: spec.replicas,
// a ConfigMap's data) is checked on its stage's branch the way the loop will edit it: the file is there
// and parses, and each key path leads into one document of it.
import { posix } from 'node:path';
import { APPLY_MODES } from '../../api/constants.ts';
import { keptnFileKindOfPath } from '../../formats/detect.ts';
import { loadYaml, loadYamlDocuments } from '../../formats/yaml.ts';
import type { Diagnostic, LocatedYaml } from '../../formats/yaml.ts';
import { valuesFilePath } from '../../remediation/plan.ts';
import { isEditError } from '../../remediation/value-edits.ts';
import { documentFor, loadEditable, lookup, parseKeyPath } from '../../remediation/yaml-edit.ts';
import type { EditableYaml } from '../../remediation/yaml-edit.ts';

/** One stage branch of the repository, as the check needs it. */
export interface BranchFiles {
  /** Every file path of the branch, `/`-separated. */
  paths: readonly string[];
  /** Reads the files (a missing or oversized one is absent). */
  read(paths: readonly string[]): Promise<Map<string, string>>;
}

export interface ProjectReport {
  path: string;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

const FLUX_KUSTOMIZATION_API = 'kustomize.toolkit.fluxcd.io/';
/** Flux's own default namespace, for a Kustomization manifest that names none. */
const FLUX_DEFAULT_NAMESPACE = 'flux-system';

/**
 * Checks `projectText` (a Project manifest) against the branches `branchOf` returns (undefined: the
 * repository has no such branch). `repo` names the repository in messages.
 */
export async function checkProjectApply(
  file: string,
  projectText: string,
  repo: string,
  branchOf: (branch: string) => Promise<BranchFiles | undefined>,
): Promise<ProjectReport> {
  const report: ProjectReport = { path: file, errors: [], warnings: [] };
  const loaded = loadYamlDocuments(file, projectText);
  if (!loaded.ok) return { ...report, errors: loaded.diagnostics };
  const kindOf = (located: LocatedYaml): unknown => (located.toJS() as { kind?: unknown } | null)?.kind;
  const yaml = loaded.documents.find((d) => kindOf(d) === 'Project') ?? loaded.documents[0];
  const doc = yaml?.toJS() as { kind?: unknown; metadata?: { name?: unknown }; spec?: { stages?: unknown } } | null;
  if (!yaml || doc?.kind !== 'Project') {
    if (yaml) report.errors.push(yaml.diagnosticAt(['kind'], 'not a Rebound Project (kind: Project)'));
    return report;
  }
  const stages = doc.spec?.stages;
  if (!Array.isArray(stages) || stages.length === 0) {
    report.errors.push(yaml.diagnosticAt(['spec', 'stages'], 'the Project has no stages: nothing is applied'));
    return report;
  }
  for (const [i, stage] of stages.entries()) {
    await checkStage(yaml, ['spec', 'stages', i], stage as StageSpec, repo, branchOf, report);
  }
  const projectName = typeof doc.metadata?.name === 'string' ? doc.metadata.name : undefined;
  for (const located of loaded.documents) {
    if (kindOf(located) !== 'Remediation') continue;
    await checkRemediationValues(located, projectName, stages as StageSpec[], branchOf, report);
  }
  return report;
}

interface RemediationDoc {
  metadata?: { name?: unknown };
  spec?: {
    project?: unknown;
    stage?: unknown;
    service?: unknown;
    values?: { file?: unknown; replicaCountKey?: unknown; featureFlagsKey?: unknown; minReplicasKey?: unknown };
  };
}

/**
 * A Remediation that names its values file or keys, against its stage's branch: what the loop would
 * refuse at the first action (ValuesFileNotFound, ValuesFileInvalid) is an error here; a replica key
 * the file lacks, or an HPA key that leads nowhere, a warning.
 */
async function checkRemediationValues(
  yaml: LocatedYaml,
  projectName: string | undefined,
  stages: readonly StageSpec[],
  branchOf: (branch: string) => Promise<BranchFiles | undefined>,
  report: ProjectReport,
): Promise<void> {
  const doc = yaml.toJS() as RemediationDoc | null;
  const spec = doc?.spec;
  const values = spec?.values;
  if (!spec || !values || typeof values !== 'object') return;
  if (projectName !== undefined && spec.project !== projectName) return;
  const stage = stages.find((s) => s.name === spec.stage);
  if (!stage || typeof spec.service !== 'string' || spec.service === '') return;
  const name = typeof doc.metadata?.name === 'string' ? doc.metadata.name : String(spec.service);
  const branch = typeof stage.branch === 'string' && stage.branch !== '' ? stage.branch : String(stage.name);
  const files = await branchOf(branch);
  if (!files) return; // the stage's check has said so
  const file = typeof values.file === 'string' && values.file !== '' ? values.file : valuesFilePath(spec.service);
  const at = (key: string): (string | number)[] => ['spec', 'values', ...(key in values ? [key] : [])];
  const error = (key: string, message: string): void => {
    report.errors.push(yaml.diagnosticAt(at(key), `Remediation ${name}: ${message}`));
  };
  const warn = (key: string, message: string): void => {
    report.warnings.push(yaml.diagnosticAt(at(key), `Remediation ${name}: ${message}`));
  };
  const text = (await files.read([file])).get(file);
  if (text === undefined) {
    error('file', `values file ${file} is not on branch ${branch}: every values action fails with ValuesFileNotFound`);
    return;
  }
  let target: EditableYaml;
  try {
    target = loadEditable(file, text);
  } catch (err) {
    if (!isEditError(err)) throw err;
    error('file', `${err.message} (on branch ${branch})`);
    return;
  }
  const keys = [
    ['replicaCountKey', values.replicaCountKey],
    ['featureFlagsKey', values.featureFlagsKey],
    ['minReplicasKey', values.minReplicasKey],
  ] as const;
  for (const [key, raw] of keys) {
    if (typeof raw !== 'string') continue;
    try {
      const path = parseKeyPath(raw);
      if (key === 'replicaCountKey') {
        if (lookup(target, path).kind === 'missing')
          warn(key, `${file} on branch ${branch} has no ${raw}: a scale action would be refused`);
      } else if (key === 'featureFlagsKey') {
        documentFor(target, path);
      } else {
        const found = autoscalerMinimum(target, path);
        if (found !== 'found')
          warn(
            key,
            `${raw} ${found === 'ambiguous' ? 'is in more than one document of' : 'is not in'} ${file} on branch ${branch}: scale edits ${typeof values.replicaCountKey === 'string' ? values.replicaCountKey : 'replicaCount'}, not a HorizontalPodAutoscaler's minimum`,
          );
      }
    } catch (err) {
      if (!isEditError(err)) throw err;
      error(key, `${err.message} (on branch ${branch})`);
    }
  }
}

/** Whether the HPA minimum's key leads to one value: the loop quietly scales the count otherwise. */
function autoscalerMinimum(target: EditableYaml, path: readonly string[]): 'found' | 'missing' | 'ambiguous' {
  try {
    return lookup(target, path).kind === 'scalar' ? 'found' : 'missing';
  } catch (err) {
    if (isEditError(err) && err.code === 'ValueAmbiguous') return 'ambiguous';
    if (isEditError(err)) return 'missing';
    throw err;
  }
}

interface StageSpec {
  name?: unknown;
  branch?: unknown;
  apply?: unknown;
  gitops?: { objects?: unknown; timeout?: unknown };
}

async function checkStage(
  yaml: LocatedYaml,
  at: (string | number)[],
  stage: StageSpec,
  repo: string,
  branchOf: (branch: string) => Promise<BranchFiles | undefined>,
  report: ProjectReport,
): Promise<void> {
  const error = (path: (string | number)[], message: string): void => {
    report.errors.push(yaml.diagnosticAt([...at, ...path], message));
  };
  const warn = (path: (string | number)[], message: string): void => {
    report.warnings.push(yaml.diagnosticAt([...at, ...path], message));
  };
  if (typeof stage.name !== 'string' || stage.name === '') {
    error(['name'], 'a stage needs a name');
    return;
  }
  const name = stage.name;
  const apply = stage.apply ?? 'helm';
  if (typeof apply !== 'string' || !(APPLY_MODES as readonly string[]).includes(apply)) {
    error(['apply'], `stage ${name}: apply ${JSON.stringify(apply)} is not one of ${APPLY_MODES.join(', ')}`);
    return;
  }
  if (stage.gitops !== undefined && apply !== 'flux' && apply !== 'argocd')
    warn(
      ['gitops'],
      `stage ${name}: gitops is read only with apply: flux or argocd, and this stage applies with ${apply}`,
    );

  const branch = typeof stage.branch === 'string' && stage.branch !== '' ? stage.branch : name;
  const files = await branchOf(branch);
  if (!files) {
    error(
      stage.branch === undefined ? ['name'] : ['branch'],
      `stage ${name}: ${repo} has no branch "${branch}": Rebound commits to and applies from it`,
    );
    return;
  }
  const services = servicesOf(files.paths);
  const present = new Set(files.paths);
  switch (apply) {
    case 'helm':
      for (const service of services) {
        const chart = `${service}/chart/Chart.yaml`;
        if (!present.has(chart))
          error(
            ['apply'],
            `stage ${name}: apply: helm installs ${service} from ${chart} on branch ${branch}, which is missing (the chart must be in the repository)`,
          );
      }
      break;
    case 'flux':
      await checkFluxObjects(stage, branch, files, (message) => error(['gitops', 'objects'], message), warn);
      break;
    case 'argocd':
    case 'kubernetes':
    case 'none':
      break;
  }
}

/** Service directories: those holding a remediation.yaml or slo.yaml. */
function servicesOf(paths: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const path of paths) {
    const kind = keptnFileKindOfPath(path);
    if (kind !== 'remediation' && kind !== 'slo') continue;
    const dir = posix.dirname(path);
    if (dir !== '.') dirs.add(dir);
  }
  return [...dirs].sort();
}

async function checkFluxObjects(
  stage: StageSpec,
  branch: string,
  files: BranchFiles,
  error: (message: string) => void,
  warn: (path: (string | number)[], message: string) => void,
): Promise<void> {
  const name = String(stage.name);
  const objects = Array.isArray(stage.gitops?.objects)
    ? stage.gitops.objects.filter((o): o is string => typeof o === 'string')
    : [];
  if (objects.length === 0) return; // found in the cluster by branch and path
  const defined = await fluxKustomizations(files);
  if (defined.size === 0) {
    warn(
      ['gitops', 'objects'],
      `stage ${name}: branch ${branch} defines no Flux Kustomization; Rebound looks ${objects.join(', ')} up in the cluster`,
    );
    return;
  }
  for (const object of objects) {
    if (!defined.has(object))
      error(
        `stage ${name}: gitops.objects names ${object}, which is no Flux Kustomization of branch ${branch} (it defines ${[...defined].sort().join(', ')})`,
      );
  }
}

/** `namespace/name` of every Flux Kustomization manifest (kustomize.toolkit.fluxcd.io) of the branch. */
async function fluxKustomizations(files: BranchFiles): Promise<Set<string>> {
  const yamlPaths = files.paths.filter((p) => /\.ya?ml$/.test(p) && keptnFileKindOfPath(p) === undefined);
  const texts = await files.read(yamlPaths);
  const found = new Set<string>();
  for (const [path, text] of texts) {
    if (!text.includes(FLUX_KUSTOMIZATION_API)) continue;
    for (const doc of text.split(/^---\s*$/m)) {
      const loaded = loadYaml(path, doc);
      if (!loaded.ok) continue;
      const value = loaded.yaml.toJS() as {
        apiVersion?: unknown;
        kind?: unknown;
        metadata?: { name?: unknown; namespace?: unknown };
      } | null;
      if (
        typeof value?.apiVersion === 'string' &&
        value.apiVersion.startsWith(FLUX_KUSTOMIZATION_API) &&
        value.kind === 'Kustomization' &&
        typeof value.metadata?.name === 'string'
      ) {
        const namespace =
          typeof value.metadata.namespace === 'string' ? value.metadata.namespace : FLUX_DEFAULT_NAMESPACE;
        found.add(`${namespace}/${value.metadata.name}`);
      }
    }
  }
  return found;
}
