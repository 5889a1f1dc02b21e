import type { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../observability/logger.js';
import { FileOutbox } from './file-outbox.js';
import type { OutboxEntry, OutboxRecord } from './record.js';

export { OutboxFullError } from './outbox-full-error.js';
export type { OutboxEntry, OutboxRecord } from './record.js';

/** Default size at which a new segment file is started. */
export const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;

/** Outbox counts: events not yet acknowledged or dead-lettered, and segment bytes on disk. */
export interface OutboxStats {
  events: number;
  bytes: number;
  /** `foundAt` of the oldest event not yet done, or null when there is none. */
  oldestFoundAt: number | null;
}

/**
 * The durable queue between reading and delivery. Emits `append` after records are added and
 * `space` when the bytes on disk drop below `maxBytes` again after it was full.
 */
export interface Outbox extends EventEmitter {
  /**
   * Writes the entries with write(2) before returning (survives kill -9; fsync comes with sync()).
   * Throws OutboxFullError when full, and the error of the write (e.g. ENOSPC) untouched, having
   * written nothing of the batch that a restart would read (a partial record is torn and
   * discarded). A user id that is not a string of decimal digits is a TypeError.
   */
  append(entries: OutboxEntry[]): OutboxRecord[];
  /** True while the segment bytes on disk are at or above `maxBytes`. */
  isFull(): boolean;
  /**
   * Hands out up to `max` records not yet handed out and not done, in sequence order. A record is
   * handed out once per process; after a restart, every record not done is handed out again.
   */
  take(max: number): OutboxRecord[];
  /** Marks a record acknowledged, with write(2) before returning. Unknown or done seqs are ignored. */
  acknowledge(seq: number): void;
  /** Same as `acknowledge`, for a record the caller moved to the dead letters. */
  markDead(seq: number): void;
  /** fsyncs outbox segments, the acknowledgement logs and the outbox directory. */
  sync(): void;
  /**
   * Highest `source.end` per `source.fileKey` over the records on disk at open (done or not) and
   * those appended since: used on start to move checkpoints up.
   */
  highWaterMarks(): Map<string, number>;
  stats(): OutboxStats;
  /**
   * Deletes segments whose records are all done. Call only right after a state save, because a
   * deleted record no longer moves its file's checkpoint up on the next start.
   */
  compact(): void;
  /**
   * Moves events from `spool/*.jsonl` in the state directory (written by `dead-letters retry`)
   * into the outbox; returns how many. Stops early, keeping the rest, when the outbox is full.
   */
  ingestSpool(): number;
  /** Closes the files; does not fsync (a state save before it does). */
  close(): void;
}

/** Settings of `openOutbox`. */
export interface OutboxOptions {
  /** Segment bytes on disk at which `append` throws OutboxFullError. */
  maxBytes: number;
  /** Size at which a new segment file is started; default 8 MiB. */
  segmentBytes?: number;
  logger: Logger;
  /** Clock for `foundAt`, epoch ms. */
  now?: () => number;
}

/**
 * Opens (creating if needed) the outbox in `<stateDir>/outbox/`: cuts off a write that a crash
 * left torn, loads the acknowledgement logs, and positions reading at the first record not done.
 */
export function openOutbox(stateDir: string, options: OutboxOptions): Outbox {
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  assertPositiveInteger('outbox.maxBytes', options.maxBytes);
  assertPositiveInteger('outbox segmentBytes', segmentBytes);
  const outboxDir = join(stateDir, 'outbox');
  mkdirSync(outboxDir, { recursive: true, mode: 0o750 });
  return new FileOutbox({
    stateDir,
    outboxDir,
    maxBytes: options.maxBytes,
    segmentBytes,
    logger: options.logger,
    now: options.now ?? Date.now,
  });
}

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} is ${value}; it must be a positive whole number of bytes`);
  }
}
