// `rebound validate --project FILE PATH`: a Project's apply settings checked against the stage
// branches of the configuration repository at PATH, before the controller finds out at the first
// problem. Per stage: the branch exists; `apply: helm` has each service's chart (<service>/chart/
// Chart.yaml, inside the repository: the helm applier installs nothing else); `apply: flux` names
// (in gitops.objects) Kustomizations the repository defines, when it defines any; settings that the
// stage's applier ignores are warned about. The cluster is not asked: what lives only there (a
// Kustomization created by hand) is a warning, never an error.
import { posix } from 'node:path';
import { APPLY_MODES } from '../../api/constants.ts';
import { keptnFileKindOfPath } from '../../formats/detect.ts';
import { loadYaml } from '../../formats/yaml.ts';
import type { Diagnostic, LocatedYaml } from '../../formats/yaml.ts';

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
  const loaded = loadYaml(file, projectText);
  if (!loaded.ok) return { ...report, errors: loaded.diagnostics };
  const yaml = loaded.yaml;
  const doc = yaml.toJS() as { kind?: unknown; spec?: { stages?: unknown } } | null;
  if (doc?.kind !== 'Project') {
    report.errors.push(yaml.diagnosticAt(['kind'], 'not a Rebound Project (kind: Project)'));
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
  return report;
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
