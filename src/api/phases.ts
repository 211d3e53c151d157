// Which ProblemEvent phases are final: the loop, the action callbacks and the wiring that wakes
// waiting siblings all ask the same question, so it is answered once, beside the phases.
import { TERMINAL_PHASES } from './constants.ts';
import type { Phase } from './constants.ts';

/** Resolved, Reverted, Exhausted or Unhandled: nothing more will happen to the problem. */
export function isTerminal(phase: Phase | undefined): boolean {
  return phase !== undefined && TERMINAL_PHASES.includes(phase);
}

/**
 * Terminal, or Reverting: resolved, with only the undo of its changes left (`revertAfter`). Such a
 * problem holds no turn of its service and waits in no line: a new problem of the service goes ahead.
 */
export function isSettled(phase: Phase | undefined): boolean {
  return isTerminal(phase) || phase === 'Reverting';
}
