import type { BotConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { LineProcessor } from '../rules/line-processor.js';
import type { CheckpointBook } from '../state/checkpoint-book.js';
import type { EventSink } from './sink.js';

/** Settings of one bot's tail service. */
export interface TailServiceOptions {
  bot: BotConfig;
  book: CheckpointBook;
  sink: EventSink;
  createProcessor: () => LineProcessor;
  logger: Logger;
  metrics: Metrics;
  /**
   * A last line without `\n` waits this long unchanged, then is processed only if it is
   * complete JSON (`processor.process(..., final = true)`).
   */
  partialLineTimeoutMs: number;
  /** `once`: read every file (and, with includeCompressed, its .gz generations) to its current end and stop. */
  mode: 'follow' | 'once';
  /** Backfill: also read rotated .gz generations that match the bot's files. */
  includeCompressed?: boolean;
  /**
   * Size of the one buffer the service reads through, default 4 MiB; raised to hold a line of
   * `bot.maxLineBytes`. Memory stays bounded however many files are followed.
   */
  readBufferBytes?: number;
  /** Period of the glob rescan that catches missed notifications, default 10 s. */
  rescanIntervalMs?: number;
  /**
   * How long a rotated file read to its end must stay unchanged before it is closed, default
   * 5 s: a writer that has not reopened its log yet may still append to the old file.
   */
  releaseQuietMs?: number;
  /** Watch with chokidar polling from the start instead of inotify. */
  usePolling?: boolean;
}

/** One open file as `files()` lists it. */
export interface TailedFile {
  /** Checkpoint key. */
  key: string;
  path: string;
  /** Checkpoint offset: the events of the bytes before it are queued. */
  offset: number;
  /** File size at the last read, in bytes. */
  size: number;
  /** `following`, `rotated` (read to its end, then released) or `compressed`. */
  state: string;
}

/** Follower of one bot's files, which queues the events of each line once. */
export interface TailService {
  /** Finds the bot's files and starts reading; resolves once the files found are followed. */
  start(): Promise<void>;
  /** Resolves when every known file is read to its current end. */
  drain(): Promise<void>;
  /** Stops watching and reading and closes the files; checkpoints stay in the book. */
  stop(): Promise<void>;
  files(): TailedFile[];
}
