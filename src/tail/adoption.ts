import { stat } from 'node:fs/promises';
import type { FileCheckpoint } from '../state/checkpoint-store.js';
import { leadsTo, openForIdentity } from './continuation.js';
import { digestOf, readBytesAt, readHead, readTailBytes, tailCheckOf } from './fingerprint.js';
import { identify } from './identify.js';
import type { OpenedFile } from './identity.js';
import { recoverTruncated } from './rotation.js';
import type { TailRuntime } from './runtime.js';
import { inodeKey, TrackedFile } from './tracked-file.js';

/** Bytes searched back from the end for the last `\n` when a file starts at its end. */
const START_AT_END_SEARCH_BYTES = 64 * 1024;

/**
 * Looks at one bot path after a notification or scan: links it to the open file its inode
 * belongs to, or opens and identifies it. A path that is gone or leads elsewhere releases its
 * old file to the rotation logic.
 */
export async function examinePath(runtime: TailRuntime, path: string): Promise<void> {
  if (runtime.isStopping()) return;
  const stats = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (stats instanceof Error) {
    if (isPermissionError(stats)) reportDenied(runtime, path, stats);
    else unlinkPath(runtime, path);
    return;
  }
  if (!stats.isFile()) return;

  const { registry } = runtime;
  const live = registry.withInode(inodeKey(stats.dev, stats.ino));
  const previous = registry.at(path);
  if (previous !== undefined && previous !== live) unlinkPath(runtime, path);
  if (live !== undefined) {
    await attachPath(runtime, live, path);
    // A rescan finds most files unchanged: same size and mtime means nothing to read, and
    // skipping the read keeps an idle agent with hundreds of files near zero CPU.
    if (stats.size === live.size && stats.mtimeMs === live.examinedMtimeMs && live.isReadToEnd) {
      return;
    }
    live.examinedMtimeMs = stats.mtimeMs;
    runtime.scheduleRead(live);
    return;
  }

  const opened = await openForIdentity(path).catch((error: NodeJS.ErrnoException) => error);
  if (opened instanceof Error) {
    if (isPermissionError(opened)) reportDenied(runtime, path, opened);
    else if (opened.code !== 'ENOENT') reportOpenError(runtime, path, opened);
    return;
  }
  if (opened === null) return;
  if (runtime.deniedPaths.delete(path)) {
    runtime.logger.info({ path }, 'Log file is readable again.');
  }
  let handleKept = false;
  try {
    const newOffset = () => startOffset(runtime, opened);
    handleKept = await adoptOpened(runtime, opened, [path], newOffset);
  } finally {
    if (!handleKept) await opened.handle.close();
  }
}

/**
 * Starts following the opened file according to its identity, linking `paths` to it; returns
 * true when it keeps the handle. `newOffset` is where a file never seen starts.
 */
async function adoptOpened(
  runtime: TailRuntime,
  opened: OpenedFile,
  paths: readonly string[],
  newOffset: () => Promise<number>
): Promise<boolean> {
  const { registry, logger } = runtime;
  if (registry.withInode(inodeKey(opened.dev, opened.ino))) return false;
  const identity = await identify(runtime, opened);
  logger.debug(
    {
      path: opened.path,
      identity: identity.kind,
      file: 'checkpoint' in identity ? identity.checkpoint.key : undefined,
    },
    'Identified a log file.'
  );
  switch (identity.kind) {
    case 'resume':
    case 'continuation': {
      const checkpoint = {
        ...identity.checkpoint,
        path: opened.path,
        dev: opened.dev,
        ino: opened.ino,
      };
      if (identity.kind === 'continuation') {
        logger.info(
          { file: checkpoint.key, path: opened.path, offset: checkpoint.offset },
          'Found a copy of a file read before; reading it on from the checkpoint.'
        );
      }
      await trackOpened(runtime, checkpoint, opened, paths);
      return true;
    }
    case 'truncated':
      await recoverTruncated(runtime, identity.checkpoint, inodeKey(opened.dev, opened.ino));
      await trackNew(runtime, opened, 0, paths);
      return true;
    case 'copy':
      logger.debug(
        { path: opened.path, file: identity.live.key },
        'Skipping a copy of a file being read; its lines come from the original.'
      );
      return false;
    case 'copyOfTruncated':
      runtime.scheduleRead(identity.live);
      return false;
    case 'readCopy':
      logger.info(
        { file: identity.checkpoint.key, path: opened.path, offset: identity.checkpoint.offset },
        'Found a copy of a file read past its end; following it from its end.'
      );
      await trackNew(runtime, opened, opened.size, paths);
      return true;
    case 'new':
      await trackNew(runtime, opened, await newOffset(), paths);
      return true;
  }
}

/**
 * Identifies again a file that was empty when found, now that it has bytes and before any is
 * read: an empty file may be a copy that logrotate has only begun to write. Returns true when
 * the file turned out to be something else and was let go or taken over under that identity.
 */
export async function settleEmptyStart(runtime: TailRuntime, file: TrackedFile): Promise<boolean> {
  const handle = file.handle;
  const provisional = file.checkpoint.fingerprint.length === 0 && file.readOffset === 0;
  if (handle === null || !provisional || file.pendingAppend !== null) return false;
  const stats = await handle.stat();
  if (stats.size === 0) return false;

  const { registry, book } = runtime;
  const paths = registry.pathsOf(file);
  registry.remove(file);
  book.remove(file.key);
  file.clearTimers();
  const head = await readHead(handle, stats.size);
  const opened = {
    path: file.path,
    handle,
    dev: stats.dev,
    ino: stats.ino,
    size: stats.size,
    head,
  };
  const kept = await adoptOpened(runtime, opened, paths, async () => 0);
  if (!kept) await handle.close();
  return true;
}

/**
 * Returns the offset a newly found file starts at. `startAt: end` applies only to files found
 * in the first scan of a bot that has no checkpoint at all, which is a first install. A file
 * found later, while running or after a restart, is new since the agent last looked, so it is
 * read from its start.
 */
async function startOffset(runtime: TailRuntime, opened: OpenedFile): Promise<number> {
  if (!runtime.firstInstallScan || runtime.bot.startAt !== 'end' || opened.size === 0) return 0;
  // Start after the last complete line, so a line being written is read whole.
  const length = Math.min(opened.size, START_AT_END_SEARCH_BYTES);
  const tail = await readBytesAt(opened.handle, opened.size - length, length);
  const newline = tail.lastIndexOf(0x0a);
  if (newline >= 0) return opened.size - length + newline + 1;
  return length === opened.size ? 0 : opened.size;
}

/** Creates the checkpoint of a file never seen; it is saved before any of its events are queued. */
export async function trackNew(
  runtime: TailRuntime,
  opened: OpenedFile,
  offset: number,
  paths: readonly string[]
): Promise<TrackedFile> {
  const checkpoint: FileCheckpoint = {
    key: runtime.book.newKey(),
    bot: runtime.bot.name,
    path: opened.path,
    dev: opened.dev,
    ino: opened.ino,
    fingerprint: digestOf(opened.head),
    offset,
    tailCheck: tailCheckOf(await readTailBytes(opened.handle, offset)),
    updatedAt: Date.now(),
  };
  runtime.book.upsert(checkpoint);
  runtime.logger.info(
    { file: checkpoint.key, path: opened.path, offset, sizeBytes: opened.size },
    'Following a new log file.'
  );
  const file = await trackOpened(runtime, checkpoint, opened, paths);
  file.unsaved = true;
  return file;
}

/**
 * Registers an opened file under a checkpoint, reading on from the checkpoint's offset. The
 * file is `following` when bot paths lead to it (`paths`), else `rotated`.
 */
export async function trackOpened(
  runtime: TailRuntime,
  checkpoint: FileCheckpoint,
  opened: OpenedFile,
  paths: readonly string[]
): Promise<TrackedFile> {
  const tail = await readTailBytes(opened.handle, checkpoint.offset);
  const state = paths.length > 0 ? 'following' : 'rotated';
  const file = new TrackedFile(checkpoint, opened.handle, runtime.createProcessor(), tail, state);
  file.size = opened.size;
  runtime.book.upsert(checkpoint);
  runtime.registry.add(file);
  for (const path of paths) runtime.registry.linkPath(path, file);
  runtime.scheduleRead(file);
  return file;
}

/** Records that `path` leads to a live file; a rotated file reached again is followed again. */
async function attachPath(runtime: TailRuntime, file: TrackedFile, path: string): Promise<void> {
  runtime.registry.linkPath(path, file);
  if (file.state === 'rotated') file.state = 'following';
  if (file.path === path) return;
  const { dev, ino } = file.checkpoint;
  if (await leadsTo(file.path, dev, ino)) return;
  file.checkpoint = { ...file.checkpoint, path, updatedAt: Date.now() };
  runtime.book.upsert(file.checkpoint);
}

/**
 * Forgets that `path` leads to its file. A file left with no bot path is rotated: it is read
 * to its end through its descriptor, then released.
 */
export function unlinkPath(runtime: TailRuntime, path: string): void {
  const file = runtime.registry.unlinkPath(path);
  if (file === undefined) return;
  const remaining = runtime.registry.pathsOf(file);
  if (remaining.length > 0) {
    if (file.path === path) {
      file.checkpoint = { ...file.checkpoint, path: remaining[0]!, updatedAt: Date.now() };
      runtime.book.upsert(file.checkpoint);
    }
    return;
  }
  if (file.state !== 'following') return;
  file.state = 'rotated';
  file.lastActivityMs = Date.now();
  runtime.logger.info(
    { file: file.key, path, offset: file.readOffset },
    'Log file was rotated or deleted; reading it to its end before releasing it.'
  );
  runtime.scheduleRead(file);
}

function isPermissionError(error: NodeJS.ErrnoException): boolean {
  return error.code === 'EACCES' || error.code === 'EPERM';
}

function reportDenied(runtime: TailRuntime, path: string, error: NodeJS.ErrnoException): void {
  if (runtime.deniedPaths.has(path)) return;
  runtime.deniedPaths.add(path);
  runtime.logger.warn(
    { path, code: error.code },
    'Cannot open a log file: permission denied. Grant the agent read access; it retries on every rescan.'
  );
}

function reportOpenError(runtime: TailRuntime, path: string, error: NodeJS.ErrnoException): void {
  const suppressed = runtime.context.warnings.take(`open:${path}`);
  if (suppressed < 0) return;
  runtime.logger.warn(
    { path, code: error.code, err: error, suppressed },
    'Opening a log file failed; retrying on the next rescan.'
  );
}
