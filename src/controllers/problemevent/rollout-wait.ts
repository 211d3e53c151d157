// "Applied" means live: after helm, kubernetes or Flux applied an attempt, the loop waits until the
// service's workloads have rolled out (apply/rollout-status.ts decides it as `kubectl rollout status`
// does) before the evaluation's clock starts. Each look is one read and a requeue-after: waiting never
// holds a worker. A rollout that fails (the Deployment's progress deadline passed, a workload deleted
// mid-rollout) or does not finish within --rollout-timeout fails the attempt, and the loop escalates:
// the change did not take effect, so there is nothing to evaluate, and the next action (a restart, a
// rollback, a person) is what the policy says comes next. Pure: the step (steps/live.ts) does the I/O.
import { REASONS } from '../../api/index.ts';
import type { AttemptRollout, Reason } from '../../api/index.ts';
import type { RolloutObservation } from '../../apply/types.ts';

/** From the apply until the rollout must have finished, unless --rollout-timeout says otherwise. */
export const DEFAULT_ROLLOUT_TIMEOUT_MS = 10 * 60_000;

export type RolloutVerdict =
  /** Rolled out (or nothing to roll out): the change is live now. */
  | { kind: 'live'; rollout: AttemptRollout; detail: string }
  /** Still rolling out, in time. */
  | { kind: 'waiting'; rollout: AttemptRollout; message: string }
  /** It will not be live: the attempt fails with this reason. */
  | { kind: 'failed'; rollout: AttemptRollout; reason: Reason; message: string };

/** What one look at the workloads means, given when the wait started. */
export function judgeRollout(
  observation: RolloutObservation,
  previous: AttemptRollout,
  target: { namespace: string; service: string },
  now: Date,
  timeoutMs: number,
): RolloutVerdict {
  const started = new Date(previous.startedTime ?? now.toISOString());
  const tookS = formatSeconds(now.getTime() - started.getTime());
  switch (observation.kind) {
    case 'none':
      return {
        kind: 'live',
        rollout: { ...previous, state: 'Complete', workloads: [] },
        detail: `no Deployment or StatefulSet of ${target.service} in ${target.namespace} to wait for`,
      };
    case 'missing': {
      const message = `${observation.gone.join(', ')} in ${target.namespace} was deleted during the rollout`;
      return {
        kind: 'failed',
        rollout: {
          ...previous,
          state: 'Failed',
          workloads: observation.workloads,
          reason: REASONS.WorkloadNotFound,
          message,
        },
        reason: REASONS.WorkloadNotFound,
        message,
      };
    }
    case 'observed': {
      const { rollout, workloads } = observation;
      const figures = { workloads, ...rollout.figures };
      const ready = `${rollout.figures.readyReplicas}/${rollout.figures.replicas} ready`;
      if (rollout.kind === 'complete') {
        const { reason: _r, message: _m, ...rest } = previous;
        return {
          kind: 'live',
          rollout: { ...rest, ...figures, state: 'Complete' },
          detail: `${workloads.join(', ')} rolled out in ${tookS} (${ready})`,
        };
      }
      if (rollout.kind === 'failed') {
        return {
          kind: 'failed',
          rollout: { ...previous, ...figures, state: 'Failed', reason: rollout.reason, message: rollout.message },
          reason: REASONS.RolloutFailed,
          message: `the rollout failed: ${rollout.message}`,
        };
      }
      if (now.getTime() - started.getTime() >= timeoutMs) {
        const message = `the rollout did not finish within ${formatSeconds(timeoutMs)} (--rollout-timeout): ${rollout.message}`;
        return {
          kind: 'failed',
          rollout: { ...previous, ...figures, state: 'TimedOut', reason: rollout.reason, message: rollout.message },
          reason: REASONS.RolloutTimedOut,
          message,
        };
      }
      return {
        kind: 'waiting',
        rollout: { ...previous, ...figures, state: 'Progressing', reason: rollout.reason, message: rollout.message },
        // No running count of seconds: the status stays the same between looks that saw nothing new.
        message: `waiting for the rollout: ${rollout.message}`,
      };
    }
  }
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return s < 10 ? `${s.toFixed(1)}s` : `${Math.round(s)}s`;
}
