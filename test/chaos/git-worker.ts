// A child process for the chaos scenarios: what the controller does with Git, in a process the
// scenario may SIGKILL or starve of memory.
//   steps <storeDir> <url> <user> <password> <from> <to>   commit steps from..to (one per problem uid),
//                                                           each idempotent by its trailers
//   read  <storeDir> <url> <user> <password> <path>        read a file at the branch head; prints
//                                                           `ok <bytes>` or `refused <reason> <message>`
import { ReboundError } from '../../src/errors.ts';
import { openStore } from '../../src/gitstore/index.ts';

const [mode, dir, url, username, password, ...rest] = process.argv.slice(2);
if (mode === undefined || dir === undefined || url === undefined || username === undefined || password === undefined) {
  process.stderr.write('usage: git-worker.ts steps|read <storeDir> <url> <user> <password> ...\n');
  process.exit(2);
}
const store = await openStore({
  dir,
  url,
  auth: { username, password },
  author: { name: 'Rebound', email: 'rebound@example.invalid' },
  backoffMs: 5,
  maxAttempts: 20,
});
try {
  if (mode === 'steps') {
    const from = Number(rest[0]);
    const to = Number(rest[1]);
    for (let i = from; i <= to; i += 1) {
      const uid = `chaos-${i}`;
      await store.commitEdit('production', {
        path: 'carts/values.yaml',
        since: new Date(Date.now() - 3_600_000),
        edit: (text) => ({ text: `${text.trimEnd()}\n# step ${uid}\n`, summary: `step ${uid}` }),
        message: `rebound: step ${uid}`,
        trailers: {
          problem: { namespace: 'chaos', name: uid, uid },
          attempt: 1,
          action: { action: 'scale', value: '+1' },
        },
      });
      process.stdout.write(`committed ${uid}\n`);
    }
  } else if (mode === 'read') {
    try {
      const file = await store.readFile('production', rest[0] ?? '');
      process.stdout.write(`ok ${file?.text.length ?? -1}\n`);
    } catch (err) {
      if (!(err instanceof ReboundError)) throw err;
      process.stdout.write(`refused ${err.reason} ${err.message}\n`);
    }
  }
} finally {
  store.close();
}
