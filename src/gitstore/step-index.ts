// Which Rebound steps a branch's first-parent history holds, remembered between look-ups. Before each
// commit the store asks whether its step (problem uid, attempt) is already on the branch; in an alert
// storm every one of a thousand commits asked, and each walk went back over the whole storm
// (quadratic). The index keeps what a complete walk down to a time found, and later look-ups walk
// only the commits added on top of the head it was built at.
import { stepId } from './trailers.ts';
import type { StepKey } from './trailers.ts';

/** A branch's steps from `head` back through the first commit older than `floor`. */
interface Indexed {
  head: string;
  /** Committer time (seconds) of the oldest commit walked: look-ups for steps since a later time are covered. */
  floor: number;
  steps: Map<string, string>;
}

/** More steps than this and the branch's index is dropped (a walk then rebuilds it). */
const MAX_STEPS = 50_000;

/** One commit of a walk, newest first. */
export interface WalkedCommit {
  oid: string;
  time: number;
  step: string | undefined;
}

export type IndexAnswer =
  /** The step's commit. */
  | { found: string }
  /** Not on the branch since the time asked for. */
  | { absent: true }
  /** The index cannot tell (no index yet, history rewritten, asked further back): walk the history. */
  | { unknown: true };

export class StepIndex {
  readonly #branches = new Map<string, Indexed>();

  /** The branch's indexed head, where a walk from a newer tip may stop. */
  head(branch: string): string | undefined {
    return this.#branches.get(branch)?.head;
  }

  /**
   * Answers from the index, given the commits from `tip` down to (not including) the indexed head,
   * newest first, which it takes in: the index then stands at `tip`.
   */
  lookup(branch: string, tip: string, added: readonly WalkedCommit[], key: StepKey, since: number): IndexAnswer {
    const indexed = this.#branches.get(branch);
    if (indexed === undefined) return { unknown: true };
    for (let i = added.length - 1; i >= 0; i -= 1) {
      const commit = added[i];
      if (commit?.step !== undefined) indexed.steps.set(commit.step, commit.oid);
    }
    indexed.head = tip;
    if (indexed.steps.size > MAX_STEPS) this.#branches.delete(branch);
    const found = indexed.steps.get(stepId(key));
    if (found !== undefined) return { found };
    return indexed.floor < since ? { absent: true } : { unknown: true };
  }

  /** A complete walk from `tip` down to and including the first commit older than `floor`, newest first. */
  record(branch: string, tip: string, walked: readonly WalkedCommit[], floor: number): void {
    const steps = new Map<string, string>();
    // Oldest first, so a step found twice keeps its newest commit, as a walk from the tip would.
    for (let i = walked.length - 1; i >= 0; i -= 1) {
      const commit = walked[i];
      if (commit?.step !== undefined) steps.set(commit.step, commit.oid);
    }
    if (steps.size <= MAX_STEPS) this.#branches.set(branch, { head: tip, floor, steps });
  }
}
