// Actions that call someone else's endpoint run here, off the reconcile worker: a runbook that hangs
// holds one promise, not a worker, so other services' remediations go on. The loop polls by action
// id; when an action settles, its problem is enqueued. The outcome is kept until the loop has written
// it to the status (`acknowledge`), so a failed status write never loses it.
//
// Nothing here survives a restart, by design: a status that says `Running` with no entry here is
// started again (at least once; receivers get the action id as Idempotency-Key to de-duplicate).
import type { ActionOutcome, BackgroundRunner, BackgroundState } from './types.ts';

interface Entry {
  key: string;
  state: BackgroundState;
  abort: AbortController;
}

export class BackgroundActions implements BackgroundRunner {
  private readonly entries = new Map<string, Entry>();
  private readonly onSettled: (key: string) => void;
  private closed = false;

  /** `onSettled` receives the problem's queue key when its action has an outcome. */
  constructor(onSettled: (key: string) => void) {
    this.onSettled = onSettled;
  }

  state(actionId: string): BackgroundState {
    return this.entries.get(actionId)?.state ?? { kind: 'none' };
  }

  /** Starts `run` unless it is already running or settled for this id. */
  start(actionId: string, key: string, run: (signal: AbortSignal) => Promise<ActionOutcome>): void {
    if (this.closed || this.entries.has(actionId)) return;
    const entry: Entry = { key, state: { kind: 'running' }, abort: new AbortController() };
    this.entries.set(actionId, entry);
    const settle = (state: BackgroundState): void => {
      if (this.entries.get(actionId) !== entry) return;
      entry.state = state;
      this.onSettled(key);
    };
    // Deferred one turn, so a run that settles at once still finds its entry in place.
    queueMicrotask(() => {
      run(entry.abort.signal).then(
        (outcome) => settle({ kind: 'settled', outcome }),
        (error: unknown) => settle({ kind: 'errored', error }),
      );
    });
  }

  /** The loop has recorded the outcome, or no longer needs it (a callback came first): forget it. */
  acknowledge(actionId: string): void {
    this.entries.get(actionId)?.abort.abort(new Error('the action no longer needs to run'));
    this.entries.delete(actionId);
  }

  /**
   * The problem is over (resolved by its source, suspended into a final phase) or gone: stop what
   * still runs for it and forget it, so nothing is kept for a problem that will never ask again.
   */
  cancel(key: string): void {
    for (const [id, entry] of this.entries) {
      if (entry.key !== key) continue;
      entry.abort.abort(new Error('the problem no longer needs this action'));
      this.entries.delete(id);
    }
  }

  /** Actions still running (for metrics and tests). */
  running(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.state.kind === 'running') n++;
    return n;
  }

  /** Shutdown: abort what runs; their status says Running, so the next leader starts them again. */
  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) e.abort.abort(new Error('controller stopping'));
    this.entries.clear();
  }
}
