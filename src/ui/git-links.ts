// Links to a commit on the Git host's web view, from a Project's clone URL: GitHub and Gitea
// (`/commit/<sha>`), GitLab (`/-/commit/<sha>`). Credentials in the URL are never carried over.

/** The repository's web URL: https, without user info or `.git`; undefined when it cannot be told. */
export function repositoryWebUrl(cloneUrl: string): string | undefined {
  const scp = /^(?:[^@/]+@)?([A-Za-z0-9.-]+):(?!\/\/)([^\s]+?)(?:\.git)?\/?$/.exec(cloneUrl);
  if (scp && !cloneUrl.includes('://')) return `https://${scp[1] ?? ''}/${scp[2] ?? ''}`;
  let url: URL;
  try {
    url = new URL(cloneUrl);
  } catch {
    return undefined;
  }
  if (!['http:', 'https:', 'ssh:', 'git:'].includes(url.protocol)) return undefined;
  const path = url.pathname.replace(/\.git\/?$/, '').replace(/\/+$/, '');
  if (path === '') return undefined;
  const scheme = url.protocol === 'http:' ? 'http' : 'https';
  const port = url.protocol === 'http:' || url.protocol === 'https:' ? (url.port ? `:${url.port}` : '') : '';
  return `${scheme}://${url.hostname}${port}${path}`;
}

/** The host's page for one commit. */
export function commitUrl(cloneUrl: string, sha: string): string | undefined {
  if (!/^[0-9a-f]{7,64}$/.test(sha)) return undefined;
  const repo = repositoryWebUrl(cloneUrl);
  if (repo === undefined) return undefined;
  const host = new URL(repo).hostname;
  return host.includes('gitlab') ? `${repo}/-/commit/${sha}` : `${repo}/commit/${sha}`;
}
