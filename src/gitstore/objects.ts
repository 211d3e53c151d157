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

/** Where each entry of a tree's raw content sits, in order: `<mode> <name>\0<20-byte id>`. */
function* rawTreeEntries(content: Buffer): Generator<{ start: number; space: number; nul: number }> {
  let offset = 0;
  while (offset < content.length) {
    const space = content.indexOf(0x20, offset);
    const nul = space < 0 ? -1 : content.indexOf(0, space + 1);
    if (space < 0 || nul < 0 || nul + 21 > content.length) throw new Error('malformed tree object');
    yield { start: offset, space, nul };
    offset = nul + 21;
  }
}

export function parseTree(content: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const { start, space, nul } of rawTreeEntries(content)) {
    entries.push({
      mode: content.toString('latin1', start, space),
      name: content.toString('utf8', space + 1, nul),
      oid: content.toString('hex', nul + 1, nul + 21),
    });
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
  /** `Name <email>` of the author. */
  author?: string;
  message: string;
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
    else if (line.startsWith('parent ')) parents.push(line.slice(7));
    else if (line.startsWith('author ')) author = /^author (.*) \d+ [+-]\d{4}$/.exec(line)?.[1] ?? line.slice(7);
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
  for (const { start, space, nul } of rawTreeEntries(content)) {
    if (nul - space - 1 === wanted.length && content.compare(wanted, 0, wanted.length, space + 1, nul) === 0) {
      return {
        mode: content.toString('latin1', start, space),
        oid: content.toString('hex', nul + 1, nul + 21),
        oidOffset: nul + 1,
      };
    }
  }
  return undefined;
}

/** A tree's entries by name: where each one's mode is and its id sits. */
type TreeNames = Map<string, { mode: string; oidOffset: number }>;

/** Smaller trees (about 64 entries) are scanned: an index pays off only for large ones read again and again. */
const INDEXED_TREE_BYTES = 2_048;

/**
 * findTreeEntry for trees read again and again: a storm over a stage of 1,000 services finds its
 * way through the same 1,000-entry root tree on every commit. A large tree's names are indexed once,
 * and a tree rewritten with one new entry id (withEntryOid) keeps its names and offsets, so it takes
 * the index of the tree it was made from. Bounded: the oldest index goes first.
 */
export class TreeEntryFinder {
  readonly #byTree = new Map<string, TreeNames>();
  readonly #max: number;

  constructor(maxTrees = 64) {
    this.#max = maxTrees;
  }

  find(tree: GitObject, name: string): FoundTreeEntry | undefined {
    if (tree.content.length < INDEXED_TREE_BYTES) return findTreeEntry(tree.content, name);
    const names = this.#byTree.get(tree.oid) ?? this.#index(tree);
    // Names are keyed byte for byte (latin1), as findTreeEntry compares them.
    const entry = names.get(Buffer.from(name).toString('latin1'));
    if (entry === undefined) return undefined;
    const oid = tree.content.toString('hex', entry.oidOffset, entry.oidOffset + 20);
    return { mode: entry.mode, oid, oidOffset: entry.oidOffset };
  }

  /** `rewritten` is `original` with one entry's id replaced. */
  inherit(original: string, rewritten: string): void {
    const names = this.#byTree.get(original);
    if (names !== undefined) this.#remember(rewritten, names);
  }

  #index(tree: GitObject): TreeNames {
    const names: TreeNames = new Map();
    const content = tree.content;
    for (const { start, space, nul } of rawTreeEntries(content)) {
      names.set(content.toString('latin1', space + 1, nul), {
        mode: content.toString('latin1', start, space),
        oidOffset: nul + 1,
      });
    }
    this.#remember(tree.oid, names);
    return names;
  }

  #remember(oid: string, names: TreeNames): void {
    this.#byTree.delete(oid);
    this.#byTree.set(oid, names);
    if (this.#byTree.size > this.#max) {
      const oldest = this.#byTree.keys().next().value;
      if (oldest !== undefined) this.#byTree.delete(oldest);
    }
  }
}

/** The same tree with one entry pointing at a new object: names and order are unchanged. */
export function withEntryOid(content: Buffer, oidOffset: number, oid: string): Buffer {
  const out = Buffer.from(content);
  out.write(oid, oidOffset, 20, 'hex');
  return out;
}
