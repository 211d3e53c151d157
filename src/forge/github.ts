// GitHub's REST API (github.com at api.github.com, GitHub Enterprise Server under /api/v3):
// `Authorization: Bearer <t>`, statuses on /repos/{owner}/{repo}/statuses/{sha}, pull requests under
// /pulls, comments on the issue. A status description is cut at 140 characters by GitHub.
import { githubStyleForge } from './github-style.ts';
import { apiBase, forgeRequester, ownerAndName } from './http.ts';
import type { Forge, ForgeSettings } from './types.ts';

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
  return githubStyleForge({
    type: 'github',
    label: 'GitHub pull request',
    request,
    repo,
    descriptionLimit: 140,
    async findOpen(draft, signal) {
      const query = new URLSearchParams({ head: `${owner}:${draft.head}`, base: draft.base, state: 'open' });
      const listed = await request({ method: 'GET', url: `${repo}/pulls?${query.toString()}`, signal });
      return Array.isArray(listed.json) && listed.json.length > 0 ? (listed.json[0] as unknown) : undefined;
    },
  });
}
