// GitHub's REST API (github.com at api.github.com, GitHub Enterprise Server under /api/v3):
// `Authorization: Bearer <t>`, statuses on /repos/{owner}/{repo}/statuses/{sha}, pull requests under
// /pulls, comments on the issue. A status description is cut at 140 characters by GitHub.
import { apiBase, field, forgeRequester, isNumber, isString, oneLine, optionalString, ownerAndName } from './http.ts';
import type { Forge, ForgeSettings, PullRequest } from './types.ts';

/** github.com's API host, or GitHub Enterprise Server's /api/v3 under its own. */
export function githubApiBase(url: string): string {
  const host = new URL(url).hostname;
  return host === 'github.com' || host === 'www.github.com' || host === 'api.github.com'
    ? 'https://api.github.com'
    : apiBase(url, '/api/v3');
}

export function githubForge(settings: ForgeSettings): Forge {
  const request = forgeRequester(
    settings,
    { authorization: `Bearer ${settings.token}` },
    { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
  );
  const repo = `${githubApiBase(settings.url)}/repos/${ownerAndName(settings.repository)}`;
  const owner = settings.repository.split('/')[0] ?? '';
  const pull = (json: unknown): PullRequest => {
    const merged = json !== null && typeof json === 'object' && (json as { merged?: unknown }).merged === true;
    const mergedAt = optionalString(json, 'merged_at');
    const state = field(json, 'state', isString, 'GitHub pull request');
    const mergeCommit = optionalString(json, 'merge_commit_sha');
    const headCommit = optionalString((json as { head?: unknown }).head, 'sha');
    const isMerged = merged || mergedAt !== undefined;
    const mergedBy = optionalString((json as { merged_by?: unknown }).merged_by, 'login');
    return {
      number: field(json, 'number', isNumber, 'GitHub pull request'),
      url: field(json, 'html_url', isString, 'GitHub pull request'),
      state: isMerged ? 'merged' : state === 'open' ? 'open' : 'closed',
      // Before the merge, merge_commit_sha is GitHub's test merge: only a merged one is kept.
      ...(isMerged && mergeCommit ? { mergeCommit } : {}),
      ...(headCommit ? { headCommit } : {}),
      ...(mergedBy ? { mergedBy } : {}),
    };
  };
  return {
    type: 'github',
    async setCommitStatus(status, signal) {
      await request({
        method: 'POST',
        url: `${repo}/statuses/${encodeURIComponent(status.sha)}`,
        body: {
          state: status.state,
          context: status.context,
          description: oneLine(status.description, 140),
          ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
        },
        signal,
      });
    },
    async openPullRequest(draft, signal) {
      const query = new URLSearchParams({ head: `${owner}:${draft.head}`, base: draft.base, state: 'open' });
      const listed = await request({ method: 'GET', url: `${repo}/pulls?${query.toString()}`, signal });
      if (Array.isArray(listed.json) && listed.json.length > 0) return pull(listed.json[0]);
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
