import type { BotConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { LineProcessor } from '../rules/line-processor.js';
import type { CheckpointBook } from '../state/checkpoint-book.js';
import type { FileCheckpoint } from '../state/checkpoint-store.js';
import type { ReadContext } from './chunk-consumer.js';
import type { Claims, CompressedHeadCache, SeenCopy } from './continuation.js';
import type { FileRegistry } from './file-registry.js';
import { inodeKey, type TrackedFile } from './tracked-file.js';

/**
 * State shared by the parts of one bot's tail service. Every function that takes it runs
 * inside the service's serial queue, so none of them overlap.
 */
export interface TailRuntime {
  bot: BotConfig;
  book: CheckpointBook;
  logger: Logger;
  context: ReadContext;
  registry: FileRegistry;
  heads: CompressedHeadCache;
  createProcessor: () => LineProcessor;
  mode: 'follow' | 'once';
  /**
   * True while the files found at start are examined and the bot never started before:
   * only those files start at `startAt`.
   */
  firstInstallScan: boolean;
  /** Paths whose last open failed with a permission error, logged once until readable. */
  deniedPaths: Set<string>;
  /**
   * Files found to be copies of a live file's start, by inode. A copy shorter than a
   * fingerprint can be recognised only this way once the live file is truncated.
   */
  seenCopies: SeenCopies;
  isStopping(): boolean;
  /** True when `path` matches the bot's globs (and is not a `.gz`). */
  isFollowable(path: string): boolean;
  scheduleRead(file: TrackedFile): void;
  /** Saves the book when a new checkpoint waits for its first save; false when saving failed. */
  saveNewCheckpoints(): boolean;
  /** Resolves when the outbox has space again (true) or the service stops (false). */
  waitForSpace(): Promise<boolean>;
}

/** Returns the bot's checkpoints without an open file: released, rotated away, or not found yet. */
export function dormantCheckpoints(runtime: TailRuntime): FileCheckpoint[] {
  return runtime.book
    .all()
    .filter(
      (checkpoint) => checkpoint.bot === runtime.bot.name && !runtime.registry.get(checkpoint.key)
    );
}

/**
 * Returns the files of the bot's other checkpoints, so that a search for one checkpoint's
 * continuation does not take another checkpoint's file.
 */
export function claimsExcept(runtime: TailRuntime, exceptKey: string): Claims {
  const dormant = new Map<string, FileCheckpoint[]>();
  for (const checkpoint of dormantCheckpoints(runtime)) {
    if (checkpoint.key === exceptKey) continue;
    const inode = inodeKey(checkpoint.dev, checkpoint.ino);
    dormant.set(inode, [...(dormant.get(inode) ?? []), checkpoint]);
  }
  return { live: runtime.registry.inodes(), dormant, copies: runtime.seenCopies };
}

/** Maximum entries of `SeenCopies`; the oldest goes first. */
const SEEN_COPIES_MAX = 1024;

/** The copies a service has seen of its live files' starts, bounded to the latest ones. */
export class SeenCopies extends Map<string, SeenCopy> {
  remember(inode: string, copy: SeenCopy): void {
    this.delete(inode);
    this.set(inode, copy);
    if (this.size > SEEN_COPIES_MAX) {
      const oldest = this.keys().next().value;
      if (oldest !== undefined) this.delete(oldest);
    }
  }
}
