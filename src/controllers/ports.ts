// What more than one controller needs from the world, as narrow interfaces: the Project lookup
// (ProblemEvent and Remediation controllers) and the Git store per Project (the policy lookup, the
// SLO evaluator and the Project controller). The wiring passes the real implementations in.
import type { Project, Remediation } from '../api/index.ts';
import type { CommitState, Forge } from '../forge/index.ts';
import type { GitStore } from '../gitstore/store.ts';
import type { ResolvedStage } from '../remediation/stage.ts';

export interface ProjectLookup {
  getProject(namespace: string, name: string): Project | undefined;
  /** The stage from the Project's spec.stages, or from the repository's shipyard.yaml. */
  resolveStage(project: Project, stage: string): Promise<ResolvedStage | undefined>;
  /** The Remediation resource for this service, when there is one (it wins over remediation.yaml). */
  findRemediation(namespace: string, project: string, stage: string, service: string): Remediation | undefined;
}

export interface StoreProvider {
  storeFor(project: Project): Promise<GitStore>;
}

/** What a step tells the Project's forge: a commit status (queued) and, in merge mode, pull requests. */
export interface ForgeLookup {
  /**
   * The Project's forge with its token read now from spec.forge.secretRef, or undefined when the
   * Project names none. Throws a classified ReboundError (Secret missing, no token).
   */
  forProject(project: Project): Promise<Forge | undefined>;
  /**
   * Queues a commit status on `sha` for the stage's line (`<context>/<stage>`): never blocks, never
   * throws; nothing happens when the Project has no forge or turned commit statuses off.
   */
  postStatus(project: Project, status: StageCommitStatus): void;
  /** Queues a comment on pull request `number` of the Project's forge (a proposal's verdict): never blocks, never throws. */
  postComment(project: Project, number: number, body: string): void;
  /** Queues a comment saying why, then closes pull request `number` unmerged: never blocks, never throws. */
  closePullRequest(project: Project, number: number, why: string): void;
}

export interface StageCommitStatus {
  sha: string;
  state: CommitState;
  stage: string;
  description: string;
  /** Fills spec.forge.link's `{namespace}`, `{name}` and `{attempt}`. */
  problem: { namespace: string; name: string };
  attempt: number;
}
