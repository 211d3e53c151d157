// Reads the rollout of the service's workloads: its Deployments and StatefulSets in the stage's
// namespace, found by name (the service), by Helm's release annotation or by the chart's
// `app.kubernetes.io/instance` label, and the HorizontalPodAutoscalers that own them. Three list
// calls per look; rollout-status.ts decides.
import { AppsV1Api, AutoscalingV2Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { SharedConnection } from '../kube/connection.ts';
import { classifyKubeError } from '../kube/errors.ts';
import { combinedRollout, withAutoscalers, workloadKey, workloadRollout } from './rollout-status.ts';
import type { AutoscalerObject, WorkloadObject } from './rollout-status.ts';
import type { RolloutCheck, RolloutObservation, RolloutTarget } from './types.ts';

const MAX_WORKLOADS = 16;

interface Listed {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

/** Is this workload the service's? Its name, its Helm release, or its chart instance label says so. */
export function belongsTo(object: Listed, service: string): boolean {
  const m = object.metadata ?? {};
  return (
    m.name === service ||
    m.annotations?.['meta.helm.sh/release-name'] === service ||
    m.labels?.['app.kubernetes.io/instance'] === service
  );
}

export class KubeRolloutCheck implements RolloutCheck {
  private readonly apps: AppsV1Api;
  private readonly autoscaling: AutoscalingV2Api;
  private readonly connection: SharedConnection;

  constructor(kubeConfig: KubeConfig) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.autoscaling = kubeConfig.makeApiClient(AutoscalingV2Api);
    this.connection = new SharedConnection(kubeConfig);
  }

  async observe(target: RolloutTarget): Promise<RolloutObservation> {
    const { namespace } = target;
    let listed: WorkloadObject[];
    let autoscalers: AutoscalerObject[];
    try {
      const options = await this.connection.options();
      const [deployments, statefulSets, hpas] = await Promise.all([
        this.apps.listNamespacedDeployment({ namespace }, options),
        this.apps.listNamespacedStatefulSet({ namespace }, options),
        // Without the RBAC rule for HPAs (an older install), the rollout is judged without them.
        this.autoscaling
          .listNamespacedHorizontalPodAutoscaler({ namespace }, options)
          .catch(() => ({ items: [] as AutoscalerObject[] })),
      ]);
      autoscalers = hpas.items as AutoscalerObject[];
      listed = [
        ...deployments.items.map((d) => ({ ...(d as Omit<WorkloadObject, 'kind'>), kind: 'Deployment' as const })),
        ...statefulSets.items.map((s) => ({ ...(s as Omit<WorkloadObject, 'kind'>), kind: 'StatefulSet' as const })),
      ];
    } catch (err) {
      throw classifyKubeError(err, `list the workloads of ${target.service} in ${namespace}`);
    }
    return judgeListed(target, listed, autoscalers);
  }
}

/** Which listed workloads are the target's, and how far their rollout is. Pure. */
export function judgeListed(
  target: RolloutTarget,
  listed: readonly WorkloadObject[],
  autoscalers: readonly AutoscalerObject[] = [],
): RolloutObservation {
  const byKey = new Map(listed.map((w) => [workloadKey(w), w]));
  const wanted =
    target.workloads ??
    listed
      .filter((w) => belongsTo(w as Listed, target.service))
      .map(workloadKey)
      .sort()
      .slice(0, MAX_WORKLOADS);
  if (wanted.length === 0) return { kind: 'none' };
  const gone = wanted.filter((k) => !byKey.has(k));
  if (gone.length > 0) return { kind: 'missing', workloads: [...wanted], gone };
  const rollout = combinedRollout(
    wanted.map((k) => {
      const w = byKey.get(k) as WorkloadObject;
      return withAutoscalers(w, workloadRollout(w), autoscalers);
    }),
  );
  return { kind: 'observed', workloads: [...wanted], rollout };
}
