import type { FileHandle } from 'node:fs/promises';
import type { ChunkResult, LineProcessor } from '../rules/line-processor.js';
import type { FileCheckpoint } from '../state/checkpoint-store.js';

/**
 * First read size of a file, in bytes, which fits the appends of a followed file. Pages of the
 * 4 MiB shared buffer past it become resident only when a read needs them, and then stay so.
 */
export const INITIAL_READ_BYTES = 64 * 1024;

/**
 * State of a tracked file: `following` while a bot path leads to it, `rotated` once no path
 * does (it is read to its end, then released), `compressed` while a `.gz` generation is
 * streamed.
 */
export type TrackedFileState = 'following' | 'rotated' | 'compressed';

/** An append the outbox refused as full; it is retried as is when space frees up. */
export interface PendingAppend {
  result: ChunkResult;
}

/** A line longer than `maxLineBytes` being skipped: from its first byte to where the scan is. */
export interface LongLineSkip {
  start: number;
  scannedTo: number;
}

/** The last line of a file that has no `\n` yet, and since when it has not changed. */
export interface PartialLine {
  offset: number;
  size: number;
  sinceMs: number;
}

/**
 * One file being read: its checkpoint, its open descriptor, its line processor and the read
 * position. `readOffset` runs ahead of `checkpoint.offset` while the processor assembles a
 * record over several lines, or while an append waits for outbox space.
 */
export class TrackedFile {
  state: TrackedFileState;
  /** Next file offset to hand to the processor. */
  readOffset: number;
  /** Up to 64 bytes just before `readOffset`, to notice a file rewritten in place. */
  readTail: Buffer;
  /** File size at the last stat, in bytes. */
  size = 0;
  /** mtime (epoch ms) seen when a notification or rescan last scheduled a read; -1 before. */
  examinedMtimeMs = -1;
  /** Epoch ms of the last growth, or of the moment no bot path led to the file any more. */
  lastActivityMs = Date.now();
  partial: PartialLine | null = null;
  /** Size at which a final partial line produced nothing, so it stays unread until growth. */
  rejectedPartialSize: number | null = null;
  longLine: LongLineSkip | null = null;
  longLineLogged = false;
  /**
   * Size of the next read in bytes, at most the shared buffer's size. It starts small and doubles
   * while reads come back full, so only a backlog or a long line touches the whole buffer.
   */
  readSizeBytes = INITIAL_READ_BYTES;
  pendingAppend: PendingAppend | null = null;
  /** True until the book was saved with this file's new checkpoint or longer fingerprint. */
  unsaved = false;
  pollTimer: NodeJS.Timeout | null = null;
  pollDelayMs = 0;
  partialTimer: NodeJS.Timeout | null = null;

  constructor(
    public checkpoint: FileCheckpoint,
    public handle: FileHandle | null,
    public processor: LineProcessor,
    readTail: Buffer,
    state: TrackedFileState
  ) {
    this.state = state;
    this.readOffset = checkpoint.offset;
    this.readTail = readTail;
  }

  get key(): string {
    return this.checkpoint.key;
  }

  get path(): string {
    return this.checkpoint.path;
  }

  /** Identity of the inode the checkpoint names, as `dev:ino`. */
  get inode(): string {
    return inodeKey(this.checkpoint.dev, this.checkpoint.ino);
  }

  /** True when every byte up to the size last seen is read, save a partial line found incomplete. */
  get isReadToEnd(): boolean {
    if (this.pendingAppend !== null) return false;
    if (this.longLine !== null) return this.longLine.scannedTo >= this.size;
    if (this.readOffset >= this.size) return true;
    return this.rejectedPartialSize === this.size;
  }

  /**
   * True when the file is read up to `target` bytes: nothing waits for the outbox, and what is
   * left below `target` is at most a partial last line that waits or was found incomplete.
   */
  isCaughtUp(target: number): boolean {
    if (this.pendingAppend !== null) return false;
    if (this.longLine !== null) return this.longLine.scannedTo >= target;
    if (this.readOffset >= target) return true;
    if (this.rejectedPartialSize !== null && this.rejectedPartialSize >= target) return true;
    const partial = this.partial;
    return partial !== null && partial.offset === this.readOffset && partial.size >= target;
  }

  clearTimers(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.pollTimer = null;
    this.partialTimer = null;
  }
}

/** Joins a device and inode number into one map key. */
export function inodeKey(dev: number, ino: number): string {
  return `${dev}:${ino}`;
}
