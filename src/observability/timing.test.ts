import { describe, expect, it } from 'vitest';
import { timed } from './timing.ts';

describe('timed', () => {
  it('reports success with the seconds taken and returns the value', async () => {
    const seen: [string, number][] = [];
    const value = await timed(
      (result, seconds) => void seen.push([result, seconds]),
      () => new Promise<number>((r) => setTimeout(() => r(7), 20)),
    );
    expect(value).toBe(7);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.[0]).toBe('success');
    expect(seen[0]?.[1]).toBeGreaterThanOrEqual(0.015);
  });

  it('reports an error and passes it on; works without an observer', async () => {
    const seen: string[] = [];
    const boom = new Error('boom');
    await expect(
      timed(
        (result) => void seen.push(result),
        () => Promise.reject(boom),
      ),
    ).rejects.toBe(boom);
    expect(seen).toEqual(['error']);
    await expect(timed(undefined, () => Promise.resolve('ok'))).resolves.toBe('ok');
  });
});
