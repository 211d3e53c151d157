// A secondary index over an informer cache, kept up to date by the informer's own handlers: the
// objects grouped by a key (e.g. project/stage/service), so the loop's per-reconcile lookups cost
// O(group) instead of a scan of the whole cache.
import type { EventHandler } from '../runtime/informer.ts';

interface Named {
  metadata: { namespace?: string; name?: string };
}

export class CacheIndex<T extends Named> {
  private readonly groupOf: (obj: T) => string;
  private readonly groups = new Map<string, Map<string, T>>();
  private readonly membership = new Map<string, string>();

  constructor(groupOf: (obj: T) => string) {
    this.groupOf = groupOf;
  }

  /** Register before any handler that reads the index. */
  handler(): EventHandler<T> {
    return {
      onAdd: (obj) => this.put(obj),
      onUpdate: (_old, obj) => this.put(obj),
      onDelete: (obj) => this.remove(objectKey(obj)),
    };
  }

  /** Objects in the same group as a (possibly unindexed) probe. */
  get(group: string): T[] {
    const members = this.groups.get(group);
    return members ? [...members.values()] : [];
  }

  key(obj: T): string {
    return this.groupOf(obj);
  }

  private put(obj: T): void {
    const key = objectKey(obj);
    const group = this.groupOf(obj);
    const previous = this.membership.get(key);
    if (previous !== undefined && previous !== group) this.remove(key);
    let members = this.groups.get(group);
    if (!members) {
      members = new Map();
      this.groups.set(group, members);
    }
    members.set(key, obj);
    this.membership.set(key, group);
  }

  private remove(key: string): void {
    const group = this.membership.get(key);
    if (group === undefined) return;
    this.membership.delete(key);
    const members = this.groups.get(group);
    members?.delete(key);
    if (members?.size === 0) this.groups.delete(group);
  }
}

function objectKey(obj: Named): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}
