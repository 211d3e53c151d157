// The loop's ProjectLookup over the informer caches: stages from the Project's spec, or from the
// repository's shipyard.yaml when the spec lists none (both Keptn formats).
import type { Project, Remediation } from '../../api/index.ts';
import { parseShipyardFile } from '../../formats/shipyard.ts';
import type { ShipyardStage } from '../../formats/shipyard.ts';
import type { ResolvedStage } from '../../remediation/stage.ts';
import type { ProjectLookup, StoreProvider } from '../ports.ts';
import { remediationSequence } from './shipyard-sequence.ts';

/** The read side of an informer: what the lookup needs of the caches. */
export interface CacheReader<T> {
  get(key: string): T | undefined;
  list(): T[];
}

export class CachedProjectLookup implements ProjectLookup {
  private readonly projects: CacheReader<Project>;
  private readonly remediations: CacheReader<Remediation>;
  private readonly stores: StoreProvider;

  constructor(projects: CacheReader<Project>, remediations: CacheReader<Remediation>, stores: StoreProvider) {
    this.projects = projects;
    this.remediations = remediations;
    this.stores = stores;
  }

  getProject(namespace: string, name: string): Project | undefined {
    return this.projects.get(`${namespace}/${name}`);
  }

  resolveStage(project: Project, stageName: string): Promise<ResolvedStage | undefined> {
    return resolveProjectStage(project, stageName, () => this.shipyardStages(project));
  }

  findRemediation(namespace: string, project: string, stage: string, service: string): Remediation | undefined {
    return findRemediationIn(this.remediations.list(), namespace, project, stage, service);
  }

  private async shipyardStages(project: Project): Promise<ShipyardStage[] | undefined> {
    const store = await this.stores.storeFor(project);
    const file = await store.readFile(project.spec.git.defaultBranch ?? 'main', 'shipyard.yaml');
    if (!file) return undefined;
    const parsed = parseShipyardFile('shipyard.yaml', file.text);
    return parsed.ok ? parsed.shipyard.stages : undefined;
  }
}

/**
 * A stage as the loop sees it: from the Project's spec (with the shipyard sequence its controller
 * recorded), from the shipyard stages it recorded, or from shipyard.yaml read now (`shipyardStages`,
 * asked only before the Project controller's first pass). `rebound plan` asks it too.
 */
export async function resolveProjectStage(
  project: Project,
  stageName: string,
  shipyardStages: () => Promise<readonly ShipyardStage[] | undefined>,
): Promise<ResolvedStage | undefined> {
  const projectName = project.metadata.name ?? '';
  const fromSpec = project.spec.stages?.find((s) => s.name === stageName);
  if (fromSpec) {
    // The shipyard's remediation sequence for it, as the Project controller found it.
    const tasks = project.status?.stages?.find((s) => s.name === stageName)?.remediationTasks;
    return {
      name: fromSpec.name,
      branch: fromSpec.branch ?? fromSpec.name,
      namespace: fromSpec.namespace ?? `${projectName}-${fromSpec.name}`,
      remediation: fromSpec.remediation ?? 'automated',
      apply: fromSpec.apply ?? 'helm',
      ...(fromSpec.gitops ? { gitops: fromSpec.gitops } : {}),
      ...(tasks ? { sequence: remediationSequence(tasks) } : {}),
    };
  }
  if (project.spec.stages && project.spec.stages.length > 0) return undefined;
  // The Project controller records the shipyard's stages in the status on every poll: use them
  // while they describe the current spec, and read shipyard.yaml only before its first pass.
  const recorded = project.status?.stages;
  if (recorded && recorded.length > 0 && project.status?.observedGeneration === project.metadata.generation) {
    const known = recorded.find((s) => s.name === stageName);
    if (!known) return undefined;
    return {
      name: known.name,
      branch: known.branch,
      namespace: known.namespace ?? `${projectName}-${known.name}`,
      remediation: known.remediation ?? 'disabled',
      apply: known.apply ?? 'helm',
      ...(known.remediationTasks ? { sequence: remediationSequence(known.remediationTasks) } : {}),
    };
  }
  const stage = (await shipyardStages())?.find((s) => s.name === stageName);
  if (!stage) return undefined;
  return {
    name: stage.name,
    branch: stage.name,
    namespace: `${projectName}-${stage.name}`,
    // Keptn ran remediation only where the shipyard asked for it.
    remediation: stage.remediation === 'automated' ? 'automated' : 'disabled',
    apply: 'helm',
    ...(stage.remediationTasks ? { sequence: remediationSequence(stage.remediationTasks) } : {}),
  };
}

/** The Remediation for a service: the first by name when several name the same project/stage/service. */
export function findRemediationIn(
  remediations: readonly Remediation[],
  namespace: string,
  project: string,
  stage: string,
  service: string,
): Remediation | undefined {
  return remediations
    .filter(
      (r) =>
        r.metadata.namespace === namespace &&
        r.spec.project === project &&
        r.spec.stage === stage &&
        r.spec.service === service,
    )
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))[0];
}
