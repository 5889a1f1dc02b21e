import type { EventSource, TrackerEvent } from '../events/event.js';

/** One queued event as stored in an outbox segment, with its sequence number. */
export interface OutboxRecord {
  seq: number;
  event: TrackerEvent;
  source: EventSource | null;
  /** Epoch ms when the event was appended. */
  foundAt: number;
}

/** An event to append, with the log line it came from (null when it has no source file). */
export interface OutboxEntry {
  event: TrackerEvent;
  source: EventSource | null;
}

/** A record as parsed from disk, with the batch marker that `append` writes. */
export interface StoredRecord extends OutboxRecord {
  /** True on every record of a batch but its last, so a batch cut short can be found on open. */
  more: boolean;
}

/**
 * Serializes a batch of records as JSON lines, one `write(2)` worth of text. Every record but the
 * last carries `"more":true`, so a batch cut short by a crash is recognised and dropped whole.
 */
export function serializeBatch(records: readonly OutboxRecord[]): string {
  let text = '';
  const last = records.length - 1;
  for (let index = 0; index <= last; index++) {
    const record = records[index]!;
    // Field order is fixed so segments read the same for a person inspecting them.
    const stored = {
      seq: record.seq,
      foundAt: record.foundAt,
      event: record.event,
      source: record.source,
      ...(index < last ? { more: true } : {}),
    };
    text += `${JSON.stringify(stored)}\n`;
  }
  return text;
}

/**
 * Parses one segment line, or returns null when it is not a valid record. The user id stays the
 * string it was written as, so ids above 2^53 keep their exact digits.
 */
export function parseRecord(line: string): StoredRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  const { seq, foundAt, event, source, more } = value;
  if (!isSafeCount(seq) || seq < 1) return null;
  if (typeof foundAt !== 'number' || !Number.isFinite(foundAt)) return null;
  if (!isTrackerEvent(event)) return null;
  if (source !== null && !isEventSource(source)) return null;
  if (more !== undefined && typeof more !== 'boolean') return null;
  return { seq, foundAt, event, source, more: more === true };
}

/** Drops the batch marker from a parsed record. */
export function toOutboxRecord(stored: StoredRecord): OutboxRecord {
  return { seq: stored.seq, event: stored.event, source: stored.source, foundAt: stored.foundAt };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSafeCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isTrackerEvent(value: unknown): value is TrackerEvent {
  if (!isObject(value)) return false;
  return (
    typeof value.name === 'string' &&
    typeof value.userId === 'string' &&
    typeof value.timestamp === 'number' &&
    Number.isFinite(value.timestamp) &&
    typeof value.bot === 'string'
  );
}

function isEventSource(value: unknown): value is EventSource {
  if (!isObject(value)) return false;
  return typeof value.fileKey === 'string' && isSafeCount(value.offset) && isSafeCount(value.end);
}
