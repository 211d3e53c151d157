// Which shard a Project belongs to, for the ProblemEvents ingestion creates: read from the API server
// (a sharded controller's cache holds only its own shard's Projects, while its webhook may receive
// problems for any), and remembered for a short while so a storm of alerts reads each Project once.
import { LABELS } from '../api/index.ts';
import type { Project } from '../api/index.ts';

export interface ProjectShardOptions {
  /** The Project from the API server, or undefined when it does not exist. */
  getProject: (name: string) => Promise<Project | undefined>;
  /** How long an answer is reused. Default 30 s. */
  ttlMs?: number;
  now?: () => number;
}

export class ProjectShards {
  readonly #get: ProjectShardOptions['getProject'];
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #known = new Map<string, { shard: string | undefined; at: number }>();
  readonly #reading = new Map<string, Promise<string | undefined>>();

  constructor(options: ProjectShardOptions) {
    this.#get = options.getProject;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /** The Project's `rebound.dev/shard` label; undefined for an unsharded or unknown Project. */
  async shardOf(project: string): Promise<string | undefined> {
    const known = this.#known.get(project);
    if (known && this.#now() - known.at < this.#ttlMs) return known.shard;
    const reading = this.#reading.get(project);
    if (reading) return reading;
    const read = this.#get(project)
      .then((p) => {
        const shard = p?.metadata.labels?.[LABELS.shard];
        this.#known.set(project, { shard, at: this.#now() });
        return shard;
      })
      .finally(() => this.#reading.delete(project));
    this.#reading.set(project, read);
    return read;
  }
}
