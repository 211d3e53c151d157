#!/usr/bin/env node
// Runs the compiled CLI when `make build` has produced dist/, otherwise the TypeScript sources
// directly (Node 24 strips types natively; this only works outside node_modules).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
const entry = existsSync(fileURLToPath(compiled)) ? compiled : new URL('../src/cli/main.ts', import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
