import { describe, expect, it } from 'vitest';
import {
  compareTreeEntries,
  TreeEntryFinder,
  findTreeEntry,
  makeObject,
  hashObject,
  parseCommit,
  parseTree,
  serializeCommit,
  serializeTree,
  withEntryOid,
} from './objects.ts';

describe('git objects', () => {
  it('hashes like git hash-object', () => {
    // `printf 'hello\n' | git hash-object --stdin`
    expect(hashObject('blob', Buffer.from('hello\n'))).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
    // The empty tree every Git knows.
    expect(hashObject('tree', Buffer.alloc(0))).toBe('4b825dc642cb6eb9a060e54bf8d69288fbee4904');
  });

  it('orders tree entries as Git does (directories compare with a trailing slash)', () => {
    const oid = 'ce013625030ba8dba906f756967f9e9ca394464a';
    const entries = [
      { mode: '100644', name: 'a.yaml', oid },
      { mode: '40000', name: 'a', oid },
      { mode: '100644', name: 'a-b', oid },
    ];
    expect([...entries].sort(compareTreeEntries).map((e) => e.name)).toEqual(['a-b', 'a.yaml', 'a']);
    expect(parseTree(serializeTree(entries)).map((e) => e.name)).toEqual(['a-b', 'a.yaml', 'a']);
    expect(parseTree(serializeTree(entries))[2]).toEqual({ mode: '40000', name: 'a', oid });
  });

  it('round-trips a commit and keeps the message byte for byte', () => {
    const who = { name: 'Rebound', email: 'rebound@example.invalid', timestamp: 1_767_225_600 };
    const content = serializeCommit({
      tree: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
      parents: ['ce013625030ba8dba906f756967f9e9ca394464a'],
      author: who,
      committer: { ...who, name: 'Evil <x>\nname' },
      message: 'subject\n\nRebound-Attempt: 1',
    });
    expect(content.toString()).toContain('committer Evil xname <rebound@example.invalid> 1767225600 +0000\n');
    const parsed = parseCommit(content);
    expect(parsed).toEqual({
      tree: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
      parents: ['ce013625030ba8dba906f756967f9e9ca394464a'],
      time: 1_767_225_600,
      author: 'Rebound <rebound@example.invalid>',
      message: 'subject\n\nRebound-Attempt: 1\n',
    });
  });

  it('finds and repoints one entry of a raw tree, leaving the rest byte for byte', () => {
    const a = 'ce013625030ba8dba906f756967f9e9ca394464a';
    const b = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
    const entries = [
      { mode: '40000', name: 'carts', oid: a },
      { mode: '100644', name: 'cart', oid: a },
      { mode: '100644', name: 'shipyard.yaml', oid: a },
    ];
    const tree = serializeTree(entries);
    expect(findTreeEntry(tree, 'car')).toBeUndefined();
    const carts = findTreeEntry(tree, 'carts');
    expect(carts).toMatchObject({ mode: '40000', oid: a });
    const changed = withEntryOid(tree, carts?.oidOffset ?? -1, b);
    expect(changed.equals(serializeTree(entries.map((e) => (e.name === 'carts' ? { ...e, oid: b } : e))))).toBe(true);
    expect(findTreeEntry(changed, 'cart')?.oid).toBe(a);
  });

  it('finds entries of a large tree through its index, and of the tree rewritten from it', () => {
    const a = 'ce013625030ba8dba906f756967f9e9ca394464a';
    const b = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
    const names = Array.from({ length: 300 }, (_, i) => `svc-${String(i).padStart(4, '0')}`);
    const entries = [
      ...names.map((name) => ({ mode: '40000', name, oid: a })),
      { mode: '100644', name: 'é.yaml', oid: b },
    ];
    const tree = makeObject('tree', serializeTree(entries));
    const finder = new TreeEntryFinder(2);
    for (const name of ['svc-0000', 'svc-0299', 'é.yaml', 'svc-03', 'nope'])
      expect(finder.find(tree, name), name).toEqual(findTreeEntry(tree.content, name));
    const at = finder.find(tree, 'svc-0150');
    const rewritten = makeObject('tree', withEntryOid(tree.content, at?.oidOffset ?? -1, b));
    finder.inherit(tree.oid, rewritten.oid);
    expect(finder.find(rewritten, 'svc-0150')?.oid).toBe(b);
    expect(finder.find(rewritten, 'svc-0149')?.oid).toBe(a);
    // Bounded: older indexes go, and a tree no longer indexed is indexed again from its content.
    finder.find(makeObject('tree', serializeTree(entries.slice(1))), 'svc-0001');
    finder.find(makeObject('tree', serializeTree(entries.slice(2))), 'svc-0002');
    expect(finder.find(rewritten, 'svc-0150')?.oid).toBe(b);
  });

  it('refuses a truncated tree, whether parsed, searched or indexed', () => {
    const a = 'ce013625030ba8dba906f756967f9e9ca394464a';
    const names = Array.from({ length: 100 }, (_, i) => `svc-${String(i).padStart(4, '0')}`);
    const whole = serializeTree(names.map((name) => ({ mode: '40000', name, oid: a })));
    // Cut inside the last entry's id: every reader must notice, not return a short id.
    const cut = whole.subarray(0, whole.length - 5);
    expect(() => parseTree(cut)).toThrow('malformed tree object');
    expect(() => findTreeEntry(cut, 'svc-9999')).toThrow('malformed tree object');
    expect(() => new TreeEntryFinder().find(makeObject('tree', cut), 'svc-0000')).toThrow('malformed tree object');
    expect(() => parseTree(Buffer.from('100644 no-nul-here'))).toThrow('malformed tree object');
  });
});
