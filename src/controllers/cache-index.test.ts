import { describe, expect, it } from 'vitest';
import { CacheIndex } from './cache-index.ts';

interface Obj {
  metadata: { namespace: string; name: string };
  group: string;
}
const obj = (name: string, group: string): Obj => ({ metadata: { namespace: 'ns', name }, group });

describe('CacheIndex', () => {
  it('groups objects, moves them when their group changes, and forgets deleted ones', () => {
    const index = new CacheIndex<Obj>((o) => o.group);
    const h = index.handler();
    h.onAdd?.(obj('a', 'x'), false);
    h.onAdd?.(obj('b', 'x'), false);
    h.onAdd?.(obj('c', 'y'), false);
    expect(
      index
        .get('x')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['a', 'b']);
    h.onUpdate?.(obj('b', 'x'), obj('b', 'y'));
    expect(index.get('x').map((o) => o.metadata.name)).toEqual(['a']);
    expect(
      index
        .get('y')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['b', 'c']);
    h.onDelete?.(obj('a', 'x'));
    expect(index.get('x')).toEqual([]);
    h.onUpdate?.(obj('c', 'y'), { ...obj('c', 'y'), group: 'y' });
    expect(index.get('y')).toHaveLength(2);
  });
});
