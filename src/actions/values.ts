// scale and featuretoggle, the two actions that edit the values file: the loop commits the edit
// first, and running the action makes the cluster match that commit: `helm upgrade` of the chart at
// the commit, a patch of the live objects (`kubernetes`), a reconcile request to Flux (`flux`, the
// loop then waits until Flux reports the commit), or nothing (`none`, a GitOps agent syncs the branch). A featuretoggle may also be carried out in Unleash, the commit staying the audit trail.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ACTIONS, REASONS } from '../api/index.ts';
import type { Attempt, FeatureFlagsSpec } from '../api/index.ts';
import type { Applier, ApplierName, ApplyRequest, ApplyResult } from '../apply/index.ts';
import type { StageRepository } from '../remediation/stage.ts';
import type { SecretReader } from '../kube/secrets.ts';
import { ReboundError } from '../errors.ts';
import { parseScaleValue, parseToggleValue, scaleReplicas, toggleFeature } from '../remediation/value-edits.ts';
import type { ActionRequest, EditOptions, EditResult } from '../remediation/value-edits.ts';
import type { ActionCheck, ActionContext, ActionHandler, ActionOutcome } from './types.ts';
import { setUnleashFeature } from './unleash.ts';
import { timed } from '../observability/timing.ts';
import type { Observe } from '../observability/timing.ts';

export interface ValuesActionOptions {
  appliers: Record<ApplierName, Applier>;
  /** Where charts are materialised for helm. */
  workDir: string;
  /** Reads the Unleash token's Secret. */
  secrets: SecretReader;
  /** How long Helm's upgrade took, for `rebound_helm_duration_seconds`. */
  helmUpgrade?: Observe;
  /**
   * For `helm` and `kubernetes`: which GitOps engine manages the service's workload, if any (it
   * would undo what Rebound applies), as a sentence for a warning.
   */
  gitOpsOwner?: (namespace: string, service: string) => Promise<string | undefined>;
}

/** Makes the cluster match a values commit with the stage's applier (helm, kubernetes or none). */
class CommitApplier {
  private readonly options: ValuesActionOptions;

  constructor(options: ValuesActionOptions) {
    this.options = options;
  }

  async apply(ctx: ActionContext): Promise<Omit<ApplyResult, 'applier'>> {
    const { attempt, stage, problem, repository } = ctx;
    const commit = attempt.commit;
    if (!commit) {
      throw new ReboundError(`attempt ${attempt.index} has no commit to apply`, {
        code: 'NoCommit',
        reason: REASONS.ApplyFailed,
        retryable: false,
      });
    }
    const service = problem.spec.service;
    const request: ApplyRequest = {
      project: problem.spec.project,
      stage: stage.name,
      service,
      namespace: stage.namespace,
      branch: stage.branch,
      commit,
      repoUrl: ctx.project.spec.git.url,
      ...(attempt.path ? { path: attempt.path } : {}),
      ...(stage.gitops ? { gitops: stage.gitops } : {}),
    };
    const applier = this.options.appliers[stage.apply];
    if (stage.apply === 'helm') {
      // Only helm reads files: the chart and values at the commit, in a scratch directory of its own.
      const scratch = join(
        this.options.workDir,
        'apply',
        `${problem.metadata.uid ?? problem.metadata.name ?? 'problem'}-${attempt.index}`,
      );
      try {
        const valuesPath = attempt.path ?? `${service}/values.yaml`;
        await rm(scratch, { recursive: true, force: true });
        await mkdir(scratch, { recursive: true });
        await repository.materialize(commit, [`${service}/chart`, valuesPath], scratch);
        request.chartDir = join(scratch, service, 'chart');
        request.valuesFile = join(scratch, valuesPath);
        const result = await timed(this.options.helmUpgrade, () => applier.apply(request, ctx.signal));
        return { ...result, ...(await this.ownerWarning(stage.namespace, service)) };
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    }
    if (stage.apply === 'kubernetes') {
      Object.assign(request, await desiredState(repository, attempt));
      const result = await applier.apply(request, ctx.signal);
      return { ...result, ...(await this.ownerWarning(stage.namespace, service)) };
    }
    return applier.apply(request, ctx.signal);
  }

  /** A `helm`/`kubernetes` change to a workload a GitOps engine manages is undone by that engine: say so. */
  private async ownerWarning(namespace: string, service: string): Promise<{ warning?: string }> {
    // A courtesy on top of a change that did apply: a workload that cannot be read leaves it out.
    const owner = await this.options.gitOpsOwner?.(namespace, service).catch(() => undefined);
    return owner
      ? { warning: `${owner}: it will undo this change; let the engine apply it (the stage's apply: flux)` }
      : {};
  }
}

function applied(result: Omit<ApplyResult, 'applier'>, before?: string): ActionOutcome {
  return {
    kind: 'done',
    detail: before ? `${before}; ${result.detail}` : result.detail,
    ...(result.helmRevision ? { helmRevision: result.helmRevision } : {}),
    ...(result.sync ? { sync: result.sync } : {}),
    ...(result.warning ? { warning: result.warning } : {}),
    ...(result.rollout ? { rollout: true } : {}),
  };
}

/** `scale` (and Keptn's `scaling`): replicaCount, absolute or relative, clamped to the limits. */
export class ScaleAction implements ActionHandler {
  readonly executor = 'values';
  readonly background = false;
  private readonly applier: CommitApplier;

  constructor(options: ValuesActionOptions) {
    this.applier = new CommitApplier(options);
  }

  editValues(request: ActionRequest, text: string, options: EditOptions): EditResult {
    return scaleReplicas(text, parseScaleValue(request.value, request.action), options);
  }

  check(): ActionCheck {
    // The edit checks the value when it is made, and names the file and line.
    return { ok: true };
  }

  async run(ctx: ActionContext): Promise<ActionOutcome> {
    return applied(await this.applier.apply(ctx));
  }
}

/** `featuretoggle` with `Flag:on|off`: featureFlags.<Flag> in values.yaml, and in Unleash when it is the provider. */
export class FeatureToggleAction implements ActionHandler {
  readonly executor = 'values';
  readonly background = false;
  private readonly applier: CommitApplier;
  private readonly options: ValuesActionOptions;

  constructor(options: ValuesActionOptions) {
    this.options = options;
    this.applier = new CommitApplier(options);
  }

  editValues(request: ActionRequest, text: string, options: EditOptions): EditResult {
    return toggleFeature(text, parseToggleValue(request.value), options);
  }

  check(): ActionCheck {
    return { ok: true };
  }

  async run(ctx: ActionContext): Promise<ActionOutcome> {
    // Unleash before the applier: it is idempotent and leaves no trace when repeated after an
    // outage, while every repeated helm upgrade makes a new release revision.
    const toggled = await this.toggleInProvider(ctx);
    return applied(await this.applier.apply(ctx), toggled);
  }

  /** The flags in Unleash, when the Remediation or the Project names it as the provider. */
  private async toggleInProvider(ctx: ActionContext): Promise<string | undefined> {
    const flags: FeatureFlagsSpec | undefined = ctx.remediation?.spec.featureFlags ?? ctx.project.spec.featureFlags;
    if (flags?.provider !== 'unleash' || !flags.unleash) return undefined;
    const toggles = parseToggleValue(ctx.attempt.value);
    const namespace = ctx.problem.metadata.namespace ?? 'default';
    const secretName = flags.unleash.secretRef.name;
    const secret = await this.options.secrets.readSecret(namespace, secretName);
    const token = secret?.['token'];
    if (!token) {
      const reason = secret ? REASONS.SecretInvalid : REASONS.SecretNotFound;
      const what = secret ? `has no key "token"` : 'does not exist';
      throw new ReboundError(`Unleash token Secret ${namespace}/${secretName} ${what}`, {
        code: reason,
        reason,
        retryable: false,
      });
    }
    const settings = {
      url: flags.unleash.url,
      token,
      environment: flags.unleash.environment ?? ctx.stage.name,
      ...(flags.unleash.project ? { project: flags.unleash.project } : {}),
    };
    const details: string[] = [];
    // One after the other: each call is idempotent, so a retry after a failure repeats only what is left harmlessly.
    for (const { flag, on } of toggles) details.push((await setUnleashFeature(settings, flag, on, ctx.signal)).detail);
    return details.join('; ');
  }
}

/** For the `kubernetes` applier: the replica count and flags the commit holds. */
async function desiredState(
  repository: StageRepository,
  attempt: Attempt,
): Promise<Pick<ApplyRequest, 'replicas' | 'featureFlags'>> {
  const path = attempt.path ?? '';
  const text = attempt.commit ? await repository.readFileAt(attempt.commit, path) : undefined;
  if (text === undefined) {
    throw new ReboundError(`${path} is not in commit ${attempt.commit ?? '?'}`, {
      code: 'ValuesFileNotFound',
      reason: REASONS.ValuesFileNotFound,
      retryable: false,
    });
  }
  const values: unknown = parseYaml(text);
  const record = typeof values === 'object' && values !== null ? (values as Record<string, unknown>) : {};
  const out: Pick<ApplyRequest, 'replicas' | 'featureFlags'> = {};
  if (attempt.action === ACTIONS.scale || attempt.action === ACTIONS.scaling) {
    const replicas = record.replicaCount;
    if (typeof replicas === 'number') out.replicas = replicas;
  } else {
    const flags = record.featureFlags;
    if (typeof flags === 'object' && flags !== null) {
      out.featureFlags = Object.fromEntries(
        Object.entries(flags).filter((e): e is [string, boolean] => typeof e[1] === 'boolean'),
      );
    }
  }
  return out;
}
