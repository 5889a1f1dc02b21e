import { type Logger, LogRateLimiter } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Outbox, OutboxRecord } from '../outbox/outbox.js';
import type { DeadLetterWriter } from './dead-letters.js';

/** The tracker's response stored with a dead letter. */
export interface DeadLetterAnswer {
  status?: number;
  body?: string;
}

/**
 * Records what became of each event, in the outbox, the dead letters, the metrics and the log:
 * acknowledged, or moved to the dead letters. Logs carry the seq and event type, never the
 * event's user id or the request body.
 */
export class OutcomeRecorder {
  private readonly warnings = new LogRateLimiter();

  constructor(
    private readonly outbox: Pick<Outbox, 'acknowledge' | 'markDead'>,
    private readonly deadLetters: Pick<DeadLetterWriter, 'write'>,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly onAcknowledged?: (record: OutboxRecord) => void
  ) {}

  acknowledged(record: OutboxRecord): void {
    try {
      this.outbox.acknowledge(record.seq);
    } catch (error) {
      this.logger.error(
        { seq: record.seq, event: record.event.name, err: error },
        'Recording an acknowledgement failed; the event will be sent again after a restart.'
      );
    }
    this.metrics.eventsAcknowledged.inc({ event: record.event.name });
    this.metrics.lastDeliveryTimestampSeconds.set(Date.now() / 1000);
    this.logger.debug({ seq: record.seq, event: record.event.name }, 'Event acknowledged.');
    try {
      this.onAcknowledged?.(record);
    } catch (error) {
      this.logger.error({ seq: record.seq, err: error }, 'The acknowledgement callback failed.');
    }
  }

  /**
   * Writes the record to the dead letters, then marks it dead in the outbox. Returns false,
   * having logged why, when the dead letter could not be written: the caller keeps the record.
   */
  deadLettered(record: OutboxRecord, reason: string, answer: DeadLetterAnswer = {}): boolean {
    const fields = { seq: record.seq, event: record.event.name, reason, status: answer.status };
    try {
      this.deadLetters.write({
        event: record.event,
        reason,
        ...(answer.status === undefined ? {} : { status: answer.status }),
        ...(answer.body === undefined ? {} : { body: answer.body }),
        source: record.source,
        seq: record.seq,
      });
    } catch (error) {
      this.logger.error(
        { ...fields, err: error },
        'Writing a dead letter failed; the event stays queued and is retried with backoff.'
      );
      return false;
    }
    try {
      this.outbox.markDead(record.seq);
    } catch (error) {
      this.logger.error(
        { ...fields, err: error },
        'Recording a dead letter in the outbox failed; the event will be sent again after a restart.'
      );
    }
    this.metrics.eventsDeadLettered.inc({
      event: record.event.name,
      reason: reason.replaceAll(' ', '_'),
    });
    this.warn(`dead:${reason}`, fields, 'Event moved to the dead letters.');
    return true;
  }

  /** Logs a warning, at most one per `key` every 10 s, with the count of those held back. */
  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const suppressed = this.warnings.take(key);
    if (suppressed >= 0) this.logger.warn({ ...fields, suppressed }, message);
  }
}
