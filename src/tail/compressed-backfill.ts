import { stat } from 'node:fs/promises';
import { readCompressedEnd } from './compressed-reader.js';
import { digestOf, headMatches, readBytesAt } from './fingerprint.js';
import { readGeneration, resolveCheckpoint } from './rotation.js';
import { dormantCheckpoints, type TailRuntime } from './runtime.js';
import { inodeKey, type TrackedFile } from './tracked-file.js';

/**
 * Reads one `.gz` generation found by a backfill. A generation of a file read before (its
 * decompressed bytes match a checkpoint's fingerprint and tail check) is read on from that
 * checkpoint's offset, and a copy of a file being followed is skipped. Any other is new, so it
 * is read from its start under a checkpoint saved first, which a second backfill then skips.
 */
export async function adoptCompressed(runtime: TailRuntime, path: string): Promise<void> {
  const stats = await stat(path).catch(() => null);
  if (stats === null || !stats.isFile() || runtime.isStopping()) return;
  if (runtime.registry.withInode(inodeKey(stats.dev, stats.ino))) return;

  const dormant = dormantCheckpoints(runtime);
  const own = dormant.find(
    (checkpoint) => checkpoint.dev === stats.dev && checkpoint.ino === stats.ino
  );
  if (own) {
    await resolveCheckpoint(runtime, own);
    return;
  }
  const head = await runtime.heads.get(path, stats);
  if (head === null) {
    runtime.logger.warn({ path }, 'Skipping a .gz file that is not a readable gzip stream.');
    return;
  }
  const candidate = { path, dev: stats.dev, ino: stats.ino };
  for (const checkpoint of dormant) {
    if (checkpoint.offset === 0 || !headMatches(head, checkpoint.fingerprint)) continue;
    if ((await readGeneration(runtime, checkpoint, candidate)) !== 'mismatch') return;
  }
  for (const live of runtime.registry.files()) {
    if (live.handle === null || !headMatches(head, live.checkpoint.fingerprint)) continue;
    if (await isCompressedCopyOf(path, live)) {
      runtime.logger.debug({ path, file: live.key }, 'Skipping a .gz copy of a file being read.');
      return;
    }
  }

  const checkpoint = {
    key: runtime.book.newKey(),
    bot: runtime.bot.name,
    path,
    dev: stats.dev,
    ino: stats.ino,
    fingerprint: digestOf(head),
    offset: 0,
    tailCheck: null,
    updatedAt: Date.now(),
  };
  runtime.book.upsert(checkpoint);
  if (!runtime.saveNewCheckpoints()) {
    runtime.book.remove(checkpoint.key);
    return;
  }
  await readGeneration(runtime, checkpoint, candidate);
}

/** True when a `.gz` decompresses to a prefix of a live file (its last bytes sit in the file). */
async function isCompressedCopyOf(path: string, live: TrackedFile): Promise<boolean> {
  const end = await readCompressedEnd(path);
  if (end === null || live.handle === null || end.size === 0) return false;
  const liveSize = (await live.handle.stat()).size;
  if (end.size > liveSize) return false;
  const theirs = await readBytesAt(live.handle, end.size - end.tail.length, end.tail.length);
  return theirs.equals(end.tail);
}
