// Applied is not live: between the apply and the evaluation (or the sequence's next task), the
// attempt waits until its workloads have rolled out (rollout-wait.ts judges each look). Each look
// is one read and a requeue-after; a look that sees nothing new writes nothing.
import { REASONS } from '../../../api/index.ts';
import type { AttemptRollout } from '../../../api/index.ts';
import { DEFAULT_ROLLOUT_TIMEOUT_MS, judgeRollout } from '../rollout-wait.ts';
import { failStep } from './finish.ts';
import { failAttempt, live } from './outcome.ts';
import { NEXT } from './types.ts';
import type { StepFor } from './types.ts';

/** Without a poll interval in the settings: look again after this long. */
export const DEFAULT_POLL_MS = 1_000;

export const waitLive: StepFor<'wait-live'> = async (draft, deps, ctx) => {
  const {
    decision: { index },
    stage,
    remediation,
    signal,
  } = ctx;
  const attempt = draft.attempt(index);
  if (!attempt?.rollout || attempt.liveTime) return NEXT;
  const target = { namespace: stage.namespace, service: draft.problem.spec.service };
  const check = deps.rollouts;
  if (!check) {
    // The controller stopped waiting for rollouts (--rollout-timeout=0) while this one ran: live now.
    const now = deps.clock();
    return live(
      draft,
      deps,
      remediation,
      { ...attempt, liveTime: now.toISOString(), rollout: { ...attempt.rollout, state: 'Complete' } },
      now,
      `attempt ${index} live: the controller no longer waits for rollouts`,
      'RolledOut',
      { sequence: stage.sequence },
    );
  }
  let observation;
  try {
    observation = await check.observe(
      { ...target, ...(attempt.rollout.workloads?.length ? { workloads: attempt.rollout.workloads } : {}) },
      signal,
    );
  } catch (err) {
    return failStep(
      draft,
      deps,
      ctx.log,
      err,
      REASONS.WaitingForRollout,
      `attempt ${index}: the rollout could not be read`,
    );
  }
  const now = deps.clock();
  const verdict = judgeRollout(
    observation,
    attempt.rollout,
    target,
    now,
    deps.settings.rolloutTimeoutMs ?? DEFAULT_ROLLOUT_TIMEOUT_MS,
  );
  switch (verdict.kind) {
    case 'live': {
      deps.metrics?.rollout?.(
        'complete',
        (now.getTime() - Date.parse(attempt.appliedTime ?? now.toISOString())) / 1000,
      );
      return live(
        draft,
        deps,
        remediation,
        { ...attempt, liveTime: now.toISOString(), rollout: verdict.rollout },
        now,
        `attempt ${index} live: ${verdict.detail}`,
        'RolledOut',
        { sequence: stage.sequence },
      );
    }
    case 'waiting': {
      const again = { requeueAfterMs: deps.settings.rolloutPollMs ?? DEFAULT_POLL_MS };
      const message = `attempt ${index}: ${verdict.message}`;
      if (sameRollout(attempt.rollout, verdict.rollout) && shows(draft, message)) return again;
      draft.replaceAttempt({ ...attempt, rollout: verdict.rollout });
      draft.markReconciling(REASONS.WaitingForRollout, message);
      await draft.write('Remediating');
      return again;
    }
    case 'failed':
      deps.metrics?.rollout?.(
        verdict.rollout.state === 'TimedOut' ? 'timed_out' : 'failed',
        (now.getTime() - Date.parse(attempt.appliedTime ?? now.toISOString())) / 1000,
      );
      return failAttempt(draft, deps, { ...attempt, rollout: verdict.rollout }, verdict.reason, verdict.message);
  }
};

function sameRollout(a: AttemptRollout, b: AttemptRollout): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function shows(draft: Parameters<typeof failAttempt>[0], message: string): boolean {
  const c = draft.problem.status?.conditions?.find((x) => x.type === 'Reconciling');
  return c?.status === 'True' && c.reason === REASONS.WaitingForRollout && c.message === message;
}
