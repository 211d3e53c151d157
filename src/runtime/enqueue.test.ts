import { describe, expect, it } from 'vitest';
import { enqueueMapped } from './informer.ts';

interface Obj {
  name: string;
  generation: number;
}

const obj = (name: string, generation = 1): Obj => ({ name, generation });

describe('enqueueMapped', () => {
  it('enqueues the mapped keys on add and on every update by default, not on delete', () => {
    const keys: string[] = [];
    const handler = enqueueMapped<Obj>((k) => keys.push(k), { map: (o) => [`${o.name}-a`, `${o.name}-b`] });
    handler.onAdd?.(obj('x'), false);
    handler.onUpdate?.(obj('x'), obj('y'));
    expect('onDelete' in handler).toBe(false);
    expect(keys).toEqual(['x-a', 'x-b', 'y-a', 'y-b']);
  });

  it('lets an update through only when the predicate holds, mapping the new object', () => {
    const keys: string[] = [];
    const handler = enqueueMapped<Obj>((k) => keys.push(k), {
      map: (o) => [o.name],
      update: (a, b) => a.generation !== b.generation,
      delete: true,
    });
    handler.onUpdate?.(obj('same', 1), obj('same', 1));
    handler.onUpdate?.(obj('old', 1), obj('new', 2));
    handler.onDelete?.(obj('gone'));
    expect(keys).toEqual(['new', 'gone']);
  });

  it('leaves adds and updates out when told', () => {
    const handler = enqueueMapped<Obj>(() => undefined, { map: () => [], add: false, update: false });
    expect(handler).toEqual({});
  });
});
