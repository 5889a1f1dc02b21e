import type { Logger, LogRateLimiter } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { OutboxFullError } from '../outbox/outbox.js';
import type { ChunkResult } from '../rules/line-processor.js';
import type { CheckpointBook } from '../state/checkpoint-book.js';
import { TAIL_CHECK_MAX_BYTES, tailCheckOf } from './fingerprint.js';
import { findLongLine } from './long-lines.js';
import type { EventSink } from './sink.js';
import type { TrackedFile } from './tracked-file.js';

/** The parts of the service that reading uses: the sink, the book, metrics and logs. */
export interface ReadContext {
  botName: string;
  book: CheckpointBook;
  sink: EventSink;
  metrics: Metrics;
  logger: Logger;
  /** Maximum line length handed to the processor, in bytes without its `\n`. */
  maxLineBytes: number;
  /** The one read buffer of the service. */
  buffer: Buffer;
  warnings: LogRateLimiter;
  /** True once the service stops: long reads end early, at a line boundary. */
  isStopping(): boolean;
}

/**
 * Returns the up to 64 bytes just before a file offset, or null when they cannot be had (a
 * `.gz` stream cannot seek back). Used when the checkpoint stops short of the read position.
 */
export type TailSource = (offset: number) => Promise<Buffer | null>;

/** `rejected`: a final partial line produced nothing and stays unread; nothing moved. */
export type ConsumeOutcome = 'ok' | 'blocked' | 'rejected';

/**
 * Hands `buf[start, end)`, which begins at `file.readOffset`, to the file's processor, queues
 * what it found and moves the checkpoint. The bytes before `start` must hold the file's bytes
 * before the range (up to 64), so the new tail check comes from the buffer.
 */
export async function consumeRange(
  context: ReadContext,
  file: TrackedFile,
  buf: Buffer,
  start: number,
  end: number,
  final: boolean,
  tailSource: TailSource
): Promise<ConsumeOutcome> {
  const result = file.processor.process(buf, start, end, file.readOffset, final);
  // A final line that produced nothing stays unread: it may be incomplete (the prefilter and
  // the JSON parser cannot tell), and reading it again once its `\n` arrives costs nothing.
  if (final && result.events.length === 0 && result.invalid.length === 0) return 'rejected';

  file.readOffset += end - start;
  file.readTail = Buffer.from(buf.subarray(Math.max(0, end - TAIL_CHECK_MAX_BYTES), end));
  countResult(context, result, end - start);
  file.pendingAppend = { result };
  return (await flushPendingAppend(context, file, tailSource)) ? 'ok' : 'blocked';
}

/**
 * Consumes the whole lines in `buf[start, end)` (`buf[end - 1]` is `\n`), skipping each line
 * longer than `maxLineBytes` without handing it to the processor.
 */
export async function consumeLines(
  context: ReadContext,
  file: TrackedFile,
  buf: Buffer,
  start: number,
  end: number,
  tailSource: TailSource
): Promise<'ok' | 'blocked'> {
  let position = start;
  while (position < end) {
    const longLine = findLongLine(buf, position, end, context.maxLineBytes);
    const stop = longLine === null ? end : longLine.start;
    if (stop > position) {
      const outcome = await consumeRange(context, file, buf, position, stop, false, tailSource);
      if (outcome === 'blocked') return 'blocked';
    }
    if (longLine === null) return 'ok';
    countLongLine(context, file, file.readOffset, longLine.end - longLine.start - 1);
    file.readOffset += longLine.end - longLine.start;
    file.readTail = Buffer.from(
      buf.subarray(Math.max(0, longLine.end - TAIL_CHECK_MAX_BYTES), longLine.end)
    );
    await commitOffset(context, file, tailSource);
    position = longLine.end;
  }
  return 'ok';
}

/**
 * Queues a file's pending append and then moves its checkpoint. Returns false, keeping the
 * append pending, when the sink refused it.
 */
export async function flushPendingAppend(
  context: ReadContext,
  file: TrackedFile,
  tailSource: TailSource
): Promise<boolean> {
  const pending = file.pendingAppend;
  if (pending === null) return true;
  try {
    context.sink.append(file.key, pending.result);
  } catch (error) {
    reportAppendError(context, file, error);
    return false;
  }
  file.pendingAppend = null;
  await commitOffset(context, file, tailSource);
  return true;
}

/**
 * Moves the checkpoint to the read position, or to the oldest line of a record the processor
 * still assembles. The tail check is taken of the bytes before it, and the book marked dirty.
 */
export async function commitOffset(
  context: ReadContext,
  file: TrackedFile,
  tailSource: TailSource
): Promise<void> {
  const pending = file.processor.pendingOffset();
  const offset = pending === null ? file.readOffset : Math.min(file.readOffset, pending);
  if (offset <= file.checkpoint.offset) return;
  const tail = offset === file.readOffset ? file.readTail : await tailSource(offset);
  // NOTE: a `.gz` stream cannot seek back, so there the checkpoint waits for the record to end.
  if (tail === null) return;
  file.checkpoint = {
    ...file.checkpoint,
    offset,
    tailCheck: tailCheckOf(tail),
    updatedAt: Date.now(),
  };
  context.book.upsert(file.checkpoint);
}

/** Counts a line skipped as longer than `maxLineBytes`, and logs the first one of each file. */
export function countLongLine(
  context: ReadContext,
  file: TrackedFile,
  offset: number,
  length: number
): void {
  context.metrics.linesRead.inc({ bot: context.botName });
  context.metrics.bytesRead.inc({ bot: context.botName }, length);
  context.metrics.linesSkipped.inc({ bot: context.botName, reason: 'too_long' });
  if (file.longLineLogged) return;
  file.longLineLogged = true;
  context.logger.warn(
    { file: file.key, offset, lengthBytes: length, maxLineBytes: context.maxLineBytes },
    'Skipped a line longer than maxLineBytes; later ones in this file are only counted ' +
      '(lines_skipped_total{reason="too_long"}). Raise the bot maxLineBytes if such lines matter.'
  );
}

function countResult(context: ReadContext, result: ChunkResult, bytes: number): void {
  const { metrics, botName: bot } = context;
  metrics.linesRead.inc({ bot }, result.lines);
  metrics.bytesRead.inc({ bot }, bytes);
  if (result.skippedNotJson > 0) {
    metrics.linesSkipped.inc({ bot, reason: 'not_json' }, result.skippedNotJson);
  }
  if (result.skippedNoMatch > 0) {
    metrics.linesSkipped.inc({ bot, reason: 'no_match' }, result.skippedNoMatch);
  }
  if (result.skippedPrefiltered > 0) {
    metrics.linesSkipped.inc({ bot, reason: 'prefiltered' }, result.skippedPrefiltered);
  }
  for (const [rule, count] of result.matchedByRule) {
    metrics.linesMatched.inc({ bot, rule }, count);
  }
}

function reportAppendError(context: ReadContext, file: TrackedFile, error: unknown): void {
  if (error instanceof OutboxFullError) {
    const suppressed = context.warnings.take('outbox_full');
    if (suppressed >= 0) {
      context.logger.info(
        { file: file.key, offset: file.checkpoint.offset, suppressed },
        'Outbox is full; reading pauses until delivery frees space.'
      );
    }
    return;
  }
  const suppressed = context.warnings.take('append_failed');
  if (suppressed >= 0) {
    context.logger.error(
      { err: error, file: file.key, offset: file.checkpoint.offset, suppressed },
      'Queuing events in the outbox failed; the same lines are retried on the next rescan.'
    );
  }
}
