// Gitea's API v1 (also Forgejo's): `Authorization: token <t>`, statuses on
// /repos/{owner}/{repo}/statuses/{sha}, pull requests under /pulls, comments on the issue.
import { apiBase, field, forgeRequester, isNumber, isString, oneLine, optionalString, ownerAndName } from './http.ts';
import type { Forge, ForgeSettings, PullRequest } from './types.ts';

export function giteaForge(settings: ForgeSettings): Forge {
  const request = forgeRequester(settings, { authorization: `token ${settings.token}` });
  const repo = `${apiBase(settings.url, '/api/v1')}/repos/${ownerAndName(settings.repository)}`;
  const pull = (json: unknown): PullRequest => {
    const merged = json !== null && typeof json === 'object' && (json as { merged?: unknown }).merged === true;
    const state = field(json, 'state', isString, 'Gitea pull request');
    const head = (json as { head?: unknown }).head;
    const mergeCommit = optionalString(json, 'merge_commit_sha');
    const headCommit = optionalString(head, 'sha');
    const mergedBy = optionalString((json as { merged_by?: unknown }).merged_by, 'login');
    return {
      number: field(json, 'number', isNumber, 'Gitea pull request'),
      url: field(json, 'html_url', isString, 'Gitea pull request'),
      state: merged ? 'merged' : state === 'open' ? 'open' : 'closed',
      ...(merged && mergeCommit ? { mergeCommit } : {}),
      ...(headCommit ? { headCommit } : {}),
      ...(mergedBy ? { mergedBy } : {}),
    };
  };
  return {
    type: 'gitea',
    async setCommitStatus(status, signal) {
      await request({
        method: 'POST',
        url: `${repo}/statuses/${encodeURIComponent(status.sha)}`,
        body: {
          state: status.state,
          context: status.context,
          description: oneLine(status.description, 255),
          ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
        },
        signal,
      });
    },
    async openPullRequest(draft, signal) {
      // Gitea answers 409 to a second pull request for the same branches: look for it first.
      const existing = await request(
        {
          method: 'GET',
          url: `${repo}/pulls/${encodeURIComponent(draft.base)}/${encodeURIComponent(draft.head)}`,
          signal,
        },
        [404],
      );
      if (existing.status !== 404) {
        const found = pull(existing.json);
        if (found.state === 'open') return found;
      }
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
