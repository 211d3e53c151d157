// A throw-away PostgreSQL (Debian's package) on loopback, for servers the tests start that need one
// (Unleash). initdb into a temp dir, password authentication over TCP on 127.0.0.1 only, the unix
// socket in the temp dir, durability off (the data is thrown away).
//
// PostgreSQL refuses to run as root: under root, initdb and postgres run as the `postgres` system
// user (the Debian package creates it), and the temp dir is handed to that user.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { chown, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ReboundError } from '../../src/errors.ts';
import { LOOPBACK, freePort, retryOnAddressInUse } from './ports.ts';
import { type ManagedProcess, registerTempDir, removeTempDir, runCommand, startProcess, waitUntil } from './process.ts';
import { isExecutable } from './tools.ts';

export interface StartPostgresOptions {
  /** Database to create (default `rebound`). */
  database?: string;
  /** Role that owns it, with a random password (default `rebound`). */
  user?: string;
  /** Where the temp dir goes (default the OS temp dir; must be reachable by `postgres` under root). */
  parentDir?: string;
  startTimeoutMs?: number;
}

export interface LocalPostgres {
  /** 127.0.0.1 */
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** postgres://user:password@127.0.0.1:port/database */
  url: string;
  /** Stops the server (fast shutdown) and removes its data. Idempotent. */
  stop(): Promise<void>;
}

const DEBIAN_ROOT = '/usr/lib/postgresql';
const PROGRAMS = ['initdb', 'postgres', 'pg_isready', 'createdb'] as const;

/** Debian's versioned directories, newest first (they are not on PATH), then PATH. */
function searchDirs(env: NodeJS.ProcessEnv): string[] {
  let versions: string[] = [];
  try {
    versions = readdirSync(DEBIAN_ROOT).filter((v) => /^\d+$/.test(v));
  } catch {
    // No Debian package: PATH only.
  }
  versions.sort((a, b) => Number(b) - Number(a));
  const path = (env['PATH'] ?? '').split(delimiter).filter((d) => d !== '');
  return [...versions.map((v) => join(DEBIAN_ROOT, v, 'bin')), ...path];
}

/** The first directory that has all of initdb, postgres, pg_isready and createdb (one version, never mixed). */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = searchDirs(env).find((d) => PROGRAMS.every((p) => isExecutable(join(d, p))));
  if (dir !== undefined) return dir;
  throw new ReboundError(
    `PostgreSQL is not installed: no directory under ${DEBIAN_ROOT}/*/bin or on PATH has ${PROGRAMS.join(', ')}. ` +
      "Run `make setup` (it installs Debian's postgresql).",
    { code: 'ToolMissing', retryable: false },
  );
}

interface RunAs {
  uid: number;
  gid: number;
}

/** Under root, the `postgres` system user; otherwise nobody (run as ourselves). */
async function postgresUser(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number((await runCommand('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await runCommand('id', ['-g', 'postgres'])).stdout.trim());
    return { uid, gid };
  } catch (err) {
    throw new ReboundError(
      'PostgreSQL refuses to run as root and there is no `postgres` system user to run it as. Run `make setup` ' +
        "(Debian's postgresql package creates the user) or run the tests as a normal user.",
      { code: 'ToolMissing', retryable: false, cause: err },
    );
  }
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** Starts PostgreSQL on a free loopback port with one database owned by a password-protected role. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<LocalPostgres> {
  const user = options.user ?? 'rebound';
  const database = options.database ?? 'rebound';
  for (const name of [user, database]) {
    if (!IDENTIFIER.test(name)) throw new Error(`invalid PostgreSQL name "${name}" (lower-case letters, digits, _)`);
  }
  const bin = findPostgresBinDir();
  const runAs = await postgresUser();
  const timeoutMs = options.startTimeoutMs ?? 60_000;

  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), 'rebound-postgres-'));
  registerTempDir(dir);
  let server: ManagedProcess | undefined;
  const stop = async (): Promise<void> => {
    await server?.stop();
    await removeTempDir(dir);
  };
  try {
    if (runAs) await chown(dir, runAs.uid, runAs.gid);
    const dataDir = join(dir, 'data');
    const password = randomBytes(18).toString('base64url');
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (runAs) await chown(passwordFile, runAs.uid, runAs.gid);
    // cwd: the programs complain when they cannot read the directory they were started in (/root).
    const asServer = { cwd: dir, ...runAs };
    await runCommand(
      join(bin, 'initdb'),
      [
        '-D',
        dataDir,
        '-U',
        user,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ],
      { ...asServer, timeoutMs: 120_000 },
    );

    const started = await retryOnAddressInUse(async () => {
      const port = await freePort();
      const proc = await startProcess({
        name: 'postgres',
        command: join(bin, 'postgres'),
        args: [
          '-D',
          dataDir,
          '-p',
          String(port),
          '-c',
          `listen_addresses=${LOOPBACK}`,
          '-c',
          `unix_socket_directories=${dir}`,
          // Test data: nothing needs to survive a crash.
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
        ],
        ...asServer,
        // SIGINT is the fast shutdown; SIGTERM would wait for every client to disconnect.
        stopSignal: 'SIGINT',
      });
      try {
        await waitUntil(
          `postgres on ${LOOPBACK}:${String(port)}`,
          async () => {
            await runCommand(join(bin, 'pg_isready'), ['-q', '-h', LOOPBACK, '-p', String(port), '-t', '2'], {
              cwd: dir,
              timeoutMs: 5_000,
            });
            return true;
          },
          { timeoutMs, process: proc, intervalMs: 50 },
        );
      } catch (err) {
        await proc.stop();
        throw err;
      }
      return { proc, port };
    });
    server = started.proc;
    const { port } = started;

    // Over TCP with the password, as every client will connect. PGPASSWORD, not argv: ps shows argv.
    await runCommand(join(bin, 'createdb'), ['-h', LOOPBACK, '-p', String(port), '-U', user, '-O', user, database], {
      cwd: dir,
      env: { ...process.env, PGPASSWORD: password },
      timeoutMs: 30_000,
    });

    let stopping: Promise<void> | undefined;
    return {
      host: LOOPBACK,
      port,
      user,
      password,
      database,
      url: `postgres://${user}:${encodeURIComponent(password)}@${LOOPBACK}:${String(port)}/${database}`,
      stop: () => (stopping ??= stop()),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
