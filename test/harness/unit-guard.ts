// Vitest set-up for the unit project: a unit test stays inside the test process. Starting a child
// process, listening on a socket or watching the file system fails here and names the `io` project
// (vitest.config.ts), so the split between the two cannot drift as tests are added.
import childProcess from 'node:child_process';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { afterAll } from 'vitest';

const refuse = (what: string) => (): never => {
  throw new Error(`unit tests do not ${what}: list this file under IO in vitest.config.ts (the io project)`);
};

const spawning = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;
const saved = {
  childProcess: Object.fromEntries(spawning.map((name) => [name, childProcess[name]])),
  listen: Object.getOwnPropertyDescriptor(net.Server.prototype, 'listen'),
  watch: fs.watch,
  watchFile: fs.watchFile,
};

for (const name of spawning) Object.assign(childProcess, { [name]: refuse('start child processes') });
net.Server.prototype.listen = refuse('listen on sockets');
fs.watch = refuse('watch the file system');
fs.watchFile = refuse('watch the file system');
// ESM importers (`import { spawn } from 'node:child_process'`) see the replaced functions too.
syncBuiltinESMExports();

afterAll(() => {
  Object.assign(childProcess, saved.childProcess);
  if (saved.listen) Object.defineProperty(net.Server.prototype, 'listen', saved.listen);
  fs.watch = saved.watch;
  fs.watchFile = saved.watchFile;
  syncBuiltinESMExports();
});
