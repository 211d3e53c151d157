import { describe, expect, it } from 'vitest';
import { judgeSync, syncTimeoutMs } from './sync-wait.ts';

const requested = new Date('2026-12-02T10:00:00Z');
const at = (seconds: number): Date => new Date(requested.getTime() + seconds * 1000);

describe('judgeSync', () => {
  it('waits while the engine is pending and in time, then stalls with SyncTimedOut', () => {
    const pending = { kind: 'pending', detail: 'GitRepository x has not fetched the commit yet' } as const;
    expect(judgeSync(pending, requested, at(59), 60_000)).toEqual({
      kind: 'waiting',
      reason: 'WaitingForSync',
      message: pending.detail,
    });
    expect(judgeSync(pending, requested, at(60), 60_000)).toEqual({
      kind: 'stalled',
      reason: 'SyncTimedOut',
      message:
        'the engine has not reported the commit within 60s of the request (is it running?): GitRepository x has not fetched the commit yet',
    });
  });

  it('maps a synced, failed or untracked answer whatever the time', () => {
    expect(judgeSync({ kind: 'synced', revision: 'r', detail: 'd' }, requested, at(3600), 60_000)).toEqual({
      kind: 'synced',
      revision: 'r',
      detail: 'd',
    });
    expect(judgeSync({ kind: 'failed', detail: 'BuildFailed: x' }, requested, at(1), 60_000)).toEqual({
      kind: 'stalled',
      reason: 'SyncFailed',
      message: 'BuildFailed: x',
    });
    expect(judgeSync({ kind: 'untracked', detail: 'gone' }, requested, at(1), 60_000)).toEqual({
      kind: 'stalled',
      reason: 'SyncTargetNotFound',
      message: 'gone',
    });
  });

  it("takes the stage's timeout, 10m by default", () => {
    const stage = { name: 'p', branch: 'p', namespace: 'n', remediation: 'automated', apply: 'flux' } as const;
    expect(syncTimeoutMs(stage)).toBe(600_000);
    expect(syncTimeoutMs({ ...stage, gitops: { timeout: '90s' } })).toBe(90_000);
  });
});
