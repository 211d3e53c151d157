// Group commit, per branch: while one push to a branch is in flight, the edits that arrive for it
// wait, and then go out together in the next push (several commits, one request). A lone edit goes
// out at once: batching adds no delay, it only fills the time a push takes. So throughput grows with
// the storm instead of staying at one push per commit, and pushes to one branch never race each other.

export interface BatchOptions<Req, Res> {
  /** Sends a batch; resolves one result per request, in order, or rejects for the whole batch. */
  flush: (key: string, requests: readonly Req[]) => Promise<readonly Res[]>;
  /** Most requests in one batch (a push is one HTTP request; keep it bounded). Default 200. */
  maxBatch?: number;
}

interface Pending<Req, Res> {
  request: Req;
  resolve: (result: Res) => void;
  reject: (err: unknown) => void;
}

export class GroupCommitter<Req, Res> {
  readonly #flush: BatchOptions<Req, Res>['flush'];
  readonly #maxBatch: number;
  /** Requests waiting per key; a key is present while its flush loop runs. */
  readonly #queues = new Map<string, Pending<Req, Res>[]>();
  #batches = 0;

  constructor(options: BatchOptions<Req, Res>) {
    this.#flush = options.flush;
    this.#maxBatch = Math.max(1, options.maxBatch ?? 200);
  }

  /** Batches sent so far (for tests and benchmarks). */
  batches(): number {
    return this.#batches;
  }

  submit(key: string, request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const queue = this.#queues.get(key);
      const pending = { request, resolve, reject };
      if (queue) {
        queue.push(pending);
        return;
      }
      this.#queues.set(key, [pending]);
      void this.#run(key);
    });
  }

  async #run(key: string): Promise<void> {
    for (;;) {
      const queue = this.#queues.get(key);
      if (!queue || queue.length === 0) {
        this.#queues.delete(key);
        return;
      }
      const batch = queue.splice(0, this.#maxBatch);
      this.#batches += 1;
      try {
        const results = await this.#flush(
          key,
          batch.map((p) => p.request),
        );
        batch.forEach((p, i) => {
          if (i < results.length) p.resolve(results[i] as Res);
          else
            p.reject(
              new Error(`batch returned ${String(results.length)} results for ${String(batch.length)} requests`),
            );
        });
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
  }
}
