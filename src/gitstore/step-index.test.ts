import { describe, expect, it } from 'vitest';
import { StepIndex } from './step-index.ts';
import { stepId } from './trailers.ts';
import type { WalkedCommit } from './step-index.ts';

const step = (uid: string, attempt = 1): string => stepId({ uid, attempt });
const commit = (oid: string, time: number, uid?: string): WalkedCommit => ({
  oid,
  time,
  step: uid === undefined ? undefined : step(uid),
});

describe('StepIndex', () => {
  it('cannot tell before a complete walk was recorded', () => {
    const index = new StepIndex();
    expect(index.head('main')).toBeUndefined();
    expect(index.lookup('main', 'c1', [], { uid: 'a', attempt: 1 }, 100)).toEqual({ unknown: true });
  });

  it('answers from the recorded walk and the commits added on top of it', () => {
    const index = new StepIndex();
    // c3 (a) → c2 (person) → c1, older than the time asked for: the walk stopped there.
    index.record('main', 'c3', [commit('c3', 300, 'a'), commit('c2', 200), commit('c1', 50)], 50);
    expect(index.head('main')).toBe('c3');
    const added = [commit('c5', 500, 'c'), commit('c4', 400, 'b')];
    expect(index.lookup('main', 'c5', added, { uid: 'a', attempt: 1 }, 100)).toEqual({ found: 'c3' });
    expect(index.head('main')).toBe('c5');
    expect(index.lookup('main', 'c5', [], { uid: 'b', attempt: 1 }, 100)).toEqual({ found: 'c4' });
    // Another attempt of a problem found is another step.
    expect(index.lookup('main', 'c5', [], { uid: 'a', attempt: 2 }, 100)).toEqual({ absent: true });
    expect(index.lookup('main', 'c5', [], { uid: 'a', attempt: 1, reasserts: 'c2' }, 100)).toEqual({ absent: true });
  });

  it('sends a look-up further back than the recorded walk to the history', () => {
    const index = new StepIndex();
    index.record('main', 'c2', [commit('c2', 300), commit('c1', 150)], 150);
    expect(index.lookup('main', 'c2', [], { uid: 'x', attempt: 1 }, 151)).toEqual({ absent: true });
    expect(index.lookup('main', 'c2', [], { uid: 'x', attempt: 1 }, 150)).toEqual({ unknown: true });
    expect(index.lookup('main', 'c2', [], { uid: 'x', attempt: 1 }, 10)).toEqual({ unknown: true });
  });

  it('keeps the newest commit of a step found twice, and keeps branches apart', () => {
    const index = new StepIndex();
    index.record('main', 'c3', [commit('c3', 300, 'a'), commit('c2', 200, 'a'), commit('c1', 50)], 50);
    expect(index.lookup('main', 'c3', [], { uid: 'a', attempt: 1 }, 100)).toEqual({ found: 'c3' });
    index.lookup('main', 'c5', [commit('c5', 500, 'b'), commit('c4', 400, 'b')], { uid: 'z', attempt: 1 }, 100);
    expect(index.lookup('main', 'c5', [], { uid: 'b', attempt: 1 }, 100)).toEqual({ found: 'c5' });
    expect(index.lookup('qa', 'c5', [], { uid: 'b', attempt: 1 }, 100)).toEqual({ unknown: true });
  });
});
