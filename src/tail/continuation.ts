import type { Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isCompressedPath } from '../discovery/patterns.js';
import type { FileCheckpoint } from '../state/checkpoint-store.js';
import { readCompressedHead } from './compressed-reader.js';
import { headMatches, readHead } from './fingerprint.js';
import { compareWithCheckpoint, isSiblingCopyName, type OpenedFile } from './identity.js';
import { inodeKey } from './tracked-file.js';

/** Maximum entries of `CompressedHeadCache` (at most 1 KiB each); the oldest goes first. */
const HEAD_CACHE_ENTRIES = 512;

/** A `.gz` file whose decompressed first bytes match a checkpoint's fingerprint. */
export interface CompressedCandidate {
  path: string;
  dev: number;
  ino: number;
}

/**
 * Result of a search for a checkpoint's file. `plain` is a file that continues it: the same
 * inode under another name, or a copy with the same bytes up to the offset. `compressed` lists
 * `.gz` files that may continue it, because their tail check is verified only while streaming.
 * `truncated` is true when the checkpoint's inode is still there but was cut or rewritten.
 */
export interface ContinuationSearch {
  plain: { kind: 'renamed' | 'copy'; file: OpenedFile } | null;
  compressed: CompressedCandidate[];
  /**
   * Plain siblings that start with the checkpoint's fingerprinted bytes but end before its
   * offset: copies taken before reading went past them, so every byte of them was read.
   */
  shorterCopies: string[];
  truncated: boolean;
  /** True when the directory could not be listed (missing, not mounted yet, no permission). */
  unlisted: boolean;
}

/**
 * Decompressed first bytes of `.gz` files, keyed by inode, size and mtime so a file that
 * changes is read again.
 */
export class CompressedHeadCache {
  private readonly heads = new Map<string, Buffer | null>();

  async get(path: string, stats: Stats): Promise<Buffer | null> {
    const key = `${inodeKey(stats.dev, stats.ino)}:${stats.size}:${stats.mtimeMs}`;
    if (this.heads.has(key)) return this.heads.get(key) ?? null;
    const head = await readCompressedHead(path);
    if (this.heads.size >= HEAD_CACHE_ENTRIES) {
      const oldest = this.heads.keys().next().value;
      if (oldest !== undefined) this.heads.delete(oldest);
    }
    this.heads.set(key, head);
    return head;
  }
}

/**
 * Opens a plain file and reads what identification needs; null when it is not a regular file.
 * Rejects with the error of `open` (ENOENT, EACCES, ...).
 */
export async function openForIdentity(path: string): Promise<OpenedFile | null> {
  const handle = await open(path, 'r');
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      await handle.close();
      return null;
    }
    const head = await readHead(handle, stats.size);
    return { path, handle, dev: stats.dev, ino: stats.ino, size: stats.size, head };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Files that belong to other checkpoints: open files by inode, and the other checkpoints
 * without an open file by their last inode (which may have been reused by another file since).
 */
export interface Claims {
  live: ReadonlySet<string>;
  dormant: ReadonlyMap<string, readonly FileCheckpoint[]>;
  /** Files seen to be byte-for-byte copies of a live file's start, by inode. */
  copies: ReadonlyMap<string, SeenCopy>;
}

/** A file whose bytes were compared equal to the start of a live file, and its size then. */
export interface SeenCopy {
  key: string;
  size: number;
}

/**
 * Searches the directory of a checkpoint's last path for the file's continuation, skipping
 * files of other checkpoints. Only the file's own inode is considered for a checkpoint of an
 * empty file, whose fingerprint would match any copy.
 */
export async function searchContinuation(
  checkpoint: FileCheckpoint,
  claims: Claims,
  heads: CompressedHeadCache
): Promise<ContinuationSearch> {
  const search: ContinuationSearch = {
    plain: null,
    compressed: [],
    shorterCopies: [],
    truncated: false,
    unlisted: false,
  };
  const dir = dirname(checkpoint.path);
  const names = await readdir(dir).catch(() => null);
  if (names === null) {
    search.unlisted = true;
    return search;
  }
  const entries: { path: string; stats: Stats }[] = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    const stats = await stat(path).catch(() => null);
    if (stats?.isFile()) entries.push({ path, stats });
  }
  const own = inodeKey(checkpoint.dev, checkpoint.ino);

  // An inode that another open file has now was reused: it is not this checkpoint's file.
  const renamed = claims.live.has(own)
    ? undefined
    : entries.find(
        ({ path, stats }) => inodeKey(stats.dev, stats.ino) === own && !isCompressedPath(path)
      );
  if (renamed) {
    const found = await matchPlain(renamed.path, checkpoint);
    if (found.file) {
      search.plain = { kind: 'renamed', file: found.file };
      return search;
    }
    search.truncated = found.match === 'truncated';
  }
  if (checkpoint.fingerprint.length === 0) return search;

  for (const { path, stats } of entries) {
    const inode = inodeKey(stats.dev, stats.ino);
    if (inode === own || claims.live.has(inode) || isCompressedPath(path)) continue;
    if (!isSiblingCopyName(path, checkpoint.path)) continue;
    if (stats.size < checkpoint.offset) {
      const seen = claims.copies.get(inode);
      const seenWhole = seen?.key === checkpoint.key && seen.size === stats.size;
      if (seenWhole || (await isShorterCopy(path, checkpoint, claims))) {
        search.shorterCopies.push(path);
      }
      continue;
    }
    const found = await matchPlain(path, checkpoint);
    if (found.file === null) continue;
    if (await isClaimedPlain(found.file, claims.dormant.get(inode))) {
      await found.file.handle.close();
      continue;
    }
    search.plain = { kind: 'copy', file: found.file };
    return search;
  }

  for (const { path, stats } of entries) {
    const inode = inodeKey(stats.dev, stats.ino);
    if (!isCompressedPath(path) || (inode !== own && claims.live.has(inode))) continue;
    const head = await heads.get(path, stats);
    if (head === null || !headMatches(head, checkpoint.fingerprint)) continue;
    const claimants = inode === own ? [] : (claims.dormant.get(inode) ?? []);
    const claimed = claimants.some(
      (other) => other.fingerprint.length > 0 && headMatches(head, other.fingerprint)
    );
    if (claimed) continue;
    const candidate = { path, dev: stats.dev, ino: stats.ino };
    // The generation the checkpoint already names goes first.
    if (inode === own) search.compressed.unshift(candidate);
    else search.compressed.push(candidate);
  }
  return search;
}

/** True when a non-empty file starts with a checkpoint's fingerprinted bytes and is no other's. */
async function isShorterCopy(
  path: string,
  checkpoint: FileCheckpoint,
  claims: Claims
): Promise<boolean> {
  const file = await openForIdentity(path).catch(() => null);
  if (file === null) return false;
  try {
    if (file.size === 0 || !headMatches(file.head, checkpoint.fingerprint)) return false;
    return !(await isClaimedPlain(file, claims.dormant.get(inodeKey(file.dev, file.ino))));
  } finally {
    await file.handle.close();
  }
}

/** True when a plain file still is the file of one of the checkpoints that name its inode. */
async function isClaimedPlain(
  file: OpenedFile,
  claimants: readonly FileCheckpoint[] | undefined
): Promise<boolean> {
  for (const other of claimants ?? []) {
    // A checkpoint of an empty file matches any content, so it proves no claim.
    if (other.fingerprint.length === 0) continue;
    if ((await compareWithCheckpoint(file, other)) === 'same') return true;
  }
  return false;
}

/** Tells whether `path` still exists as the same inode. */
export async function leadsTo(path: string, dev: number, ino: number): Promise<boolean> {
  const stats = await stat(path).catch(() => null);
  return stats !== null && stats.dev === dev && stats.ino === ino;
}

async function matchPlain(
  path: string,
  checkpoint: FileCheckpoint
): Promise<{ file: OpenedFile | null; match: 'same' | 'truncated' | 'other' }> {
  const file = await openForIdentity(path).catch(() => null);
  if (file === null) return { file: null, match: 'other' };
  const match = await compareWithCheckpoint(file, checkpoint);
  if (match === 'same') return { file, match };
  await file.handle.close();
  return { file: null, match };
}
