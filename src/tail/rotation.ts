import type { FileCheckpoint } from '../state/checkpoint-store.js';
import { trackNew, trackOpened } from './adoption.js';
import {
  type CompressedStatus,
  readCompressedFile,
  readCompressedSizeHint,
} from './compressed-reader.js';
import { type CompressedCandidate, openForIdentity, searchContinuation } from './continuation.js';
import { readHead } from './fingerprint.js';
import { claimsExcept, type TailRuntime } from './runtime.js';
import { inodeKey, TrackedFile } from './tracked-file.js';

/** ISIZE in a gzip trailer is the decompressed size modulo 2^32. */
const GZIP_SIZE_MODULUS = 2 ** 32;

/**
 * Handles a live file whose bytes under the read position changed: it was truncated in place
 * (`copytruncate`, `> file`) or rewritten. Its copy is read on from the old offset under the
 * old checkpoint. Then the file gets a new checkpoint and is read from 0, because the old
 * key's offsets, and the outbox records that carry them, describe bytes that are gone.
 */
export async function handleTruncation(runtime: TailRuntime, file: TrackedFile): Promise<void> {
  const { registry, logger } = runtime;
  logger.info(
    { file: file.key, path: file.path, offset: file.readOffset, sizeBytes: file.size },
    'Log file was truncated or rewritten; looking for its rotated copy, then reading it from the start.'
  );
  const paths = registry.pathsOf(file);
  registry.remove(file);
  file.clearTimers();
  const recovered = await recoverTruncated(runtime, file.checkpoint, file.inode, file);
  const handle = file.handle!;
  const stats = await handle.stat();
  const head = await readHead(handle, stats.size);
  const opened = {
    path: file.path,
    handle,
    dev: stats.dev,
    ino: stats.ino,
    size: stats.size,
    head,
  };
  const successor = await trackNew(runtime, opened, 0, paths);
  if (!recovered) {
    // No copy took the processor over: forget its half-assembled record and reuse it.
    file.processor.reset();
    successor.processor = file.processor;
  }
}

/**
 * Finds and reads the copy of a truncated file's checkpoint: a plain copy is followed from the
 * offset, a `.gz` copy is streamed now. When `reader` is given (the live file that was
 * truncated), its processor and read position carry over, so a half-assembled record goes
 * on. Returns false, dropping the checkpoint, when no copy contains the bytes before the offset.
 * NOTE: a file cut back to a non-zero size is then read again from offset 0, so the prefix it
 * kept is sent a second time. Only a cut to zero, or a rewrite, is free of repeats.
 */
export async function recoverTruncated(
  runtime: TailRuntime,
  checkpoint: FileCheckpoint,
  truncatedInode: string,
  reader?: TrackedFile
): Promise<boolean> {
  const claims = claimsExcept(runtime, checkpoint.key);
  const live = new Set(claims.live).add(truncatedInode);
  const search = await searchContinuation(checkpoint, { ...claims, live }, runtime.heads);
  const plain = search.plain;
  if (plain !== null) {
    const moved = repoint(checkpoint, plain.file.path, plain.file.dev, plain.file.ino);
    const copy = await trackOpened(
      runtime,
      moved,
      plain.file,
      followablePaths(runtime, moved.path)
    );
    if (reader) inheritReader(copy, reader);
    logCopyFound(runtime, moved);
    return true;
  }
  for (const candidate of search.compressed) {
    const status = await readGeneration(runtime, checkpoint, candidate, reader);
    if (status === 'mismatch') continue;
    logCopyFound(runtime, repoint(checkpoint, candidate.path, candidate.dev, candidate.ino));
    return true;
  }
  if (search.shorterCopies.length > 0) {
    await markCopiesRead(runtime, checkpoint, search.shorterCopies);
    runtime.book.remove(checkpoint.key);
    return false;
  }
  runtime.logger.warn(
    { file: checkpoint.key, path: checkpoint.path, offset: checkpoint.offset },
    'No rotated copy of the truncated file was found; lines written between the last read and ' +
      'the truncation cannot be read. Rotate with create (rename) rather than copytruncate to avoid this.'
  );
  runtime.book.remove(checkpoint.key);
  return false;
}

/**
 * Settles a checkpoint without an open file. It finds the file under another name (a rotation,
 * also one while the agent was stopped) and reads what is left of it. Failing that, it streams
 * a `.gz` generation of it, or else drops the checkpoint because the file is gone. A checkpoint
 * whose directory cannot be listed is kept as it is.
 */
export async function resolveCheckpoint(
  runtime: TailRuntime,
  checkpoint: FileCheckpoint
): Promise<void> {
  if (runtime.isStopping() || runtime.registry.get(checkpoint.key)) return;
  if (runtime.book.get(checkpoint.key) === undefined) return;
  const search = await searchContinuation(
    checkpoint,
    claimsExcept(runtime, checkpoint.key),
    runtime.heads
  );
  const plain = search.plain;
  if (plain !== null) {
    const found = plain.file;
    if (
      plain.kind === 'renamed' &&
      found.size === checkpoint.offset &&
      !runtime.isFollowable(found.path)
    ) {
      await found.handle.close();
      if (found.path !== checkpoint.path) runtime.book.upsert({ ...checkpoint, path: found.path });
      return;
    }
    const moved = repoint(checkpoint, found.path, found.dev, found.ino);
    await trackOpened(runtime, moved, found, followablePaths(runtime, found.path));
    return;
  }
  for (const candidate of search.compressed) {
    if (await sitsAtRecordedEnd(checkpoint, candidate)) {
      if (candidate.path !== checkpoint.path) {
        runtime.book.upsert(repoint(checkpoint, candidate.path, candidate.dev, candidate.ino));
      }
      return;
    }
    const status = await readGeneration(runtime, checkpoint, candidate);
    if (status !== 'mismatch') return;
  }
  // A directory that is missing now (not mounted yet) may come back with the file in it.
  if (search.unlisted) return;
  await markCopiesRead(runtime, checkpoint, search.shorterCopies);
  runtime.logger.info(
    {
      file: checkpoint.key,
      path: checkpoint.path,
      offset: checkpoint.offset,
      truncated: search.truncated,
    },
    'Dropping the checkpoint of a log file that no longer exists.'
  );
  runtime.book.remove(checkpoint.key);
}

/**
 * Streams a `.gz` generation under a checkpoint from its offset, now, within the caller's task.
 * With `reader`, the processor and read position of the truncated live file carry over.
 */
export async function readGeneration(
  runtime: TailRuntime,
  checkpoint: FileCheckpoint,
  candidate: CompressedCandidate,
  reader?: TrackedFile
): Promise<CompressedStatus> {
  const moved = repoint(checkpoint, candidate.path, candidate.dev, candidate.ino);
  const file = new TrackedFile(
    moved,
    null,
    runtime.createProcessor(),
    Buffer.alloc(0),
    'compressed'
  );
  if (reader) inheritReader(file, reader);
  runtime.registry.add(file);
  let status: CompressedStatus;
  try {
    status = await readCompressedFile(runtime.context, file, candidate.path, () =>
      runtime.waitForSpace()
    );
  } finally {
    runtime.registry.remove(file);
  }
  if (status === 'done') runtime.book.upsert(file.checkpoint);
  runtime.logger.info(
    { file: moved.key, path: candidate.path, offset: file.readOffset, status },
    'Read a compressed generation.'
  );
  return status;
}

/** Releases a rotated file read to its end: closes it and settles its checkpoint. */
export async function releaseFile(runtime: TailRuntime, file: TrackedFile): Promise<void> {
  file.clearTimers();
  runtime.registry.remove(file);
  await file.handle?.close();
  file.handle = null;
  runtime.logger.info(
    { file: file.key, path: file.path, offset: file.checkpoint.offset },
    'Released a rotated log file read to its end.'
  );
  await resolveCheckpoint(runtime, file.checkpoint);
}

/**
 * Gives copies that end before the truncated file's offset a checkpoint at their end. Reading
 * went past them already: the copy was taken, more lines were read, then the file was cut. So a
 * bot path that matches them must not read them again as new files.
 */
async function markCopiesRead(
  runtime: TailRuntime,
  checkpoint: FileCheckpoint,
  paths: readonly string[]
): Promise<void> {
  for (const path of paths) {
    if (!runtime.isFollowable(path)) continue;
    const opened = await openForIdentity(path).catch(() => null);
    if (opened === null) continue;
    if (runtime.registry.withInode(inodeKey(opened.dev, opened.ino))) {
      await opened.handle.close();
      continue;
    }
    runtime.logger.info(
      { file: checkpoint.key, path, offset: checkpoint.offset, sizeBytes: opened.size },
      'The rotated copy of a truncated file ends before the offset read; its lines were read already.'
    );
    await trackNew(runtime, opened, opened.size, [path]);
  }
}

/** Copies a checkpoint onto another inode and path (a rename, a copy, a `.gz`). */
export function repoint(
  checkpoint: FileCheckpoint,
  path: string,
  dev: number,
  ino: number
): FileCheckpoint {
  return { ...checkpoint, path, dev, ino, updatedAt: Date.now() };
}

function followablePaths(runtime: TailRuntime, path: string): string[] {
  return runtime.isFollowable(path) ? [path] : [];
}

function inheritReader(file: TrackedFile, reader: TrackedFile): void {
  file.processor = reader.processor;
  file.readOffset = reader.readOffset;
  file.readTail = reader.readTail;
}

/** True when the checkpoint already names this `.gz` and sits at its recorded end. */
async function sitsAtRecordedEnd(
  checkpoint: FileCheckpoint,
  candidate: CompressedCandidate
): Promise<boolean> {
  if (inodeKey(candidate.dev, candidate.ino) !== inodeKey(checkpoint.dev, checkpoint.ino))
    return false;
  // NOTE: ISIZE covers the last gzip member only; a multi-member file is just streamed again.
  const sizeHint = await readCompressedSizeHint(candidate.path);
  return sizeHint === checkpoint.offset % GZIP_SIZE_MODULUS;
}

function logCopyFound(runtime: TailRuntime, checkpoint: FileCheckpoint): void {
  runtime.logger.info(
    { file: checkpoint.key, path: checkpoint.path, offset: checkpoint.offset },
    'Reading the rotated copy of a truncated file from the old offset.'
  );
}
