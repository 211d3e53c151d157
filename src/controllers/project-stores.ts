// One Git store per Project, opened on first use and kept across reconciles (its object store lives in
// the work dir). Credentials come from the Project's Secret; a rotated Secret or a changed URL opens
// the store again with the new values. Secrets are read at most every `credentialTtlMs`.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Project } from '../api/index.ts';
import { ReboundError } from '../errors.ts';
import { openStore } from '../gitstore/store.ts';
import type { GitStore, StoreLogger } from '../gitstore/store.ts';
import type { GitCredentials } from '../gitstore/remote.ts';
import type { SecretReader } from '../kube/secrets.ts';
import type { StoreProvider } from './ports.ts';

export interface ProjectStoresOptions {
  workDir: string;
  secrets: SecretReader;
  /** A logger per project (`namespace/name`), so every Git log line says which repository it is about. */
  logger?: (project: string) => StoreLogger;
  credentialTtlMs?: number;
  now?: () => number;
  /** Counts pushes redone after the server refused them (rebound_git_push_retries_total). */
  onPushRetry?: () => void;
}

interface OpenStore {
  store: GitStore;
  fingerprint: string;
}

export class ProjectStores implements StoreProvider {
  private readonly options: ProjectStoresOptions;
  private readonly open = new Map<string, Promise<OpenStore>>();
  private readonly credentials = new Map<string, { at: number; value: GitCredentials | undefined }>();

  constructor(options: ProjectStoresOptions) {
    this.options = options;
  }

  async storeFor(project: Project): Promise<GitStore> {
    const namespace = project.metadata.namespace ?? 'default';
    const name = project.metadata.name ?? '';
    const key = `${namespace}/${name}`;
    const auth = await this.credentialsFor(project);
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([project.spec.git.url, auth?.username, auth?.token, auth?.password]))
      .digest('hex');
    const current = this.open.get(key);
    if (current) {
      const opened = await current;
      if (opened.fingerprint === fingerprint) return opened.store;
      opened.store.close();
    }
    const author = project.spec.git.author;
    const next = openStore({
      dir: this.dirFor(namespace, name),
      url: project.spec.git.url,
      ...(auth ? { auth } : {}),
      author: { name: author?.name ?? 'Rebound', email: author?.email ?? 'rebound@rebound.dev' },
      ...(this.options.logger ? { logger: this.options.logger(key) } : {}),
      ...(this.options.onPushRetry ? { onPushRetry: this.options.onPushRetry } : {}),
    }).then((store) => ({ store, fingerprint }));
    this.open.set(key, next);
    next.catch(() => this.open.delete(key));
    return (await next).store;
  }

  /**
   * The Project is gone: close its store and remove its objects from the work dir, so a deleted
   * Project holds neither a connection pool nor disk. A Project created again clones afresh.
   */
  async forget(namespace: string, name: string): Promise<void> {
    const key = `${namespace}/${name}`;
    const pending = this.open.get(key);
    this.open.delete(key);
    const opened = await pending?.catch(() => undefined);
    opened?.store.close();
    await rm(this.dirFor(namespace, name), { recursive: true, force: true });
  }

  private dirFor(namespace: string, name: string): string {
    return join(this.options.workDir, 'git', namespace, name);
  }

  close(): void {
    for (const pending of this.open.values())
      void pending.then(
        (o) => o.store.close(),
        () => undefined,
      );
    this.open.clear();
  }

  private async credentialsFor(project: Project): Promise<GitCredentials | undefined> {
    const ref = project.spec.git.secretRef;
    if (!ref) return undefined;
    const namespace = project.metadata.namespace ?? 'default';
    const key = `${namespace}/${ref.name}`;
    const now = (this.options.now ?? Date.now)();
    const cached = this.credentials.get(key);
    if (cached && now - cached.at < (this.options.credentialTtlMs ?? 15_000)) return cached.value;
    const data = await this.options.secrets.readSecret(namespace, ref.name);
    if (!data) {
      throw new ReboundError(`Secret ${key} named by Project ${project.metadata.name ?? ''} does not exist`, {
        code: 'SecretNotFound',
        reason: 'SecretNotFound',
        retryable: false,
      });
    }
    const username = data.username ?? '';
    const token = data.token;
    const password = data.password;
    if (!token && !password) {
      throw new ReboundError(`Secret ${key} has neither "token" nor "password"`, {
        code: 'SecretInvalid',
        reason: 'SecretNotFound',
        retryable: false,
      });
    }
    const value: GitCredentials = { username, ...(token ? { token } : {}), ...(password ? { password } : {}) };
    this.credentials.set(key, { at: now, value });
    return value;
  }
}
