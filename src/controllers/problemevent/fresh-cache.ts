// Reads that see our own writes. The informer learns of a status write only when the watch event
// arrives; a reconcile that runs before that would decide on the old status and repeat a step
// (apply twice, evaluate twice). So each object the API server returned from our write is kept
// until the informer delivers that same resourceVersion (watch events arrive in order, so anything
// the informer holds before then is older), or until `ttlMs` passes (a relist can skip the exact
// version). Status writes are also conditional on the resourceVersion read, so a stale read that
// slips through ends in a 409 and a fresh reconcile, never in an overwritten status.
import type { ProblemEvent } from '../../api/index.ts';
import type { EventHandler } from '../../runtime/informer.ts';
import { keyOf } from '../keys.ts';

interface Written {
  object: ProblemEvent;
  at: number;
}

export class FreshReads {
  private readonly written = new Map<string, Written>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: { ttlMs?: number; now?: () => number } = {}) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** The informer's handlers, which tell when the cache has caught up with a write. */
  handler(): EventHandler<ProblemEvent> {
    return {
      onAdd: (p) => this.observed(keyOf(p), p),
      onUpdate: (_before, p) => this.observed(keyOf(p), p),
      onDelete: (p) => this.observed(keyOf(p), undefined),
    };
  }

  /** Called with what the API server returned from our write. */
  remember(key: string, object: ProblemEvent): void {
    this.written.set(key, { object, at: this.now() });
  }

  /** Called from the informer's handlers: the cache has caught up once it holds our version. */
  observed(key: string, object: ProblemEvent | undefined): void {
    const mine = this.written.get(key);
    if (!mine) return;
    if (object === undefined || object.metadata.resourceVersion === mine.object.metadata.resourceVersion)
      this.written.delete(key);
  }

  /** The freshest view of `key`: our own last write until the cache has it, else the cache's. */
  read(key: string, cached: ProblemEvent | undefined): ProblemEvent | undefined {
    const mine = this.written.get(key);
    if (!mine) return cached;
    if (cached === undefined) {
      // Deleted (the informer said so through `observed`), or not listed yet: trust the cache.
      this.written.delete(key);
      return undefined;
    }
    if (cached.metadata.resourceVersion === mine.object.metadata.resourceVersion || this.now() - mine.at > this.ttlMs) {
      this.written.delete(key);
      return cached;
    }
    return mine.object;
  }
}
