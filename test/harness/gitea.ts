// A real Gitea (built from its Go module by test/cluster/build.sh) on loopback, for the forge tests:
// commit statuses, pull requests and comments through its API, and Rebound pushing to it over HTTP
// like any remote. Gitea's SQLite driver needs cgo, and the tools are built without it, so Gitea
// keeps its data in a throw-away PostgreSQL (Debian's, test/harness/postgres.ts). Configured by an
// app.ini in a temp dir (install locked, no mail, no SSH, no indexers, no cron); an admin user and an
// access token are made with Gitea's own CLI before the server starts.
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ReboundError } from '../../src/errors.ts';
import { LOOPBACK, freePort, retryOnAddressInUse } from './ports.ts';
import { type LocalPostgres, startPostgres } from './postgres.ts';
import {
  type ManagedProcess,
  httpOk,
  registerTempDir,
  removeTempDir,
  runCommand,
  startProcess,
  waitUntil,
} from './process.ts';
import { isExecutable, toolPath, toolsDir } from './tools.ts';

export interface StartGiteaOptions {
  /** Per step (PostgreSQL, migration, the server's first answer); default 120 s. */
  startTimeoutMs?: number;
}

export interface LocalGitea {
  /** http://127.0.0.1:PORT (no trailing slash): the web address, the API is under /api/v1. */
  url: string;
  host: string;
  /** The admin user, owner of the repositories the tests create. */
  user: string;
  password: string;
  /** An access token of the admin user with every scope. */
  token: string;
  /**
   * Creates `<user>/<name>`, with an initial commit on `defaultBranch` unless `empty` (to push a
   * history into); returns its HTTP clone URL.
   */
  createRepository(name: string, options?: { defaultBranch?: string; empty?: boolean }): Promise<string>;
  /** The clone URL with the admin's credentials in it, for the git CLI. */
  authedUrl(cloneUrl: string): string;
  /** A JSON call to the API as the admin user (for the tests' own checks and a person's actions). */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }>;
  /** Stops Gitea, then PostgreSQL, and removes their files. Idempotent. */
  stop(): Promise<void>;
}

/** Gitea's templates and options: the binary is built without bindata and reads them from here. */
export function giteaStaticDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(toolsDir(env), 'gitea-static');
}

function appIni(o: {
  dir: string;
  port: number;
  staticRoot: string;
  db: LocalPostgres;
  secretKey: string;
  internalToken: string;
}): string {
  return `APP_NAME = rebound-test
RUN_MODE = prod
RUN_USER = ${userInfo().username}
WORK_PATH = ${o.dir}
; Test only: the harness runs as root on CI machines.
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true

[server]
PROTOCOL = http
HTTP_ADDR = ${LOOPBACK}
HTTP_PORT = ${String(o.port)}
DOMAIN = ${LOOPBACK}
ROOT_URL = http://${LOOPBACK}:${String(o.port)}/
DISABLE_SSH = true
START_SSH_SERVER = false
OFFLINE_MODE = true
LFS_START_SERVER = false
APP_DATA_PATH = ${join(o.dir, 'data')}
STATIC_ROOT_PATH = ${o.staticRoot}

[database]
DB_TYPE = postgres
HOST = ${o.db.host}:${String(o.db.port)}
NAME = ${o.db.database}
USER = ${o.db.user}
PASSWD = \`${o.db.password}\`
SSL_MODE = disable

[repository]
ROOT = ${join(o.dir, 'repositories')}
DEFAULT_BRANCH = main

[security]
INSTALL_LOCK = true
SECRET_KEY = ${o.secretKey}
INTERNAL_TOKEN = ${o.internalToken}
PASSWORD_HASH_ALGO = pbkdf2_v2

[oauth2]
ENABLED = false

[service]
DISABLE_REGISTRATION = true
DEFAULT_KEEP_EMAIL_PRIVATE = true

[mailer]
ENABLED = false

[session]
PROVIDER = memory

[cache]
ADAPTER = memory

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[queue]
TYPE = channel

[cron]
ENABLED = false

[cron.update_checker]
ENABLED = false

[actions]
ENABLED = false

[packages]
ENABLED = false

[log]
MODE = console
LEVEL = warn
`;
}

/** Starts PostgreSQL, migrates Gitea's schema, makes the admin and a token, then serves on a free loopback port. */
export async function startGitea(options: StartGiteaOptions = {}): Promise<LocalGitea> {
  const gitea = toolPath('gitea');
  const staticRoot = giteaStaticDir();
  if (!isExecutable(gitea) || !isExecutable(join(staticRoot, 'templates')))
    throw new ReboundError(
      `Gitea's templates are missing in ${staticRoot}. Run \`make setup\` (test/cluster/build.sh).`,
      {
        code: 'ToolMissing',
        retryable: false,
      },
    );
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const dir = await mkdtemp(join(tmpdir(), 'rebound-gitea-'));
  registerTempDir(dir);
  let db: LocalPostgres | undefined;
  let server: ManagedProcess | undefined;
  const stop = async (): Promise<void> => {
    await server?.stop();
    await db?.stop();
    await removeTempDir(dir);
  };
  try {
    db = await startPostgres({ database: 'gitea', user: 'gitea', startTimeoutMs: timeoutMs });
    const config = join(dir, 'app.ini');
    const env = { ...process.env, HOME: dir, GITEA_WORK_DIR: dir, USER: userInfo().username };
    const cli = (args: string[]) =>
      runCommand(gitea, [...args, '--config', config, '--work-path', dir], { cwd: dir, env, timeoutMs });
    const secretKey = randomBytes(32).toString('hex');
    const internalToken = (
      await runCommand(gitea, ['generate', 'secret', 'INTERNAL_TOKEN'], { cwd: dir, env })
    ).stdout.trim();
    const user = 'rebound-admin';
    const password = randomBytes(18).toString('base64url');
    let token = '';

    const started = await retryOnAddressInUse(async () => {
      const port = await freePort();
      await writeFile(config, appIni({ dir, port, staticRoot, db: db!, secretKey, internalToken }), { mode: 0o600 });
      if (token === '') {
        await cli(['migrate']);
        await cli([
          'admin',
          'user',
          'create',
          '--admin',
          '--username',
          user,
          '--password',
          password,
          '--email',
          'admin@rebound.test',
          '--must-change-password=false',
        ]);
        // Gitea logs its root warning to stdout too: the token is the line that is one.
        const generated = await cli([
          'admin',
          'user',
          'generate-access-token',
          '--username',
          user,
          '--token-name',
          'tests',
          '--scopes',
          'all',
          '--raw',
        ]);
        token =
          generated.stdout
            .split('\n')
            .map((l) => l.trim())
            .find((l) => /^[0-9a-f]{40}$/.test(l)) ?? '';
        if (token === '') throw new Error(`gitea did not print an access token: ${generated.stdout}`);
      }
      const proc = await startProcess({
        name: 'gitea',
        command: gitea,
        args: ['web', '--config', config, '--work-path', dir],
        cwd: dir,
        env,
      });
      try {
        await waitUntil(
          `gitea on ${LOOPBACK}:${String(port)}`,
          () => httpOk(`http://${LOOPBACK}:${String(port)}/api/healthz`),
          {
            timeoutMs,
            process: proc,
            intervalMs: 100,
          },
        );
      } catch (err) {
        await proc.stop();
        throw err;
      }
      return { proc, port };
    });
    server = started.proc;
    const host = `${LOOPBACK}:${String(started.port)}`;
    const url = `http://${host}`;
    const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
      const response = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `token ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, json: (text === '' ? undefined : JSON.parse(text)) as T };
    };
    let stopping: Promise<void> | undefined;
    return {
      url,
      host,
      user,
      password,
      token,
      api,
      authedUrl(cloneUrl) {
        const authed = new URL(cloneUrl);
        authed.username = user;
        authed.password = token;
        return authed.toString();
      },
      async createRepository(name, { defaultBranch = 'main', empty = false } = {}) {
        const created = await api<{ clone_url: string }>('POST', '/user/repos', {
          name,
          auto_init: !empty,
          default_branch: defaultBranch,
          private: false,
        });
        if (created.status !== 201)
          throw new Error(
            `creating repository ${name} in Gitea answered ${String(created.status)}: ${JSON.stringify(created.json)}`,
          );
        return created.json.clone_url;
      },
      stop: () => (stopping ??= stop()),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
