import type { BotConfig } from './config/schema.js';
import type { DeadLetterWriter } from './delivery/dead-letters.js';
import type { TrackerEvent } from './events/event.js';
import type { Logger } from './observability/logger.js';
import { LogRateLimiter } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import type { DeferredSpool } from './outbox/deferred-spool.js';
import { type Outbox, type OutboxEntry, OutboxFullError } from './outbox/outbox.js';
import type { ChunkResult } from './rules/line-processor.js';
import type { EventSink } from './tail/sink.js';

/** Interval between attempts to write the outbox again after a failed write such as ENOSPC. */
const DISK_RETRY_MS = 5000;

/** Optional window on event time, in epoch seconds, used by `backfill`. */
export interface EventTimeWindow {
  sinceSeconds: number;
  untilSeconds: number | null;
  /** Events dated before the window; they are skipped and their lines marked as read. */
  skipped: number;
  /** Events found inside the window and queued. */
  queued: number;
  /** Events dated at or after `untilSeconds`, handed to `deferred` for the next `run`. */
  deferred: number;
}

/**
 * Creates the sink through which one bot's tail service queues what its lines produced: events
 * go to the outbox, invalid events to the dead letters. Both are written before `append`
 * returns, so the caller may then move the file's checkpoint past the lines.
 */
export function createEventSink(options: {
  bot: BotConfig;
  outbox: Outbox;
  deadLetters: DeadLetterWriter;
  logger: Logger;
  metrics: Metrics;
  window?: EventTimeWindow;
  /** Where events dated after the window go; required when the window has an end. */
  deferred?: DeferredSpool;
}): EventSink {
  const { bot, outbox, deadLetters, logger, metrics, window } = options;
  const warnings = new LogRateLimiter();
  // diskError blocks reading until the next retry; failedCode remembers the failure for its log lines.
  let diskError: string | null = null;
  let failedCode: string | null = null;

  /**
   * Appends to the outbox. A failed write such as ENOSPC pauses reading like a full outbox does,
   * and the tail keeps the same lines pending until `onceSpace` calls back, so none is skipped.
   */
  const appendOrPause = (entries: OutboxEntry[]): void => {
    try {
      outbox.append(entries);
      if (failedCode !== null) {
        logger.info(
          { bot: bot.name, code: failedCode },
          'Outbox writes succeed again; reading resumed.'
        );
        failedCode = null;
      }
    } catch (error) {
      if (error instanceof OutboxFullError) throw error;
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      if (failedCode === null) {
        logger.error(
          { bot: bot.name, code, err: error instanceof Error ? error.message : String(error) },
          `Writing the outbox failed (${code}); reading is paused and retried every ${DISK_RETRY_MS / 1000} s. Free space in state.dir.`
        );
      }
      diskError = code;
      failedCode = code;
      throw error;
    }
  };

  return {
    append(fileKey: string, result: ChunkResult): void {
      const entries: OutboxEntry[] = [];
      const laterEvents: TrackerEvent[] = [];
      for (const found of result.events) {
        const seconds = found.event.timestamp;
        if (window && seconds < window.sinceSeconds) {
          window.skipped++;
          continue;
        }
        if (window && window.untilSeconds !== null && seconds >= window.untilSeconds) {
          laterEvents.push(found.event);
          continue;
        }
        if (window) window.queued++;
        entries.push({
          event: found.event,
          source: { fileKey, offset: found.offset, end: found.end },
        });
      }

      // The outbox goes first: when it is full it throws, and nothing of this range is recorded.
      if (entries.length > 0) appendOrPause(entries);
      if (laterEvents.length > 0 && window) {
        options.deferred?.write(laterEvents);
        window.deferred += laterEvents.length;
      }

      for (const invalid of result.invalid) {
        deadLetters.write({
          event: {
            name: invalid.eventName,
            bot: invalid.bot,
            ...(invalid.userId === undefined ? {} : { userId: invalid.userId }),
            ...(invalid.timestamp === undefined ? {} : { timestamp: invalid.timestamp }),
          },
          reason: invalid.reason,
          source: { fileKey, offset: invalid.offset, end: invalid.end },
        });
        metrics.eventsInvalid.inc({ bot: bot.name, reason: invalidReasonLabel(invalid.reason) });
        metrics.eventsDeadLettered.inc({ event: invalid.eventName, reason: 'invalid_event' });
        const suppressed = warnings.take(`invalid:${invalid.rule}`);
        if (suppressed >= 0) {
          logger.warn(
            {
              bot: bot.name,
              file: fileKey,
              offset: invalid.offset,
              rule: invalid.rule,
              reason: invalid.reason,
              suppressed,
            },
            'Matched line produced an invalid event; it was moved to the dead letters.'
          );
        }
      }

      for (const found of result.events) {
        if (!found.timeSuspect) continue;
        metrics.eventsTimeSuspect.inc({ bot: bot.name, reason: found.timeSuspect });
        const suppressed = warnings.take(`time:${found.timeSuspect}`);
        if (suppressed >= 0) {
          logger.warn(
            {
              bot: bot.name,
              file: fileKey,
              offset: found.offset,
              event: found.event.name,
              timestamp: found.event.timestamp,
              reason: found.timeSuspect,
              suppressed,
            },
            found.timeSuspect === 'future'
              ? 'Event is dated in the future beyond the tolerance; it is sent as written.'
              : 'Event is older than maxEventAgeMs; it is sent as written.'
          );
        }
      }

      for (const entry of entries) metrics.eventsQueued.inc({ event: entry.event.name });
    },

    isFull(): boolean {
      return diskError !== null || outbox.isFull();
    },

    onceSpace(callback: () => void): void {
      if (diskError !== null) {
        // Clearing the flag lets the retried append run; a new failure sets it again.
        setTimeout(() => {
          diskError = null;
          callback();
        }, DISK_RETRY_MS).unref();
        return;
      }
      outbox.once('space', callback);
    },
  };
}

/** Maps a free-text reason to a low-cardinality metric label. */
function invalidReasonLabel(reason: string): string {
  if (reason.startsWith('invalid user id')) return 'user_id';
  if (reason.startsWith('invalid time')) return 'time';
  return 'other';
}
