// Writes crds/*.yaml from src/api/schemas.ts. Run: `node src/api/generate-crds.ts [outDir]`.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUP } from './constants.ts';
import { renderCrdFiles } from './crds.ts';

export const DEFAULT_CRD_DIR = fileURLToPath(new URL('../../crds/', import.meta.url));

export async function writeCrds(outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const files = renderCrdFiles();
  // Remove CRDs of resources that no longer exist, so crds/ mirrors the schemas exactly.
  for (const name of await readdir(outDir)) {
    if (name.startsWith(`${GROUP}_`) && name.endsWith('.yaml') && !files.has(name)) await rm(join(outDir, name));
  }
  for (const [name, text] of files) await writeFile(join(outDir, name), text);
  return [...files.keys()];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outDir = process.argv[2] ?? DEFAULT_CRD_DIR;
  const written = await writeCrds(outDir);
  for (const name of written) process.stdout.write(`wrote ${join(outDir, name)}\n`);
}
