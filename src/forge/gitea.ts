// Gitea's API v1 (also Forgejo's): `Authorization: token <t>`, statuses on
// /repos/{owner}/{repo}/statuses/{sha}, pull requests under /pulls, comments on the issue: GitHub's
// shape (github-style.ts), with a 255-character status description.
import { githubStyleForge, parsePull } from './github-style.ts';
import { apiBase, forgeRequester, ownerAndName } from './http.ts';
import type { Forge, ForgeSettings } from './types.ts';

export function giteaForge(settings: ForgeSettings): Forge {
  const request = forgeRequester(settings, { authorization: `token ${settings.token}` });
  const repo = `${apiBase(settings.url, '/api/v1')}/repos/${ownerAndName(settings.repository)}`;
  return githubStyleForge({
    type: 'gitea',
    label: 'Gitea pull request',
    request,
    repo,
    descriptionLimit: 255,
    // Gitea answers 409 to a second pull request for the same branches: look for it first.
    async findOpen(draft, signal) {
      const existing = await request(
        {
          method: 'GET',
          url: `${repo}/pulls/${encodeURIComponent(draft.base)}/${encodeURIComponent(draft.head)}`,
          signal,
        },
        [404],
      );
      if (existing.status === 404) return undefined;
      return parsePull(existing.json, 'Gitea pull request').state === 'open' ? existing.json : undefined;
    },
  });
}
