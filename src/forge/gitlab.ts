// GitLab's REST API v4: `PRIVATE-TOKEN: <t>`, the project named by its URL-encoded full path,
// statuses on /statuses/{sha} (`failed`, not `failure`; the context is `name`), merge requests
// (iid) for pull requests, notes for comments.
import { REASONS } from '../api/constants.ts';
import { ReboundError } from '../errors.ts';
import { apiBase, field, forgeRequester, isNumber, isString, oneLine, optionalString } from './http.ts';
import type { CommitState, Forge, ForgeSettings, PullRequest } from './types.ts';

const STATES: Readonly<Record<CommitState, string>> = {
  pending: 'pending',
  success: 'success',
  failure: 'failed',
  error: 'failed',
};

export function gitlabForge(settings: ForgeSettings): Forge {
  const request = forgeRequester(settings, { 'private-token': settings.token });
  if (!/^[^/]+(\/[^/]+)+$/.test(settings.repository))
    throw new ReboundError(
      `spec.forge.repository must be the GitLab project's path ("group/name"), not ${JSON.stringify(settings.repository)}`,
      { code: 'ForgeInvalidRepository', reason: REASONS.InvalidSpec, retryable: false },
    );
  const project = `${apiBase(settings.url, '/api/v4')}/projects/${encodeURIComponent(settings.repository)}`;
  const mr = (json: unknown): PullRequest => {
    const state = field(json, 'state', isString, 'GitLab merge request');
    const merged = state === 'merged';
    const mergeCommit = optionalString(json, 'merge_commit_sha') ?? optionalString(json, 'squash_commit_sha');
    const headCommit = optionalString(json, 'sha');
    const mergedBy =
      optionalString((json as { merge_user?: unknown }).merge_user, 'username') ??
      optionalString((json as { merged_by?: unknown }).merged_by, 'username');
    return {
      number: field(json, 'iid', isNumber, 'GitLab merge request'),
      url: field(json, 'web_url', isString, 'GitLab merge request'),
      state: merged ? 'merged' : state === 'opened' || state === 'locked' ? 'open' : 'closed',
      ...(merged && mergeCommit ? { mergeCommit } : {}),
      ...(headCommit ? { headCommit } : {}),
      ...(mergedBy ? { mergedBy } : {}),
    };
  };
  return {
    type: 'gitlab',
    async setCommitStatus(status, signal) {
      await request({
        method: 'POST',
        url: `${project}/statuses/${encodeURIComponent(status.sha)}`,
        body: {
          state: STATES[status.state],
          name: status.context,
          description: oneLine(status.description, 255),
          ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
        },
        signal,
      });
    },
    async openPullRequest(draft, signal) {
      const query = new URLSearchParams({ source_branch: draft.head, target_branch: draft.base, state: 'opened' });
      const listed = await request({ method: 'GET', url: `${project}/merge_requests?${query.toString()}`, signal });
      if (Array.isArray(listed.json) && listed.json.length > 0) return mr(listed.json[0]);
      const created = await request({
        method: 'POST',
        url: `${project}/merge_requests`,
        body: { source_branch: draft.head, target_branch: draft.base, title: draft.title, description: draft.body },
        signal,
      });
      return mr(created.json);
    },
    async pullRequest(number, signal) {
      return mr((await request({ method: 'GET', url: `${project}/merge_requests/${String(number)}`, signal })).json);
    },
    async comment(number, body, signal) {
      await request({
        method: 'POST',
        url: `${project}/merge_requests/${String(number)}/notes`,
        body: { body },
        signal,
      });
    },
    async updatePullRequest(number, change, signal) {
      await request({
        method: 'PUT',
        url: `${project}/merge_requests/${String(number)}`,
        body: {
          ...(change.title === undefined ? {} : { title: change.title }),
          ...(change.body === undefined ? {} : { description: change.body }),
          ...(change.state === 'closed' ? { state_event: 'close' } : {}),
        },
        signal,
      });
    },
  };
}
