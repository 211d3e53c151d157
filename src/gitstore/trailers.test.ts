import { describe, expect, it } from 'vitest';
import { formatCommitMessage, parseReboundTrailers, parseTrailerBlock, stepId, trailersStepId } from './trailers.ts';

const matchesStep = (parsed: ReturnType<typeof parseReboundTrailers>, key: Parameters<typeof stepId>[0]): boolean =>
  trailersStepId(parsed) === stepId(key);

const trailers = {
  problem: { namespace: 'sockshop', name: 'carts-high-latency', uid: '3f1c2a9e-77d1-4c1e-9a41-0f5e2b8c1d2a' },
  attempt: 2,
  action: { action: 'scale', value: '+1' },
};

describe('commit message trailers', () => {
  it('formats the docs/design.md message', () => {
    expect(formatCommitMessage('rebound: scale carts in production to 2 replicas', trailers)).toBe(
      'rebound: scale carts in production to 2 replicas\n\n' +
        'Rebound-Problem: sockshop/carts-high-latency 3f1c2a9e-77d1-4c1e-9a41-0f5e2b8c1d2a\n' +
        'Rebound-Attempt: 2\n' +
        'Rebound-Action: scale +1\n',
    );
  });

  it('names each commit a revert sets back in a Rebound-Reverts trailer of its own', () => {
    const message = formatCommitMessage('rebound: revert replicaCount 2 → 1 for carts in production', {
      ...trailers,
      attempt: 3,
      action: { action: 'scale', value: '1' },
      notes: { reverts: ['a'.repeat(40), 'b'.repeat(40)] },
    });
    expect(parseTrailerBlock(message).get('Rebound-Reverts')).toEqual(['a'.repeat(40), 'b'.repeat(40)]);
    expect(parseReboundTrailers(message)?.attempt).toBe(3);
  });

  it('parses back what it formats, with or without a body', () => {
    expect(parseReboundTrailers(formatCommitMessage('subject', trailers))).toEqual(trailers);
    expect(parseReboundTrailers(formatCommitMessage('subject', trailers, 'why:\nthe p95 was 900 ms'))).toEqual(
      trailers,
    );
  });

  it('keeps a multi-line subject or odd values from breaking the trailer block', () => {
    const message = formatCommitMessage('line one\nline two', {
      ...trailers,
      action: { action: 'featuretoggle', value: 'EnablePromotion:off\nRebound-Attempt: 9' },
    });
    expect(message.split('\n')[0]).toBe('line one line two');
    expect(parseReboundTrailers(message)?.attempt).toBe(2);
  });

  it('ignores commits that are not Rebound steps', () => {
    expect(parseReboundTrailers('fix typo\n')).toBeUndefined();
    expect(parseReboundTrailers('subject\n\nRebound-Problem: broken\nRebound-Attempt: 1\n')).toBeUndefined();
    expect(parseReboundTrailers('subject\n\nRebound-Problem: ns/name uid\nRebound-Attempt: one\n')).toBeUndefined();
    // Trailers only count in the last paragraph.
    expect(
      parseReboundTrailers('subject\n\nRebound-Problem: ns/n u\nRebound-Attempt: 1\n\nmore text\n'),
    ).toBeUndefined();
  });

  it('reads other trailers (Signed-off-by) next to ours, and CRLF messages', () => {
    const block = parseTrailerBlock('subject\r\n\r\nSigned-off-by: A <a@b>\r\nRebound-Attempt: 3\r\n');
    expect(block.get('Signed-off-by')).toEqual(['A <a@b>']);
    expect(block.get('Rebound-Attempt')).toEqual(['3']);
  });

  it('matches a step by problem uid and attempt only', () => {
    const parsed = parseReboundTrailers(formatCommitMessage('s', trailers));
    expect(matchesStep(parsed, { uid: trailers.problem.uid, attempt: 2 })).toBe(true);
    expect(matchesStep(parsed, { uid: trailers.problem.uid, attempt: 1 })).toBe(false);
    expect(matchesStep(parsed, { uid: 'other', attempt: 2 })).toBe(false);
  });

  it("a re-assert (a hold) is its own step, one per person's commit it answers", () => {
    const sha = 'a'.repeat(40);
    const message = formatCommitMessage('s', { ...trailers, notes: { reasserts: sha } });
    expect(message).toContain(`Rebound-Reasserts: ${sha}`);
    const parsed = parseReboundTrailers(message);
    expect(parsed?.notes?.reasserts).toBe(sha);
    expect(matchesStep(parsed, { uid: trailers.problem.uid, attempt: 2 })).toBe(false);
    expect(matchesStep(parsed, { uid: trailers.problem.uid, attempt: 2, reasserts: sha })).toBe(true);
    expect(
      matchesStep(parseReboundTrailers(formatCommitMessage('s', trailers)), {
        uid: trailers.problem.uid,
        attempt: 2,
        reasserts: sha,
      }),
    ).toBe(false);
  });
});
