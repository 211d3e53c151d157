// The forge for a Project's spec.forge: one factory, so callers never name an implementation.
import { giteaForge } from './gitea.ts';
import { githubForge } from './github.ts';
import { gitlabForge } from './gitlab.ts';
import type { Forge, ForgeSettings } from './types.ts';

export type {
  CommitState,
  CommitStatus,
  Forge,
  ForgeSettings,
  ForgeType,
  PullRequest,
  PullRequestDraft,
} from './types.ts';
export { FORGE_TYPES } from './types.ts';

export function createForge(settings: ForgeSettings): Forge {
  switch (settings.type) {
    case 'gitea':
      return giteaForge(settings);
    case 'github':
      return githubForge(settings);
    case 'gitlab':
      return gitlabForge(settings);
  }
}
