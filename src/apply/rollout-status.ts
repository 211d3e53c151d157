// "Has the rollout finished?", decided the way `kubectl rollout status` decides it (kubectl's
// polymorphichelpers/rollout_status.go, and kstatus's Current): pure functions of a Deployment's or a
// StatefulSet's stored object, so they are unit-tested without a cluster. The reader (rollout.ts)
// fetches the objects; the loop (controllers/problemevent/steps/live.ts) judges time and outcome.

/** The parts of a Deployment or StatefulSet the decision reads (client-node's V1Deployment fits). */
export interface WorkloadObject {
  kind: 'Deployment' | 'StatefulSet';
  metadata?: { name?: string; generation?: number };
  spec?: {
    replicas?: number;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    conditions?: readonly { type?: string; status?: string; reason?: string; message?: string }[];
  };
}

export interface RolloutFigures {
  observedGeneration: number;
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
}

export type WorkloadRollout =
  /** Every wanted replica runs the new template and is available. */
  | { kind: 'complete'; figures: RolloutFigures }
  /** Under way: what it waits for, in kubectl's words. */
  | { kind: 'progressing'; reason: string; message: string; figures: RolloutFigures }
  /** It will not finish by itself: the Deployment's progress deadline passed. */
  | { kind: 'failed'; reason: string; message: string; figures: RolloutFigures };

export function workloadKey(w: Pick<WorkloadObject, 'kind' | 'metadata'>): string {
  return `${w.kind}/${w.metadata?.name ?? ''}`;
}

function figuresOf(w: WorkloadObject): RolloutFigures {
  const s = w.status ?? {};
  return {
    observedGeneration: s.observedGeneration ?? 0,
    replicas: s.replicas ?? 0,
    updatedReplicas: s.updatedReplicas ?? 0,
    readyReplicas: s.readyReplicas ?? 0,
    availableReplicas: s.availableReplicas ?? 0,
  };
}

/** One workload's rollout, from its stored object alone. */
export function workloadRollout(w: WorkloadObject): WorkloadRollout {
  const figures = figuresOf(w);
  const key = workloadKey(w);
  const waiting = (reason: string, message: string): WorkloadRollout => ({
    kind: 'progressing',
    reason,
    message: `${key}: ${message}`,
    figures,
  });
  const generation = w.metadata?.generation ?? 0;
  if (w.status?.observedGeneration === undefined || generation > figures.observedGeneration)
    return waiting('ObservedGeneration', 'waiting for the controller to observe the new spec');
  const wanted = w.spec?.replicas ?? 1;
  if (w.kind === 'Deployment') {
    const progressing = w.status?.conditions?.find((c) => c.type === 'Progressing');
    if (progressing?.reason === 'ProgressDeadlineExceeded') {
      return {
        kind: 'failed',
        reason: 'ProgressDeadlineExceeded',
        message: `${key}: ${progressing.message ?? 'the rollout exceeded its progress deadline'}`,
        figures,
      };
    }
    if (figures.updatedReplicas < wanted)
      return waiting('UpdatedReplicas', `${figures.updatedReplicas} of ${wanted} new replicas have been updated`);
    if (figures.replicas > figures.updatedReplicas)
      return waiting(
        'OldReplicas',
        `${figures.replicas - figures.updatedReplicas} old replicas are pending termination`,
      );
    if (figures.availableReplicas < figures.updatedReplicas)
      return waiting(
        'AvailableReplicas',
        `${figures.availableReplicas} of ${figures.updatedReplicas} updated replicas are available`,
      );
    return { kind: 'complete', figures };
  }
  // StatefulSet: OnDelete has no rollout to wait for; RollingUpdate honours its partition.
  if (w.spec?.updateStrategy?.type === 'OnDelete') return { kind: 'complete', figures };
  if (figures.readyReplicas < wanted)
    return waiting('ReadyReplicas', `${figures.readyReplicas} of ${wanted} pods are ready`);
  const partition = w.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  if (partition > 0) {
    if (figures.updatedReplicas < wanted - partition)
      return waiting(
        'UpdatedReplicas',
        `${figures.updatedReplicas} of ${wanted - partition} pods updated (partition ${partition})`,
      );
    return { kind: 'complete', figures };
  }
  if (w.status?.updateRevision !== w.status?.currentRevision)
    return waiting(
      'UpdateRevision',
      `${figures.updatedReplicas} of ${wanted} pods run the new revision ${w.status?.updateRevision ?? ''}`,
    );
  return { kind: 'complete', figures };
}

/** The parts of a HorizontalPodAutoscaler the decision reads (autoscaling/v2). */
export interface AutoscalerObject {
  metadata?: { name?: string };
  spec?: { scaleTargetRef?: { kind?: string; name?: string }; minReplicas?: number; maxReplicas?: number };
}

/**
 * A workload an HPA owns has rolled out only once the HPA has brought its replica count within the
 * HPA's bounds: a raised minimum changes the HPA, not the Deployment, and the HPA scales it a moment
 * later. Applied after workloadRollout said complete.
 */
export function withAutoscalers(
  w: WorkloadObject,
  rollout: WorkloadRollout,
  autoscalers: readonly AutoscalerObject[],
): WorkloadRollout {
  if (rollout.kind !== 'complete') return rollout;
  const hpa = autoscalers.find(
    (a) => a.spec?.scaleTargetRef?.kind === w.kind && a.spec.scaleTargetRef.name === w.metadata?.name,
  );
  if (!hpa?.spec) return rollout;
  const replicas = w.spec?.replicas ?? 1;
  const min = hpa.spec.minReplicas ?? 1;
  const max = hpa.spec.maxReplicas ?? Number.MAX_SAFE_INTEGER;
  const bound = replicas < min ? `minimum ${min}` : replicas > max ? `maximum ${max}` : undefined;
  if (!bound) return rollout;
  return {
    kind: 'progressing',
    reason: 'Autoscaler',
    message: `${workloadKey(w)}: ${replicas} replicas, waiting for HorizontalPodAutoscaler/${hpa.metadata?.name ?? ''} to scale it to its ${bound}`,
    figures: rollout.figures,
  };
}

/** Several workloads as one: complete when all are; the first failed or waiting one says why. */
export function combinedRollout(rollouts: readonly WorkloadRollout[]): WorkloadRollout {
  const figures = rollouts.reduce<RolloutFigures>(
    (sum, r) => ({
      observedGeneration:
        sum.observedGeneration === -1
          ? r.figures.observedGeneration
          : Math.min(sum.observedGeneration, r.figures.observedGeneration),
      replicas: sum.replicas + r.figures.replicas,
      updatedReplicas: sum.updatedReplicas + r.figures.updatedReplicas,
      readyReplicas: sum.readyReplicas + r.figures.readyReplicas,
      availableReplicas: sum.availableReplicas + r.figures.availableReplicas,
    }),
    { observedGeneration: -1, replicas: 0, updatedReplicas: 0, readyReplicas: 0, availableReplicas: 0 },
  );
  if (figures.observedGeneration < 0) figures.observedGeneration = 0;
  const failed = rollouts.find((r) => r.kind === 'failed');
  if (failed) return { ...failed, figures };
  const waiting = rollouts.find((r) => r.kind === 'progressing');
  if (waiting) return { ...waiting, figures };
  return { kind: 'complete', figures };
}
