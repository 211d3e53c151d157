// The store's cache of recently used objects, least recently used first out, bounded by count and by
// bytes. By count alone it was not bounded in memory: in a repository of 1,000 services each commit
// writes a new 35 KB root tree, and 512 of them held 18 MB.
import type { GitObject } from './objects.ts';

export class ObjectCache {
  readonly #maxObjects: number;
  readonly #maxBytes: number;
  readonly #objects = new Map<string, GitObject>();
  #bytes = 0;

  constructor(options: { maxObjects: number; maxBytes: number }) {
    this.#maxObjects = Math.max(1, options.maxObjects);
    this.#maxBytes = options.maxBytes;
  }

  /** The object, now the most recently used. */
  get(oid: string): GitObject | undefined {
    const cached = this.#objects.get(oid);
    if (cached === undefined) return undefined;
    this.#objects.delete(oid);
    this.#objects.set(oid, cached);
    return cached;
  }

  /** Without changing the order (size checks and existence tests are not uses). */
  peek(oid: string): GitObject | undefined {
    return this.#objects.get(oid);
  }

  has(oid: string): boolean {
    return this.#objects.has(oid);
  }

  /** Adds an object, then forgets the least recently used ones over either bound (never the newest). */
  set(object: GitObject): void {
    const old = this.#objects.get(object.oid);
    if (old !== undefined) {
      this.#bytes -= old.content.length;
      this.#objects.delete(object.oid);
    }
    this.#objects.set(object.oid, object);
    this.#bytes += object.content.length;
    while (this.#objects.size > 1 && (this.#objects.size > this.#maxObjects || this.#bytes > this.#maxBytes)) {
      const oldest = this.#objects.keys().next().value;
      if (oldest === undefined) break;
      this.#bytes -= this.#objects.get(oldest)?.content.length ?? 0;
      this.#objects.delete(oldest);
    }
  }

  size(): number {
    return this.#objects.size;
  }

  bytes(): number {
    return this.#bytes;
  }
}
