// Git objects in memory: ids, tree entries and commits, byte for byte as Git writes them, so the
// store can build exactly the objects a one-line change needs without isomorphic-git's porcelain
// (which rebuilds every tree from an index: O(files) per commit).
import { createHash } from 'node:crypto';

export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';

export interface GitObject {
  type: ObjectType;
  oid: string;
  content: Buffer;
}

export function hashObject(type: ObjectType, content: Buffer): string {
  return createHash('sha1').update(`${type} ${content.length}\0`).update(content).digest('hex');
}

export function makeObject(type: ObjectType, content: Buffer): GitObject {
  return { type, oid: hashObject(type, content), content };
}

export interface TreeEntry {
  mode: string;
  name: string;
  oid: string;
}

export const TREE_MODE = '40000';

export function parseTree(content: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let offset = 0;
  while (offset < content.length) {
    const space = content.indexOf(0x20, offset);
    const nul = content.indexOf(0, space + 1);
    if (space < 0 || nul < 0 || nul + 21 > content.length) throw new Error('malformed tree object');
    entries.push({
      mode: content.toString('latin1', offset, space),
      name: content.toString('utf8', space + 1, nul),
      oid: content.toString('hex', nul + 1, nul + 21),
    });
    offset = nul + 21;
  }
  return entries;
}

export function serializeTree(entries: readonly TreeEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of [...entries].sort(compareTreeEntries)) {
    parts.push(Buffer.from(`${entry.mode} ${entry.name}\0`), Buffer.from(entry.oid, 'hex'));
  }
  return Buffer.concat(parts);
}

/** Git orders tree entries by name, comparing a directory as if its name ended with `/`. */
export function compareTreeEntries(a: TreeEntry, b: TreeEntry): number {
  const ka = Buffer.from(a.mode === TREE_MODE ? `${a.name}/` : a.name);
  const kb = Buffer.from(b.mode === TREE_MODE ? `${b.name}/` : b.name);
  return Buffer.compare(ka, kb);
}

export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  timestamp: number;
}

export interface CommitFields {
  tree: string;
  parents: string[];
  author: Signature;
  committer: Signature;
  message: string;
}

export function serializeCommit(commit: CommitFields): Buffer {
  const lines = [`tree ${commit.tree}`];
  for (const parent of commit.parents) lines.push(`parent ${parent}`);
  lines.push(`author ${signature(commit.author)}`, `committer ${signature(commit.committer)}`);
  const message = commit.message.endsWith('\n') ? commit.message : `${commit.message}\n`;
  return Buffer.from(`${lines.join('\n')}\n\n${message}`);
}

function signature(who: Signature): string {
  // Angle brackets and newlines would corrupt the header line.
  const clean = (text: string): string => text.replace(/[<>\n]/g, '').trim();
  return `${clean(who.name)} <${clean(who.email)}> ${who.timestamp} +0000`;
}

export interface ParsedCommit {
  tree: string;
  parents: string[];
  /** Committer time, seconds since the epoch. */
  time: number;
  message: string;
  /** `Name <email>` of the author. */
  author?: string;
}

export function parseCommit(content: Buffer): ParsedCommit {
  const text = content.toString('utf8');
  const split = text.indexOf('\n\n');
  const header = split < 0 ? text : text.slice(0, split);
  const message = split < 0 ? '' : text.slice(split + 2);
  let tree = '';
  let time = 0;
  let author: string | undefined;
  const parents: string[] = [];
  for (const line of header.split('\n')) {
    if (line.startsWith('tree ')) tree = line.slice(5);
    else if (line.startsWith('author ')) author = line.slice(7).replace(/ \d+ [+-]\d{4}$/, '');
    else if (line.startsWith('parent ')) parents.push(line.slice(7));
    else if (line.startsWith('committer ')) {
      const match = / (\d+) [+-]\d{4}$/.exec(line);
      if (match?.[1] !== undefined) time = Number(match[1]);
    }
  }
  if (!/^[0-9a-f]{40}$/.test(tree)) throw new Error('malformed commit object');
  return { tree, parents, time, message, ...(author === undefined ? {} : { author }) };
}

export interface FoundTreeEntry {
  mode: string;
  oid: string;
  /** Where the entry's 20-byte id sits in the tree's content. */
  oidOffset: number;
}

/** Finds one entry in a tree's raw content without parsing the others into objects: a stage with
 * 2,000 services has a 2,000-entry root tree, read on every step. */
export function findTreeEntry(content: Buffer, name: string): FoundTreeEntry | undefined {
  const wanted = Buffer.from(name);
  let offset = 0;
  while (offset < content.length) {
    const space = content.indexOf(0x20, offset);
    const nul = space < 0 ? -1 : content.indexOf(0, space + 1);
    if (space < 0 || nul < 0 || nul + 21 > content.length) throw new Error('malformed tree object');
    if (nul - space - 1 === wanted.length && content.compare(wanted, 0, wanted.length, space + 1, nul) === 0) {
      return {
        mode: content.toString('latin1', offset, space),
        oid: content.toString('hex', nul + 1, nul + 21),
        oidOffset: nul + 1,
      };
    }
    offset = nul + 21;
  }
  return undefined;
}

/** The same tree with one entry pointing at a new object: names and order are unchanged. */
export function withEntryOid(content: Buffer, oidOffset: number, oid: string): Buffer {
  const out = Buffer.from(content);
  out.write(oid, oidOffset, 20, 'hex');
  return out;
}
