import { Counter, Gauge, Registry } from 'prom-client';

/**
 * The agent's Prometheus metrics. Labels never carry user ids or file paths: files are
 * identified by their checkpoint key only in logs and in `status`.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly linesRead: Counter<'bot'>;
  readonly bytesRead: Counter<'bot'>;
  readonly linesSkipped: Counter<'bot' | 'reason'>;
  readonly linesMatched: Counter<'bot' | 'rule'>;
  readonly eventsInvalid: Counter<'bot' | 'reason'>;
  readonly eventsTimeSuspect: Counter<'bot' | 'reason'>;
  readonly eventsQueued: Counter<'event'>;
  readonly eventsSent: Counter<'event'>;
  readonly eventsAcknowledged: Counter<'event'>;
  readonly eventsDeadLettered: Counter<'event' | 'reason'>;
  readonly retries: Counter<'reason'>;
  readonly responses: Counter<'status'>;
  readonly outboxEvents: Gauge;
  readonly outboxBytes: Gauge;
  readonly outboxOldestAgeSeconds: Gauge;
  readonly fileLagBytes: Gauge<'bot'>;
  readonly filesWatched: Gauge<'bot'>;
  readonly lastDeliveryTimestampSeconds: Gauge;
  readonly deliveryPaused: Gauge<'reason'>;
}

/** Creates the metric set on a registry of its own, so tests can hold several agents. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const prefix = 'mfc_agent_';
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    new Counter<L>({ name: prefix + name, help, labelNames, registers: [registry] });
  const gauge = <L extends string>(name: string, help: string, labelNames: L[]) =>
    new Gauge<L>({ name: prefix + name, help, labelNames, registers: [registry] });

  return {
    registry,
    linesRead: counter('lines_read_total', 'Log lines read.', ['bot']),
    bytesRead: counter('bytes_read_total', 'Log bytes read.', ['bot']),
    linesSkipped: counter(
      'lines_skipped_total',
      'Lines that produced no event, by reason (not_json, no_match, too_long, prefiltered).',
      ['bot', 'reason']
    ),
    linesMatched: counter('lines_matched_total', 'Lines matched, per rule.', ['bot', 'rule']),
    eventsInvalid: counter(
      'events_invalid_total',
      'Matched lines whose user id or time was unusable; they go to the dead letters.',
      ['bot', 'reason']
    ),
    eventsTimeSuspect: counter(
      'events_time_suspect_total',
      'Events dated in the future beyond the tolerance, or implausibly old.',
      ['bot', 'reason']
    ),
    eventsQueued: counter('events_queued_total', 'Events written to the outbox.', ['event']),
    eventsSent: counter('events_sent_total', 'Requests sent to the tracker.', ['event']),
    eventsAcknowledged: counter(
      'events_acknowledged_total',
      'Events the tracker accepted with status 200.',
      ['event']
    ),
    eventsDeadLettered: counter(
      'events_dead_lettered_total',
      'Events moved to the dead-letter file.',
      ['event', 'reason']
    ),
    retries: counter('retries_total', 'Requests retried, by cause.', ['reason']),
    responses: counter('responses_total', 'Tracker responses by HTTP status.', ['status']),
    outboxEvents: gauge('outbox_events', 'Events waiting in the outbox.', []),
    outboxBytes: gauge('outbox_bytes', 'Bytes of outbox segments on disk.', []),
    outboxOldestAgeSeconds: gauge(
      'outbox_oldest_age_seconds',
      'Age of the oldest event waiting in the outbox, 0 when it is empty.',
      []
    ),
    fileLagBytes: gauge('file_lag_bytes', 'Bytes not yet read, summed over the bot files.', [
      'bot',
    ]),
    filesWatched: gauge('files_watched', 'Files being followed.', ['bot']),
    lastDeliveryTimestampSeconds: gauge(
      'last_delivery_timestamp_seconds',
      'Unix time of the last acknowledged event.',
      []
    ),
    deliveryPaused: gauge(
      'delivery_paused',
      '1 while delivery is paused, labelled with the cause (token_rejected, request_rejected, outbox_full, state_not_writable).',
      ['reason']
    ),
  };
}
