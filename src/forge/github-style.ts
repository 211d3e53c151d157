// The API shape Gitea copied from GitHub, for what Rebound uses: the same commit status body, pull
// request fields, comment and update paths. The forges differ only in authentication, the API root,
// how long a status description may be, and how an already open pull request is found.
import { field, isNumber, isString, oneLine, optionalString } from './http.ts';
import type { ForgeAnswer, ForgeRequest } from './http.ts';
import type { Forge, PullRequest, PullRequestDraft } from './types.ts';

type Requester = (request: ForgeRequest, allow?: readonly number[]) => Promise<ForgeAnswer>;

export interface GithubStyleApi {
  type: 'github' | 'gitea';
  /** For messages about an answer that does not parse: "GitHub pull request". */
  label: string;
  request: Requester;
  /** `<api root>/repos/<owner>/<name>`. */
  repo: string;
  /** The forge cuts a status description longer than this. */
  descriptionLimit: number;
  /** The open pull request from draft.head into draft.base as the forge answered it, if there is one. */
  findOpen(draft: PullRequestDraft, signal?: AbortSignal): Promise<unknown>;
}

export function githubStyleForge(api: GithubStyleApi): Forge {
  const { request, repo } = api;
  const pull = (json: unknown): PullRequest => parsePull(json, api.label);
  return {
    type: api.type,
    async setCommitStatus(status, signal) {
      await request({
        method: 'POST',
        url: `${repo}/statuses/${encodeURIComponent(status.sha)}`,
        body: {
          state: status.state,
          context: status.context,
          description: oneLine(status.description, api.descriptionLimit),
          ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
        },
        signal,
      });
    },
    async openPullRequest(draft, signal) {
      const existing = await api.findOpen(draft, signal);
      if (existing !== undefined) return pull(existing);
      const created = await request({
        method: 'POST',
        url: `${repo}/pulls`,
        body: { head: draft.head, base: draft.base, title: draft.title, body: draft.body },
        signal,
      });
      return pull(created.json);
    },
    async pullRequest(number, signal) {
      return pull((await request({ method: 'GET', url: `${repo}/pulls/${String(number)}`, signal })).json);
    },
    async comment(number, body, signal) {
      await request({ method: 'POST', url: `${repo}/issues/${String(number)}/comments`, body: { body }, signal });
    },
    async updatePullRequest(number, change, signal) {
      await request({ method: 'PATCH', url: `${repo}/pulls/${String(number)}`, body: change, signal });
    },
  };
}

/** A pull request as GitHub and Gitea describe it. */
export function parsePull(json: unknown, label: string): PullRequest {
  const merged =
    (json !== null && typeof json === 'object' && (json as { merged?: unknown }).merged === true) ||
    optionalString(json, 'merged_at') !== undefined;
  const state = field(json, 'state', isString, label);
  const mergeCommit = optionalString(json, 'merge_commit_sha');
  const headCommit = optionalString((json as { head?: unknown }).head, 'sha');
  const mergedBy = optionalString((json as { merged_by?: unknown }).merged_by, 'login');
  return {
    number: field(json, 'number', isNumber, label),
    url: field(json, 'html_url', isString, label),
    state: merged ? 'merged' : state === 'open' ? 'open' : 'closed',
    // Before the merge, GitHub's merge_commit_sha is its test merge: only a merged one is kept.
    ...(merged && mergeCommit ? { mergeCommit } : {}),
    ...(headCommit ? { headCommit } : {}),
    ...(mergedBy ? { mergedBy } : {}),
  };
}
