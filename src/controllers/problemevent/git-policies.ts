// The loop's PolicyLookup: a Remediation resource when there is one, else `<service>/remediation.yaml`
// at the stage branch's head, through the last-good cache so a broken push never stops a remediation.
import { CONFIG_PARSERS, ConfigCache } from '../../remediation/config-cache.ts';
import type { RemediationPolicy } from '../../formats/remediation.ts';
import {
  findEntry,
  unmatchedReason,
  policyFilePath,
  policyFromFile,
  policyFromResource,
  sourceWithMatch,
} from '../../remediation/policy.ts';
import type { ResolvedPolicy } from '../../remediation/policy.ts';
import { parseKeyPath } from '../../remediation/yaml-edit.ts';
import type { Project, Remediation } from '../../api/index.ts';
import { readOffered } from '../config-caches.ts';
import type { ResolvedStage } from '../../remediation/stage.ts';
import type { StoreProvider } from '../ports.ts';
import type { PolicyLookup, PolicyResolution } from './ports.ts';

export const DEFAULT_WAIT = '2m';

export class GitPolicyLookup implements PolicyLookup {
  private readonly stores: StoreProvider;
  private readonly defaultWait: string;
  private readonly cache: ConfigCache<RemediationPolicy>;

  /** `cache` is shared with the Project controller, which feeds it when a stage branch moves. */
  constructor(stores: StoreProvider, options: { defaultWait?: string; cache?: ConfigCache<RemediationPolicy> } = {}) {
    this.stores = stores;
    this.defaultWait = options.defaultWait ?? DEFAULT_WAIT;
    this.cache = options.cache ?? new ConfigCache<RemediationPolicy>(CONFIG_PARSERS.remediation);
  }

  evaluationWait(remediation: Remediation | undefined): string {
    return remediation?.spec.evaluation?.wait ?? this.defaultWait;
  }

  async resolve(args: {
    problem: { spec: { project: string; service: string; problemTitle: string; rootCause?: string } };
    project: Project;
    stage: ResolvedStage;
    remediation: Remediation | undefined;
  }): Promise<PolicyResolution> {
    const { problem, project, stage, remediation } = args;
    const service = problem.spec.service;
    let resolved: ResolvedPolicy;
    let warning: string | undefined;
    if (remediation) {
      resolved = policyFromResource(remediation);
    } else {
      const path = policyFilePath(service);
      const store = await this.stores.storeFor(project);
      // The branch as last seen: the Project's poll and push webhooks keep it current, and this
      // saves the step a round trip to the Git server.
      const version = await readOffered(() => store.readFileAtKnownHead(stage.branch, path));
      const key = { project: project.metadata.name ?? '', stage: stage.name, service, file: path };
      const offered = this.cache.offer(key, version);
      if (offered.status === 'removed') {
        return {
          ok: false,
          reason: 'NoPolicy',
          message: `no Remediation resource for ${service} in ${stage.name}, and no ${path} on branch ${stage.branch}`,
        };
      }
      if (offered.status === 'invalid' && !offered.inForce) {
        return { ok: false, reason: 'PolicyInvalid', message: offered.message };
      }
      if (offered.status === 'invalid') warning = offered.message;
      const inForce = offered.inForce;
      if (!inForce) return { ok: false, reason: 'NoPolicy', message: `no usable ${path} on branch ${stage.branch}` };
      resolved = policyFromFile({ branch: stage.branch, commit: inForce.commit, path, policy: inForce.value });
    }
    const match = findEntry(resolved.policy, problem.spec);
    if (!match) {
      return { ok: false, reason: 'NoMatchingEntry', message: unmatchedReason(problem.spec) };
    }
    const values = remediation?.spec.values;
    return {
      ok: true,
      source: sourceWithMatch(resolved.source, match),
      actions: match.entry.actions,
      valuesFile: values?.file ?? `${service}/values.yaml`,
      ...(values?.replicaCountKey ? { replicasPath: parseKeyPath(values.replicaCountKey) } : {}),
      ...(values?.minReplicasKey ? { minReplicasPath: parseKeyPath(values.minReplicasKey) } : {}),
      ...(values?.featureFlagsKey ? { flagsPath: parseKeyPath(values.featureFlagsKey) } : {}),
      ...(remediation?.spec.limits ? { limits: remediation.spec.limits } : {}),
      wait: this.evaluationWait(remediation),
      ...(warning ? { warning } : {}),
    };
  }
}
