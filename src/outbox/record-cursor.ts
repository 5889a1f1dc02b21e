import { closeSync, openSync } from 'node:fs';
import { type Logger, LogRateLimiter } from '../observability/logger.js';
import { readLines } from './line-reader.js';
import { type OutboxRecord, parseRecord, toOutboxRecord } from './record.js';
import { findSegment, type Segment } from './segment.js';

/** Records read ahead from disk per refill of the read buffer, which bounds the memory used. */
const READ_AHEAD_RECORDS = 512;

/**
 * The read side of the outbox: a position in the segments that only moves forward, and a small
 * buffer of records read ahead from there. Records behind the position were handed out, are done,
 * or are in the buffer, so no record is handed out twice in one process.
 */
export class RecordCursor {
  private segment: Segment | null;
  private position: number;
  private readAhead: OutboxRecord[] = [];
  private readAheadHead = 0;
  private reader: { segment: Segment; fd: number } | null = null;
  private readonly errors = new LogRateLimiter();

  /**
   * @param segments the outbox's segment list, shared and kept current by the outbox
   */
  constructor(
    private readonly segments: readonly Segment[],
    private readonly logger: Logger
  ) {
    // Reading starts at the first segment with a record not done, or at the end of the last one.
    const firstPending = segments.find((segment) => segment.pending > 0);
    const active = segments.at(-1);
    this.segment = firstPending ?? active ?? null;
    this.position = firstPending || !active ? 0 : active.size;
  }

  /** Returns the next record not handed out and not done, reading ahead from disk if needed. */
  peek(): OutboxRecord | null {
    for (;;) {
      if (this.readAheadHead >= this.readAhead.length) {
        this.readAhead = [];
        this.readAheadHead = 0;
        this.readFromDisk();
        if (this.readAhead.length === 0) return null;
      }
      const record = this.readAhead[this.readAheadHead]!;
      // A record whose segment was compacted away was done.
      const segment = findSegment(this.segments, record.seq);
      if (segment && !segment.done.has(record.seq)) return record;
      this.readAheadHead++;
    }
  }

  /** Consumes the record `peek` returned. */
  advance(): void {
    this.readAheadHead++;
  }

  /** Records read from disk and not yet handed out. */
  get bufferedCount(): number {
    return this.readAhead.length - this.readAheadHead;
  }

  /** Moves reading to a segment created while the outbox had none. */
  segmentCreated(segment: Segment): void {
    if (this.segment === null) {
      this.segment = segment;
      this.position = 0;
    }
  }

  /**
   * Lets go of a segment the outbox is deleting. Call before removing it from the list: every
   * record of a deleted segment is done, so reading resumes at the start of the next one.
   */
  segmentRemoved(segment: Segment): void {
    if (this.reader?.segment === segment) this.closeReader();
    if (this.segment !== segment) return;
    const index = this.segments.indexOf(segment);
    this.segment = this.segments[index + 1] ?? null;
    this.position = 0;
  }

  close(): void {
    this.closeReader();
  }

  /** Reads up to READ_AHEAD_RECORDS pending records from the position into the buffer. */
  private readFromDisk(): void {
    while (this.readAhead.length < READ_AHEAD_RECORDS) {
      const segment = this.segment;
      if (!segment) return;
      if (this.position >= segment.size) {
        const next = this.segments[this.segments.indexOf(segment) + 1];
        if (!next) return;
        this.segment = next;
        this.position = 0;
        continue;
      }
      const start = this.position;
      const end = readLines(this.readerFd(segment), start, segment.size, (text, offset) => {
        const stored = parseRecord(text);
        if (stored === null) {
          this.logReadError(segment, offset);
        } else if (!segment.done.has(stored.seq)) {
          this.readAhead.push(toOutboxRecord(stored));
        }
        return this.readAhead.length < READ_AHEAD_RECORDS;
      });
      // A range without a whole line cannot occur for bytes this process counted; skip it.
      this.position = end > start ? end : segment.size;
      if (end === start) this.logReadError(segment, start);
    }
  }

  private readerFd(segment: Segment): number {
    if (this.reader?.segment === segment) return this.reader.fd;
    this.closeReader();
    this.reader = { segment, fd: openSync(segment.path, 'r') };
    return this.reader.fd;
  }

  private closeReader(): void {
    if (this.reader) closeSync(this.reader.fd);
    this.reader = null;
  }

  private logReadError(segment: Segment, offset: number): void {
    const suppressed = this.errors.take(`read:${segment.path}`);
    if (suppressed < 0) return;
    this.logger.error(
      { segment: segment.path, offset, suppressed },
      'Outbox segment has a corrupt line; it is skipped and its event is lost.'
    );
  }
}
