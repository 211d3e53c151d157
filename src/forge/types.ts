// A Git forge as Rebound uses it: a commit status on each remediation commit, and (for merge-mode
// approvals) a pull request per proposal, commented with the plan and read back for its merged
// state. One small interface, three implementations (gitea.ts, github.ts, gitlab.ts) that differ
// only in URL patterns, payloads and how they authenticate.

export const FORGE_TYPES = ['gitea', 'github', 'gitlab'] as const;
export type ForgeType = (typeof FORGE_TYPES)[number];

/** The states every forge knows; GitLab spells failure `failed`. */
export type CommitState = 'pending' | 'success' | 'failure' | 'error';

export interface CommitStatus {
  sha: string;
  state: CommitState;
  /** The status's name on the forge (`rebound/production`): one line per context and commit. */
  context: string;
  /** One line; forges cut it (GitHub at 140 characters), so it is cut here first. */
  description: string;
  /** Where a person reads more (the ProblemEvent, a dashboard). */
  targetUrl?: string;
}

export interface PullRequestDraft {
  /** The proposal branch. */
  head: string;
  /** The stage branch it asks to be merged into. */
  base: string;
  title: string;
  body: string;
}

export interface PullRequest {
  number: number;
  /** The page a person opens. */
  url: string;
  state: 'open' | 'merged' | 'closed';
  /** The commit the merge made on the base branch (merge, squash or rebase), once merged. */
  mergeCommit?: string;
  /** The proposal branch's head commit the pull request shows. */
  headCommit?: string;
  /** The forge's login of the person who merged it. */
  mergedBy?: string;
}

export interface Forge {
  readonly type: ForgeType;
  setCommitStatus(status: CommitStatus, signal?: AbortSignal): Promise<void>;
  /** Opens a pull request from `head` into `base`; an open one for the same branches is returned as it is. */
  openPullRequest(draft: PullRequestDraft, signal?: AbortSignal): Promise<PullRequest>;
  pullRequest(number: number, signal?: AbortSignal): Promise<PullRequest>;
  comment(number: number, body: string, signal?: AbortSignal): Promise<void>;
  /** Changes a pull request's title or body, or closes it unmerged (`state: 'closed'`). */
  updatePullRequest(
    number: number,
    change: { title?: string; body?: string; state?: 'closed' },
    signal?: AbortSignal,
  ): Promise<void>;
}

/** Where a forge is and who Rebound is there; the token comes from a Kubernetes Secret. */
export interface ForgeSettings {
  type: ForgeType;
  /** The forge's web address (`https://gitea.example.com`, `https://github.com`, `https://gitlab.com`). */
  url: string;
  /** `owner/name` (GitLab: the project's full path, groups included). */
  repository: string;
  token: string;
  /** Hosts the forge may be called on (the SSRF guard, src/net/allowed-hosts.ts). */
  allowedHosts: readonly string[];
  /** Per request, including reading the answer (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}
