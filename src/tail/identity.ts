import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import type { FileCheckpoint } from '../state/checkpoint-store.js';
import {
  FINGERPRINT_MAX_BYTES,
  headMatches,
  readBytesAt,
  readTailBytes,
  TAIL_CHECK_MAX_BYTES,
  tailMatches,
} from './fingerprint.js';
import type { TrackedFile } from './tracked-file.js';

/** A plain file opened for identification: its descriptor, inode and first bytes. */
export interface OpenedFile {
  path: string;
  handle: FileHandle;
  dev: number;
  ino: number;
  size: number;
  /** The first min(size, 1024) bytes. */
  head: Buffer;
}

/**
 * Relation of a file to a checkpoint. `same`: its first bytes hash to the fingerprint and the
 * bytes before the offset to the tail check. `truncated`: its first bytes match, but it is now
 * shorter than the offset or contains other bytes before it. `other`: anything else.
 */
export type CheckpointMatch = 'same' | 'truncated' | 'other';

/** Compares an opened file with a checkpoint; see `CheckpointMatch`. */
export async function compareWithCheckpoint(
  file: OpenedFile,
  checkpoint: FileCheckpoint
): Promise<CheckpointMatch> {
  if (!headMatches(file.head, checkpoint.fingerprint)) return 'other';
  if (file.size < checkpoint.offset) return 'truncated';
  const tail = await readTailBytes(file.handle, checkpoint.offset);
  return tailMatches(tail, checkpoint.tailCheck) ? 'same' : 'truncated';
}

/**
 * Returns the part of a file name that rotated copies start with: the name without its last
 * extension (`app` for `app.log`, `app.log` for `app.log.1`).
 */
export function nameStem(path: string): string {
  const name = basename(path);
  const extension = extname(name);
  return extension.length > 0 && extension.length < name.length
    ? name.slice(0, -extension.length)
    : name;
}

/** True when `candidate` sits next to `original` and its name starts with the original's stem. */
export function isSiblingCopyName(candidate: string, original: string): boolean {
  return (
    dirname(candidate) === dirname(original) &&
    candidate !== original &&
    basename(candidate).startsWith(nameStem(original))
  );
}

/**
 * True when `file` is a copy of the start of a live file: it begins with the live file's
 * fingerprinted bytes, is not longer than it, and its last bytes equal the live file's bytes at
 * the same place. The live file delivers those lines, so reading the copy would send them twice
 * (for example the copy of a `copytruncate` seen before the truncation).
 */
export async function isCopyOfLive(file: OpenedFile, live: TrackedFile): Promise<boolean> {
  const fingerprint = live.checkpoint.fingerprint;
  if (live.handle === null || file.size === 0 || fingerprint.length === 0) return false;
  if (!headMatches(file.head, fingerprint)) return false;
  const liveSize = (await live.handle.stat()).size;
  if (file.size > liveSize) return false;
  const length = Math.min(file.size, TAIL_CHECK_MAX_BYTES);
  const [ours, theirs] = await Promise.all([
    readBytesAt(file.handle, file.size - length, length),
    readBytesAt(live.handle, file.size - length, length),
  ]);
  return ours.length === length && ours.equals(theirs);
}

/**
 * True when all of `file`, shorter than a fingerprint, equals the start of a live file. It may
 * be a copy still being written (a copy starts empty), so it is identified only once it grows
 * past the fingerprint or differs.
 */
export async function isStartOfLive(file: OpenedFile, live: TrackedFile): Promise<boolean> {
  if (live.handle === null || file.size >= FINGERPRINT_MAX_BYTES) return false;
  const theirs = await readBytesAt(live.handle, 0, file.size);
  return theirs.equals(file.head);
}

/**
 * True when the bytes a live file was read through are no longer there: it is shorter than
 * the read position, or contains other bytes just before it.
 */
export async function isTruncated(live: TrackedFile): Promise<boolean> {
  if (live.handle === null) return false;
  const { size } = await live.handle.stat();
  if (size < live.readOffset) return true;
  const tail = await readBytesAt(
    live.handle,
    live.readOffset - live.readTail.length,
    live.readTail.length
  );
  return !tail.equals(live.readTail);
}
