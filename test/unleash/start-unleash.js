// Starts unleash-server (test/unleash/node_modules) for Rebound's tests: test/harness/unleash.ts runs
// this file with the Node that runs the tests. It listens on 127.0.0.1 only and talks to nobody
// outside: no version check, no telemetry.
//
// Environment (set by startUnleash):
//   DATABASE_URL           postgres://user:password@127.0.0.1:port/database (no TLS)
//   UNLEASH_PORT           port to listen on
//   INIT_ADMIN_API_TOKENS  `*:*.<secret>`: read by Unleash itself, created when the database has no tokens
import process from 'node:process';
import { LogLevel, start } from 'unleash-server';

function required(name) {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`start-unleash.js: ${name} is not set`);
  return value;
}

const port = Number(required('UNLEASH_PORT'));
// createConfig reads `options.telemetry || SEND_TELEMETRY (default true)`: `telemetry: false` alone
// would not turn it off.
process.env.SEND_TELEMETRY = 'false';

await start({
  databaseUrl: required('DATABASE_URL'),
  // Unleash asks for TLS by default; the local PostgreSQL has none.
  db: { ssl: false },
  server: { host: '127.0.0.1', port, unleashUrl: `http://127.0.0.1:${String(port)}` },
  versionCheck: { enable: false },
  telemetry: false,
  logLevel: LogLevel.warn,
});
