// A real Git smart-HTTP server on loopback for tests, benchmarks and `make demo`: Git's own
// `git http-backend` (the CGI program GitHub-style hosting is modelled on), spawned per request behind
// a small Node HTTP server that adds HTTP Basic authentication. Nothing here imitates Git: every
// fetch and push is answered by the same code that serves production Git hosts.
import { spawn } from 'node:child_process';
import { timingSafeEqual, randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const HTTP_BACKEND = process.env.REBOUND_GIT_HTTP_BACKEND ?? '/usr/lib/git-core/git-http-backend';
const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface GitServerOptions {
  username?: string;
  password?: string;
  /** Directory holding the bare repositories; a fresh temporary one (removed on stop) by default. */
  root?: string;
  /** Extra Git configuration for every request (`-c` style), e.g. `{ 'receive.autogc': 'false' }`. */
  config?: Record<string, string>;
  /**
   * Faults for tests, asked per authenticated request by its kind (`info/refs`, `git-receive-pack`...):
   * `drop` cuts the connection before Git sees the request (a push that never landed), `drop-answer`
   * lets Git carry it out and cuts the connection instead of answering (a push that landed, its answer
   * lost), `503` answers Service Unavailable without running Git; undefined serves it.
   */
  fault?: (kind: string) => GitFault | undefined;
}

export type GitFault = 'drop' | 'drop-answer' | '503';

/** How to fill a new repository: a directory (a Git repository is mirrored, a plain tree becomes one
 * commit on `main`) or a function that writes into the bare repository. */
export type RepoSeed = string | ((gitDir: string) => Promise<void>);

export interface GitServerStats {
  requests: number;
  /** Request body bytes received (push payloads and fetch negotiations). */
  bytesReceived: number;
  /** Request counts by kind: `info/refs`, `git-upload-pack`, `git-receive-pack`, `denied`, `other`. */
  byKind: Record<string, number>;
}

export interface GitServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  username: string;
  password: string;
  root: string;
  createRepo(name: string, seed?: RepoSeed): Promise<{ url: string; dir: string }>;
  /** The bare repository directory of a repository created here. */
  repoDir(name: string): string;
  stats(): GitServerStats;
  resetStats(): void;
  stop(): Promise<void>;
}

export async function startGitServer(options: GitServerOptions = {}): Promise<GitServer> {
  const username = options.username ?? 'rebound';
  const password = options.password ?? randomBytes(12).toString('hex');
  const ownsRoot = options.root === undefined;
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'rebound-git-')));
  const expectedAuth = Buffer.from(`Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`);

  // Pushes are enabled for every repository without touching its config.
  const gitConfig = { 'http.receivepack': 'true', ...options.config };
  let stats = emptyStats();
  const children = new Set<ReturnType<typeof spawn>>();

  const server = createServer((req, res) => {
    stats.requests += 1;
    if (!authorized(req.headers.authorization, expectedAuth)) {
      count(stats, 'denied');
      req.resume();
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="rebound-git"', 'Content-Type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    const kind = requestKind(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    const fault = options.fault?.(kind);
    if (fault === 'drop') {
      count(stats, kind);
      req.socket.destroy();
      return;
    }
    if (fault === '503') {
      count(stats, kind);
      req.resume();
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end('unavailable\n');
      return;
    }
    serveCgi(req, res, root, username, children, stats, gitConfig, fault === 'drop-answer');
  });
  // Idle connections stay open as long as a hosting front end keeps them (nginx: 75 s). With 5 s, a
  // client whose event loop lags more than Node's 1 s margin under a storm's load reuses a socket the
  // server is closing, and the request fails with "socket hang up".
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const repoDir = (name: string): string => {
    if (!REPO_NAME.test(name)) throw new Error(`invalid repository name ${JSON.stringify(name)}`);
    return join(root, name.endsWith('.git') ? name : `${name}.git`);
  };

  return {
    url,
    username,
    password,
    root,
    repoDir,
    async createRepo(name, seed) {
      const dir = repoDir(name);
      await createBareRepo(dir, seed);
      return { url: `${url}/${name.endsWith('.git') ? name : `${name}.git`}`, dir };
    },
    stats: () => ({ ...stats, byKind: { ...stats.byKind } }),
    resetStats: () => {
      stats = emptyStats();
    },
    async stop() {
      for (const child of children) child.kill('SIGKILL');
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      if (ownsRoot) await rm(root, { recursive: true, force: true });
    },
  };
}

function emptyStats(): GitServerStats {
  return { requests: 0, bytesReceived: 0, byKind: {} };
}

function count(stats: GitServerStats, kind: string): void {
  stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
}

function authorized(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined) return false;
  const given = Buffer.from(header);
  // Constant time: a password compared byte by byte leaks its prefix through timing.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function requestKind(path: string): string {
  if (path.endsWith('/info/refs')) return 'info/refs';
  if (path.endsWith('/git-upload-pack')) return 'git-upload-pack';
  if (path.endsWith('/git-receive-pack')) return 'git-receive-pack';
  return 'other';
}

function serveCgi(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  user: string,
  children: Set<ReturnType<typeof spawn>>,
  stats: GitServerStats,
  config: Record<string, string>,
  dropAnswer = false,
): void {
  const target = new URL(req.url ?? '/', 'http://127.0.0.1');
  const pathInfo = decodeURIComponent(target.pathname);
  if (pathInfo.split('/').includes('..')) {
    res.writeHead(400).end('bad path\n');
    return;
  }
  count(stats, requestKind(pathInfo));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    REMOTE_USER: user,
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: pathInfo,
    QUERY_STRING: target.search.startsWith('?') ? target.search.slice(1) : '',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    GIT_CONFIG_COUNT: String(Object.keys(config).length),
  };
  Object.entries(config).forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  if (req.headers['content-length'] !== undefined) env.CONTENT_LENGTH = req.headers['content-length'];
  const encoding = req.headers['content-encoding'];
  // http-backend inflates gzip request bodies itself when told the encoding.
  if (encoding !== undefined) env.HTTP_CONTENT_ENCODING = encoding;
  const protocol = req.headers['git-protocol'];
  if (typeof protocol === 'string') env.GIT_PROTOCOL = protocol;

  const child = spawn(HTTP_BACKEND, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString();
  });
  req.on('data', (chunk: Buffer) => {
    stats.bytesReceived += chunk.length;
  });
  req.pipe(child.stdin);
  child.stdin.on('error', () => undefined); // the backend may exit before reading a rejected body

  let head = Buffer.alloc(0);
  let headersSent = false;
  if (dropAnswer) {
    // Git does all its work; the caller only sees its connection cut.
    child.stdout.resume();
    child.on('error', () => req.socket.destroy());
    child.on('close', () => {
      children.delete(child);
      req.socket.destroy();
    });
    return;
  }
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const split = findHeaderEnd(head);
    if (split === undefined) return;
    const { status, headers } = parseCgiHeaders(head.subarray(0, split.at).toString('latin1'));
    res.writeHead(status, headers);
    headersSent = true;
    const rest = head.subarray(split.at + split.length);
    if (rest.length > 0) res.write(rest);
  });
  child.on('error', (err) => {
    children.delete(child);
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end(`git http-backend failed: ${err.message}\n`);
  });
  child.on('close', (code) => {
    children.delete(child);
    if (!headersSent) {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`git http-backend exited with ${String(code)}: ${stderr}`);
      return;
    }
    res.end();
  });
}

function findHeaderEnd(buf: Buffer): { at: number; length: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 };
  if (lf >= 0) return { at: lf, length: 2 };
  return undefined;
}

function parseCgiHeaders(text: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers };
}

async function createBareRepo(dir: string, seed: RepoSeed | undefined): Promise<void> {
  if (typeof seed === 'string') {
    const source = resolve(seed);
    if (await isGitRepository(source)) {
      await runGit(['clone', '--quiet', '--mirror', source, dir]);
      return;
    }
    await runGit(['init', '--quiet', '--bare', '--initial-branch=main', dir]);
    await commitTree(source, dir);
    return;
  }
  await runGit(['init', '--quiet', '--bare', '--initial-branch=main', dir]);
  if (seed !== undefined) await seed(dir);
}

async function isGitRepository(dir: string): Promise<boolean> {
  try {
    await stat(join(dir, '.git'));
    return true;
  } catch {
    try {
      await stat(join(dir, 'HEAD'));
      await stat(join(dir, 'objects'));
      return true;
    } catch {
      return false;
    }
  }
}

/** One commit on `main` holding every file of a plain directory tree. */
async function commitTree(source: string, gitDir: string): Promise<void> {
  const index = join(gitDir, 'seed-index');
  const env = { GIT_DIR: gitDir, GIT_WORK_TREE: source, GIT_INDEX_FILE: index };
  await runGit(['add', '--all', '.'], { env, cwd: source });
  const tree = (await runGit(['write-tree'], { env, cwd: source })).trim();
  const commit = (await runGit(['commit-tree', tree, '-m', 'Initial content'], { env, cwd: source })).trim();
  await runGit(['update-ref', 'refs/heads/main', commit], { env });
  await rm(index, { force: true });
}

export interface RunGitOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Written to the command's stdin. */
  input?: string | Buffer;
}

/** Runs the native git CLI with an argument array (never a shell) and returns its stdout. */
export function runGit(args: string[], options: RunGitOptions = {}): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: {
        ...process.env,
        GIT_TERMINAL_PROMPT: '0',
        GIT_AUTHOR_NAME: 'Rebound Seeder',
        GIT_AUTHOR_EMAIL: 'seeder@rebound.invalid',
        GIT_COMMITTER_NAME: 'Rebound Seeder',
        GIT_COMMITTER_EMAIL: 'seeder@rebound.invalid',
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolveRun(Buffer.concat(out).toString());
      else
        reject(new Error(`git ${args[0] ?? ''} exited with ${String(code)}: ${Buffer.concat(err).toString().trim()}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}
