// A real Unleash (unleash-server from npm, pinned in test/unleash/package.json and installed by
// `make setup`) on loopback, with its own throw-away PostgreSQL. Unleash creates its schema on start
// (migrations), and an admin API token we choose, so a test can use the admin API at once.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReboundError } from '../../src/errors.ts';
import { LOOPBACK, freePort, retryOnAddressInUse } from './ports.ts';
import { type LocalPostgres, startPostgres } from './postgres.ts';
import { type ManagedProcess, httpOk, startProcess, waitUntil } from './process.ts';

export interface StartUnleashOptions {
  /** Per step: PostgreSQL, then Unleash until /health answers (default 120 s: migrations run first). */
  startTimeoutMs?: number;
}

export interface LocalUnleash {
  /** http://127.0.0.1:PORT */
  url: string;
  /** An admin API token (`*:*.<secret>`): every project, every environment. */
  adminToken: string;
  /** How long each part took to become ready, for the figures in docs/testing.md. */
  startupMs: { postgres: number; unleash: number };
  /** Stops Unleash, then PostgreSQL, and removes their files. Idempotent. */
  stop(): Promise<void>;
}

const UNLEASH_DIR = join(import.meta.dirname, '..', 'unleash');
const LAUNCHER = join(UNLEASH_DIR, 'start-unleash.js');

async function readVersion(packageJson: string, dependency?: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await readFile(packageJson, 'utf8')) as {
      version?: string;
      dependencies?: Record<string, string>;
    };
    return dependency === undefined ? parsed.version : parsed.dependencies?.[dependency];
  } catch {
    return undefined;
  }
}

/** Fails with what to run when test/unleash/node_modules is missing or holds another version. */
async function assertInstalled(): Promise<void> {
  const wanted = await readVersion(join(UNLEASH_DIR, 'package.json'), 'unleash-server');
  const installed = await readVersion(join(UNLEASH_DIR, 'node_modules', 'unleash-server', 'package.json'));
  if (installed !== undefined && installed === wanted) return;
  const found = installed === undefined ? 'is not installed' : `is ${installed}, not ${String(wanted)}`;
  throw new ReboundError(
    `unleash-server in ${join(UNLEASH_DIR, 'node_modules')} ${found}. Run \`make setup\` (or \`make unleash\`).`,
    { code: 'ToolMissing', retryable: false },
  );
}

/** Starts PostgreSQL, then Unleash on a free loopback port; resolves once Unleash's /health answers. */
export async function startUnleash(options: StartUnleashOptions = {}): Promise<LocalUnleash> {
  await assertInstalled();
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const adminToken = `*:*.${randomBytes(24).toString('hex')}`;

  const postgresStart = performance.now();
  const postgres: LocalPostgres = await startPostgres({
    database: 'unleash',
    user: 'unleash',
    startTimeoutMs: timeoutMs,
  });
  const postgresMs = Math.round(performance.now() - postgresStart);

  let server: ManagedProcess | undefined;
  const stop = async (): Promise<void> => {
    await server?.stop();
    await postgres.stop();
  };
  try {
    const unleashStart = performance.now();
    const started = await retryOnAddressInUse(async () => {
      const port = await freePort();
      const url = `http://${LOOPBACK}:${String(port)}`;
      const proc = await startProcess({
        name: 'unleash',
        // The Node that runs us: Unleash 8 needs Node 22 or newer, and Rebound's is 24.
        command: process.execPath,
        args: [LAUNCHER],
        cwd: UNLEASH_DIR,
        env: {
          ...process.env,
          // vitest sets NODE_ENV=test, which switches Unleash into its own test mode.
          NODE_ENV: 'production',
          DATABASE_URL: postgres.url,
          UNLEASH_PORT: String(port),
          INIT_ADMIN_API_TOKENS: adminToken,
        },
      });
      try {
        await waitUntil('unleash /health', () => httpOk(`${url}/health`), {
          timeoutMs,
          process: proc,
          intervalMs: 200,
        });
      } catch (err) {
        await proc.stop();
        throw err;
      }
      return { proc, url };
    });
    server = started.proc;
    const unleashMs = Math.round(performance.now() - unleashStart);

    let stopping: Promise<void> | undefined;
    return {
      url: started.url,
      adminToken,
      startupMs: { postgres: postgresMs, unleash: unleashMs },
      stop: () => (stopping ??= stop()),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Where Unleash's admin API is and the token it takes. */
export type UnleashAdmin = Pick<LocalUnleash, 'url' | 'adminToken'>;

/**
 * Calls Unleash's admin API with the admin token (tests check Unleash's state through it) and returns
 * the parsed JSON answer, undefined for an empty one; throws on any status outside 2xx.
 */
export async function unleashAdminApi<T>(
  unleash: UnleashAdmin,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const method = init.method ?? 'GET';
  const res = await fetch(`${unleash.url}${path}`, {
    method,
    headers: { Authorization: unleash.adminToken, 'Content-Type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${String(res.status)} ${text}`);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** Creates a kill-switch feature in the default project; Unleash starts it off in every environment. */
export async function createUnleashFeature(unleash: UnleashAdmin, name: string): Promise<void> {
  await unleashAdminApi(unleash, '/api/admin/projects/default/features', {
    method: 'POST',
    body: { name, type: 'kill-switch' },
  });
}

/** Each environment's state of a feature in the default project, as Unleash reports it. */
export async function unleashFeatureStates(unleash: UnleashAdmin, feature: string): Promise<Record<string, boolean>> {
  const body = await unleashAdminApi<{ environments: { name: string; enabled: boolean }[] }>(
    unleash,
    `/api/admin/projects/default/features/${feature}`,
  );
  return Object.fromEntries(body.environments.map((e) => [e.name, e.enabled]));
}
