import { isCompressedPath } from '../discovery/patterns.js';
import type { FileCheckpoint } from '../state/checkpoint-store.js';
import { FINGERPRINT_MAX_BYTES } from './fingerprint.js';
import {
  compareWithCheckpoint,
  isCopyOfLive,
  isSiblingCopyName,
  isStartOfLive,
  isTruncated,
  type OpenedFile,
} from './identity.js';
import { resolveCheckpoint } from './rotation.js';
import { dormantCheckpoints, type TailRuntime } from './runtime.js';
import { inodeKey, type TrackedFile } from './tracked-file.js';

/**
 * Identity of a newly opened file. `resume`: the file of a checkpoint. `truncated`: that file,
 * cut short or rewritten while no one watched. `copy`: a copy of a live file. `copyOfTruncated`:
 * a copy made just before a live file was truncated. `continuation`: a copy that continues a
 * checkpoint whose file is gone. `readCopy`: a copy that ends before such a checkpoint's offset,
 * so it was read already. `new`: a file never seen.
 */
export type Identity =
  | { kind: 'resume' | 'truncated' | 'continuation' | 'readCopy'; checkpoint: FileCheckpoint }
  | { kind: 'copy' | 'copyOfTruncated'; live: TrackedFile }
  | { kind: 'new' };

/**
 * Identifies an opened file that no open file holds: against the bot's checkpoints by inode
 * and content, then against the live files it may be a copy of.
 */
export async function identify(runtime: TailRuntime, opened: OpenedFile): Promise<Identity> {
  const dormant = dormantCheckpoints(runtime).filter(
    (checkpoint) => !isCompressedPath(checkpoint.path)
  );
  const sameInode = dormant.filter((cp) => cp.dev === opened.dev && cp.ino === opened.ino);
  for (const checkpoint of sameInode) {
    const match = await compareWithCheckpoint(opened, checkpoint);
    if (match !== 'other') return { kind: match === 'same' ? 'resume' : 'truncated', checkpoint };
    // The inode was reused by another file; the old checkpoint's file may live on elsewhere.
    await resolveCheckpoint(runtime, checkpoint);
  }

  // A copy seen before, unchanged: its live file may have been truncated since.
  const inode = inodeKey(opened.dev, opened.ino);
  const seen = runtime.seenCopies.get(inode);
  const seenOf = seen?.size === opened.size ? runtime.registry.get(seen.key) : undefined;
  if (seenOf !== undefined) {
    return { kind: (await isTruncated(seenOf)) ? 'copyOfTruncated' : 'copy', live: seenOf };
  }

  for (const live of runtime.registry.files()) {
    if (live.state === 'compressed' || !isSiblingCopyName(opened.path, live.path)) continue;
    // An empty file is followed at once; its first bytes are checked before its first read.
    const isCopy =
      (await isCopyOfLive(opened, live)) ||
      (opened.size > 0 && (await isStartOfLive(opened, live)));
    if (isCopy) {
      runtime.seenCopies.remember(inode, { key: live.key, size: opened.size });
      return { kind: 'copy', live };
    }
    // A copy of bytes the live file lost (a copytruncate): it may end before or after the
    // offset read. The live file's truncation handling then settles it.
    const checkpoint = live.checkpoint;
    if (checkpoint.offset > 0 && (await compareWithCheckpoint(opened, checkpoint)) !== 'other') {
      if (await isTruncated(live)) return { kind: 'copyOfTruncated', live };
    }
  }

  for (const checkpoint of dormant) {
    if (checkpoint.offset === 0 || !isSiblingCopyName(opened.path, checkpoint.path)) continue;
    if (sameInode.includes(checkpoint)) continue;
    const match = await compareWithCheckpoint(opened, checkpoint);
    if (match === 'same') return { kind: 'continuation', checkpoint };
    // A copy ending before the offset was read through already. The evidence is a full 1 KiB
    // of equal first bytes, because nothing past them can be compared.
    // NOTE: a shorter copy (of a file under 1 KiB) cannot be distinguished from a new file here, so one
    // made just before the agent stopped, and truncated before it noticed, is read again.
    const fullFingerprint = checkpoint.fingerprint.length === FINGERPRINT_MAX_BYTES;
    if (match === 'truncated' && opened.size < checkpoint.offset && fullFingerprint) {
      return { kind: 'readCopy', checkpoint };
    }
  }
  return { kind: 'new' };
}
