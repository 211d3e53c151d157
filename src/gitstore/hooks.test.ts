import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ReboundError } from '../errors.ts';
import { parseGitPushHook, sameRepository } from './hooks.ts';

const secret = 'hook-secret';
const after = 'a'.repeat(40);
const githubBody = JSON.stringify({
  ref: 'refs/heads/production',
  after,
  repository: { clone_url: 'https://github.com/acme/sockshop.git' },
});
const gitlabBody = JSON.stringify({
  ref: 'refs/heads/staging',
  after,
  project: { git_http_url: 'https://gitlab.com/acme/sockshop.git' },
});
const sign = (body: string, key = secret): string => createHmac('sha256', key).update(body).digest('hex');

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    return err instanceof ReboundError ? err.code : 'not-a-ReboundError';
  }
  return undefined;
}

describe('parseGitPushHook', () => {
  it('accepts a GitHub push signed with X-Hub-Signature-256', () => {
    const event = parseGitPushHook(
      { 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': `sha256=${sign(githubBody)}` },
      githubBody,
      secret,
    );
    expect(event).toEqual({
      provider: 'github',
      repoUrl: 'https://github.com/acme/sockshop.git',
      ref: 'refs/heads/production',
      branch: 'production',
      after,
    });
  });

  it('accepts GitHub form-encoded deliveries', () => {
    const body = `payload=${encodeURIComponent(githubBody)}`;
    const event = parseGitPushHook(
      { 'content-type': 'application/x-www-form-urlencoded', 'x-hub-signature-256': `sha256=${sign(body)}` },
      Buffer.from(body),
      secret,
    );
    expect(event.branch).toBe('production');
  });

  it('accepts a Gitea push signed with X-Gitea-Signature', () => {
    const event = parseGitPushHook(
      { 'x-gitea-event': 'push', 'x-gitea-signature': sign(githubBody) },
      githubBody,
      secret,
    );
    expect(event.provider).toBe('gitea');
  });

  it('accepts a GitLab push with the shared X-Gitlab-Token', () => {
    const event = parseGitPushHook({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secret }, gitlabBody, secret);
    expect(event).toMatchObject({
      provider: 'gitlab',
      branch: 'staging',
      repoUrl: 'https://gitlab.com/acme/sockshop.git',
    });
  });

  it.each([
    ['no signature at all', {}, githubBody],
    [
      'a signature made with another secret',
      { 'x-hub-signature-256': `sha256=${sign(githubBody, 'other')}` },
      githubBody,
    ],
    [
      'a valid signature over a different body',
      { 'x-hub-signature-256': `sha256=${sign(githubBody)}` },
      githubBody.replace('production', 'dev'),
    ],
    ['a GitHub signature without the sha256= prefix', { 'x-hub-signature-256': sign(githubBody) }, githubBody],
    ['a malformed Gitea signature', { 'x-gitea-signature': 'zz' }, githubBody],
    ['a wrong GitLab token', { 'x-gitlab-token': 'hook-secreT' }, gitlabBody],
  ])('refuses %s with WebhookUnauthorized (401)', (_name, headers, body) => {
    expect(codeOf(() => parseGitPushHook(headers, body, secret))).toBe('WebhookUnauthorized');
  });

  it('refuses everything when no secret is configured', () => {
    expect(codeOf(() => parseGitPushHook({ 'x-gitlab-token': '' }, gitlabBody, ''))).toBe('WebhookUnauthorized');
  });

  it.each([
    ['a body that is not JSON', 'not json'],
    ['a missing ref', JSON.stringify({ after, repository: { clone_url: 'https://x/y.git' } })],
    [
      'an after that is not a commit id',
      JSON.stringify({ ref: 'refs/heads/x', after: 'HEAD', repository: { clone_url: 'https://x/y.git' } }),
    ],
    ['a missing repository URL', JSON.stringify({ ref: 'refs/heads/x', after })],
  ])('rejects %s with InvalidPayload (400) once the signature is valid', (_name, body) => {
    expect(codeOf(() => parseGitPushHook({ 'x-hub-signature-256': `sha256=${sign(body)}` }, body, secret))).toBe(
      'InvalidPayload',
    );
  });

  it('rejects signed events that are not pushes', () => {
    expect(
      codeOf(() =>
        parseGitPushHook(
          { 'x-github-event': 'issues', 'x-hub-signature-256': `sha256=${sign(githubBody)}` },
          githubBody,
          secret,
        ),
      ),
    ).toBe('InvalidPayload');
  });

  it('reports tag pushes with a null branch', () => {
    const body = JSON.stringify({ ref: 'refs/tags/v1', after, repository: { clone_url: 'https://x/y.git' } });
    expect(parseGitPushHook({ 'x-hub-signature-256': `sha256=${sign(body)}` }, body, secret).branch).toBeNull();
  });
});

describe('sameRepository', () => {
  it('ignores .git, trailing slashes and host case', () => {
    expect(sameRepository('https://GitHub.com/acme/sockshop.git', 'https://github.com/acme/sockshop/')).toBe(true);
    expect(sameRepository('https://github.com/acme/sockshop', 'https://github.com/acme/other')).toBe(false);
  });
});
