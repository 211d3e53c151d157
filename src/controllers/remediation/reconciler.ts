// The Remediation reconciler: does the policy name a Project and a stage that exist, and can Rebound
// carry out every action it lists (ConfigValid, Ready). The ProblemEvent loop would stall on the same
// faults mid-incident; reporting them here lets a person fix them before a problem arrives.
import { CONDITION_TYPES, REASONS } from '../../api/index.ts';
import type { Remediation, RemediationSpec, RemediationStatus } from '../../api/index.ts';
import { ACTIONS, WEBHOOK_ACTION } from '../../api/index.ts';
import { resolveWebhook } from '../../actions/webhook.ts';
import { errorMessage, failureReason } from '../../errors.ts';
import { isKnownAction, parseScaleValue, parseToggleValue } from '../../remediation/value-edits.ts';
import { parseKeyPath } from '../../remediation/yaml-edit.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { Reconciler, ReconcileContext, ReconcileResult } from '../../runtime/controller.ts';
import { conditionsOf, writeStatus } from '../status.ts';
import { parseDuration } from '../../api/duration.ts';
import type { ProjectLookup } from '../ports.ts';

export interface RemediationControllerPorts {
  clock: Clock;
  cache: { get(key: string): Remediation | undefined };
  projects: Pick<ProjectLookup, 'getProject' | 'resolveStage'>;
  writer: { patchStatus(remediation: Remediation, status: RemediationStatus): Promise<unknown> };
  /** The stage list could not be read (Git down): look again after this long. */
  retryMs: number;
  /** Action types nothing built in handles go to an external executor (--action-sink). */
  externalActions?: boolean;
}

export class RemediationReconciler implements Reconciler {
  private readonly ports: RemediationControllerPorts;

  constructor(ports: RemediationControllerPorts) {
    this.ports = ports;
  }

  async reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult | undefined> {
    const remediation = this.ports.cache.get(key);
    if (!remediation) return undefined;
    const now = new Date(this.ports.clock.now());
    const { spec } = remediation;
    const namespace = remediation.metadata.namespace ?? 'default';
    const conditions = conditionsOf(remediation, now);

    const faults = checkRemediationSpec(spec, { externalActions: this.ports.externalActions ?? false });
    if (faults.length > 0) {
      const message = faults.join('; ');
      ctx.log.info({ remediation: key, faults: faults.length }, 'remediation policy is invalid');
      conditions.set({
        type: CONDITION_TYPES.ConfigValid,
        status: 'False',
        reason: REASONS.RemediationInvalid,
        message,
      });
      conditions.markStalled(REASONS.RemediationInvalid, message);
      await writeStatus(this.ports.writer, remediation, {}, conditions);
      return undefined; // only a spec change can fix it, and a spec change requeues it
    }
    conditions.set({
      type: CONDITION_TYPES.ConfigValid,
      status: 'True',
      reason: REASONS.ConfigValid,
      message: `${spec.remediations.length} problem type(s), every action known${this.ports.externalActions ? ' or sent to the external executor' : ''}`,
    });

    const project = this.ports.projects.getProject(namespace, spec.project);
    if (!project) {
      conditions.markStalled(REASONS.ProjectNotFound, `Project ${namespace}/${spec.project} does not exist`);
      await writeStatus(this.ports.writer, remediation, {}, conditions);
      return undefined; // the Project's creation wakes this Remediation
    }
    let result: ReconcileResult | undefined;
    try {
      const stage = await this.ports.projects.resolveStage(project, spec.stage);
      if (!stage) conditions.markStalled(REASONS.StageNotFound, `Project ${spec.project} has no stage "${spec.stage}"`);
      else
        conditions.markReady(
          REASONS.Succeeded,
          `policy for ${spec.service} in ${spec.stage} (branch ${stage.branch}, remediation ${stage.remediation})`,
        );
    } catch (err) {
      // The stages come from shipyard.yaml and Git is out of reach: say so, try again later.
      const reason = failureReason(err, REASONS.GitUnreachable);
      conditions.markNotReady(
        reason,
        `the stages of Project ${spec.project} could not be read: ${errorMessage(err)}`,
        'retried on the poll interval',
      );
      result = { requeueAfterMs: this.ports.retryMs };
    }
    await writeStatus(this.ports.writer, remediation, {}, conditions);
    return result;
  }
}

/**
 * What the CRD schema cannot say: every action is one Rebound knows (or, with an executor sink, one
 * it hands on), with a value it can carry out; webhooks call only allowed hosts; the durations and
 * key paths parse. Returns one message per fault, naming the field.
 */
export function checkRemediationSpec(
  spec: RemediationSpec,
  options: { externalActions: boolean } = { externalActions: false },
): string[] {
  const faults: string[] = [];
  spec.remediations.forEach((entry, i) => {
    entry.actionsOnOpen.forEach((action, j) => {
      const field = `remediations[${i}].actionsOnOpen[${j}]`;
      if (action.action === WEBHOOK_ACTION) {
        const webhook = resolveWebhook(action.value, spec.webhook);
        if (!webhook.ok) faults.push(`${field}: ${webhook.message}`);
        return;
      }
      if (!isKnownAction(action.action)) {
        if (!options.externalActions) {
          faults.push(
            `${field}: unknown action "${action.action}" (Rebound carries out ${[...Object.values(ACTIONS), WEBHOOK_ACTION].join(', ')}; other types need an external executor, --action-sink)`,
          );
        }
        return;
      }
      try {
        if (action.action === ACTIONS.featuretoggle) parseToggleValue(action.value);
        else parseScaleValue(action.value, action.action);
      } catch (err) {
        faults.push(`${field}: ${errorMessage(err)}`);
      }
    });
  });
  const durations: [string, string | undefined][] = [
    ['limits.cooldown', spec.limits?.cooldown],
    ['evaluation.wait', spec.evaluation?.wait],
  ];
  for (const [field, value] of durations) {
    if (value === undefined) continue;
    try {
      parseDuration(value);
    } catch (err) {
      faults.push(`${field}: ${errorMessage(err)}`);
    }
  }
  const { minReplicas, maxReplicas } = spec.limits ?? {};
  if (minReplicas !== undefined && maxReplicas !== undefined && minReplicas > maxReplicas) {
    faults.push(`limits: minReplicas ${minReplicas} is greater than maxReplicas ${maxReplicas}`);
  }
  (spec.webhook?.endpoints ?? []).forEach((endpoint, i) => {
    const resolved = resolveWebhook(endpoint.name, spec.webhook);
    if (!resolved.ok) faults.push(`webhook.endpoints[${i}] (${endpoint.name}): ${resolved.message}`);
  });
  for (const [field, value] of [
    ['values.replicaCountKey', spec.values?.replicaCountKey],
    ['values.minReplicasKey', spec.values?.minReplicasKey],
    ['values.featureFlagsKey', spec.values?.featureFlagsKey],
  ] as const) {
    if (value === undefined) continue;
    try {
      parseKeyPath(value);
    } catch (err) {
      faults.push(`${field}: ${errorMessage(err)}`);
    }
  }
  return faults;
}
