// The Git store's public surface.
export { openStore, GitStore } from './store.ts';
export type {
  EditOutcome,
  EditResult,
  FileAtCommit,
  FileEdit,
  StoreLogger,
  StoreOptions,
  StoreStats,
} from './store.ts';
export type { GitCredentials } from './remote.ts';
export { DEFAULT_MAX_FILE_BYTES, FileTooLargeError } from './limits.ts';
export type { FetchLimits } from './limits.ts';
export { formatCommitMessage, parseReboundTrailers, parseTrailerBlock, TRAILER } from './trailers.ts';
export type { ProblemRef, ReboundTrailers, StepKey } from './trailers.ts';
export { parseGitPushHook, sameRepository, HOOK_ERROR } from './hooks.ts';
export type { GitPushEvent, GitHookProvider, HookHeaders } from './hooks.ts';
export { watchBranches, parsePollSchedule } from './watch.ts';
export type { BranchChange, BranchWatcher, PollSchedule, WatchOptions, WatchedStore } from './watch.ts';
