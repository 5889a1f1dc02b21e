import { EventEmitter } from 'node:events';
import { closeSync, fsyncSync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { type Logger, LogRateLimiter } from '../observability/logger.js';
import { appendWhole, errorCode, fsyncDirectory } from './file-io.js';
import { readLines } from './line-reader.js';
import { openSegments } from './open-segments.js';
import type { Outbox, OutboxStats } from './outbox.js';
import { OutboxFullError } from './outbox-full-error.js';
import {
  type OutboxEntry,
  type OutboxRecord,
  parseRecord,
  serializeBatch,
  toOutboxRecord,
} from './record.js';
import { ackLine, type DoneKind, Segment } from './segment.js';
import { ingestSpool } from './spool.js';

/** Records read ahead from disk per refill of the read buffer, which bounds the memory used. */
const READ_AHEAD_RECORDS = 512;
const DECIMAL_DIGITS = /^\d+$/;

/** Settings of an open outbox, with defaults applied. */
export interface FileOutboxOptions {
  stateDir: string;
  outboxDir: string;
  maxBytes: number;
  segmentBytes: number;
  logger: Logger;
  now: () => number;
}

/** Counts of the records and done seqs an outbox keeps in memory, to prove memory is bounded. */
export interface OutboxMemoryUsage {
  /** Records read from disk and not yet handed out, plus records handed out and not yet done. */
  recordsHeld: number;
  /** Done sequence numbers of the segments still on disk. */
  doneSeqsHeld: number;
  segments: number;
}

/**
 * The outbox on disk: segment files of JSON lines plus one acknowledgement log per segment. Keeps
 * per-segment counters and done sets in memory and reads records from disk as `take` needs them.
 */
export class FileOutbox extends EventEmitter implements Outbox {
  private readonly segments: Segment[];
  private readonly marks: Map<string, number>;
  private nextSeq: number;
  private totalBytes = 0;
  /** Next byte to read: records before it were handed out, are done, or are in `readAhead`. */
  private cursor: { segment: Segment | null; position: number };
  private readAhead: OutboxRecord[] = [];
  private readAheadHead = 0;
  /** Records handed out and not yet done: seq to foundAt, in the order they were handed out. */
  private readonly inFlight = new Map<number, number>();
  private reader: { segment: Segment; fd: number } | null = null;
  private dirDirty = false;
  private appendScheduled = false;
  private closed = false;
  private readonly errors = new LogRateLimiter();

  constructor(private readonly options: FileOutboxOptions) {
    super();
    const opened = openSegments(options.outboxDir, options.logger);
    this.segments = opened.segments;
    this.marks = opened.highWaterMarks;
    this.nextSeq = opened.nextSeq;
    for (const segment of this.segments) this.totalBytes += segment.size;
    const active = this.segments.at(-1);
    if (active) active.writeFd = openSync(active.path, 'a', 0o640);
    const firstPending = this.segments.find((segment) => segment.pending > 0);
    this.cursor = { segment: firstPending ?? active ?? null, position: 0 };
    if (!firstPending && active) this.cursor.position = active.size;
    options.logger.info(
      {
        outboxDir: options.outboxDir,
        segments: this.segments.length,
        events: this.pendingCount(),
        bytes: this.totalBytes,
        nextSeq: this.nextSeq,
      },
      'Outbox opened.'
    );
  }

  append(entries: OutboxEntry[]): OutboxRecord[] {
    this.assertOpen();
    if (entries.length === 0) return [];
    if (this.isFull()) {
      throw new OutboxFullError(this.options.outboxDir, this.totalBytes, this.options.maxBytes);
    }
    entries.forEach(assertDigitUserId);
    const foundAt = this.options.now();
    const records = entries.map(
      (entry, index): OutboxRecord => ({
        seq: this.nextSeq + index,
        event: entry.event,
        source: entry.source,
        foundAt,
      })
    );
    const buffer = Buffer.from(serializeBatch(records), 'utf8');
    const segment = this.segmentForAppend(buffer.length);
    if (segment.truncateTo !== null) {
      ftruncateSync(segment.writeFd!, segment.truncateTo);
      segment.truncateTo = null;
    }
    appendWhole(segment.writeFd!, buffer, segment.size, (cutError) => {
      segment.truncateTo = segment.size;
      this.options.logger.error(
        { segment: segment.path, offset: segment.size, err: cutError },
        'Cutting a failed outbox write back failed; it is retried before the next append.'
      );
    });

    segment.size += buffer.length;
    segment.records += records.length;
    segment.lastSeq = records.at(-1)!.seq;
    segment.writeDirty = true;
    this.totalBytes += buffer.length;
    this.nextSeq += records.length;
    for (const record of records) this.raiseMark(record);
    this.scheduleAppendEvent();
    return records;
  }

  isFull(): boolean {
    return this.totalBytes >= this.options.maxBytes;
  }

  take(max: number): OutboxRecord[] {
    this.assertOpen();
    const taken: OutboxRecord[] = [];
    while (taken.length < max) {
      const record = this.peekPending();
      if (record === null) break;
      this.readAheadHead++;
      this.inFlight.set(record.seq, record.foundAt);
      taken.push(record);
    }
    return taken;
  }

  acknowledge(seq: number): void {
    this.markDone(seq, 'ack');
  }

  markDead(seq: number): void {
    this.markDone(seq, 'dead');
  }

  sync(): void {
    this.assertOpen();
    for (const segment of this.segments) {
      if (segment.writeDirty && segment.writeFd !== null) fsyncSync(segment.writeFd);
      if (segment.ackDirty && segment.ackFd !== null) fsyncSync(segment.ackFd);
      segment.writeDirty = false;
      segment.ackDirty = false;
    }
    if (this.dirDirty) {
      fsyncDirectory(this.options.outboxDir);
      this.dirDirty = false;
    }
  }

  highWaterMarks(): Map<string, number> {
    return new Map(this.marks);
  }

  stats(): OutboxStats {
    this.assertOpen();
    let oldestFoundAt: number | null = null;
    for (const foundAt of this.inFlight.values()) {
      if (oldestFoundAt === null || foundAt < oldestFoundAt) oldestFoundAt = foundAt;
    }
    const next = this.peekPending();
    if (next && (oldestFoundAt === null || next.foundAt < oldestFoundAt)) {
      oldestFoundAt = next.foundAt;
    }
    return { events: this.pendingCount(), bytes: this.totalBytes, oldestFoundAt };
  }

  compact(): void {
    this.assertOpen();
    const wasFull = this.isFull();
    const active = this.segments.at(-1);
    const done = this.segments.filter((segment) => segment !== active && segment.pending === 0);
    for (const segment of done) this.removeSegment(segment);
    const rollActive = active !== undefined && active.records > 0 && active.pending === 0;
    if (rollActive) {
      // The next sequence number lives in the name of the empty segment that replaces the active
      // one, so that name must be on disk before the active segment goes.
      this.closeWriter(active);
      this.createSegment(this.nextSeq);
      fsyncDirectory(this.options.outboxDir);
      this.dirDirty = false;
      this.removeSegment(active);
    }
    if (done.length > 0 || rollActive) fsyncDirectory(this.options.outboxDir);
    if (wasFull && !this.isFull()) process.nextTick(() => this.emit('space'));
  }

  ingestSpool(): number {
    this.assertOpen();
    return ingestSpool(this, this.options.stateDir, this.options.logger);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReader();
    for (const segment of this.segments) segment.closeFds();
  }

  /** Counts what is kept in memory; the record count stays bounded however large the backlog. */
  memoryUsage(): OutboxMemoryUsage {
    let doneSeqsHeld = 0;
    for (const segment of this.segments) doneSeqsHeld += segment.done.size;
    const readAheadCount = this.readAhead.length - this.readAheadHead;
    return {
      recordsHeld: readAheadCount + this.inFlight.size,
      doneSeqsHeld,
      segments: this.segments.length,
    };
  }

  private markDone(seq: number, kind: DoneKind): void {
    this.assertOpen();
    const segment = this.findSegment(seq);
    if (!segment || segment.done.has(seq)) {
      // Done already, or in a segment compacted away because all of its records were done.
      this.inFlight.delete(seq);
      return;
    }
    if (segment.ackFd === null) {
      segment.ackFd = openSync(segment.ackPath, 'a', 0o640);
      this.dirDirty = true;
    }
    if (segment.ackTruncateTo !== null) {
      ftruncateSync(segment.ackFd, segment.ackTruncateTo);
      segment.ackTruncateTo = null;
    }
    const line = Buffer.from(ackLine(kind, seq), 'utf8');
    appendWhole(segment.ackFd, line, segment.ackBytes, (cutError) => {
      segment.ackTruncateTo = segment.ackBytes;
      this.options.logger.error(
        { ackLog: segment.ackPath, offset: segment.ackBytes, err: cutError },
        'Cutting a failed acknowledgement write back failed; it is retried before the next one.'
      );
    });
    segment.ackBytes += line.length;
    segment.done.add(seq);
    segment.ackDirty = true;
    this.inFlight.delete(seq);
  }

  /** Returns the next record not handed out and not done, reading ahead from disk if needed. */
  private peekPending(): OutboxRecord | null {
    for (;;) {
      if (this.readAheadHead >= this.readAhead.length) {
        this.readAhead = [];
        this.readAheadHead = 0;
        this.readFromDisk(READ_AHEAD_RECORDS);
        if (this.readAhead.length === 0) return null;
      }
      const record = this.readAhead[this.readAheadHead]!;
      if (!this.findSegment(record.seq)?.done.has(record.seq)) return record;
      this.readAheadHead++;
    }
  }

  /** Reads up to `target` pending records from the cursor into the read-ahead buffer. */
  private readFromDisk(target: number): void {
    while (this.readAhead.length < target) {
      const segment = this.cursor.segment;
      if (!segment) return;
      if (this.cursor.position >= segment.size) {
        const next = this.segments[this.segments.indexOf(segment) + 1];
        if (!next) return;
        this.cursor = { segment: next, position: 0 };
        continue;
      }
      const start = this.cursor.position;
      const end = readLines(this.readerFd(segment), start, segment.size, (text, offset) => {
        const stored = parseRecord(text);
        if (stored === null) {
          this.logReadError(segment, offset);
        } else if (!segment.done.has(stored.seq)) {
          this.readAhead.push(toOutboxRecord(stored));
        }
        return this.readAhead.length < target;
      });
      // A range without a whole line cannot occur for bytes this process counted; skip it.
      this.cursor.position = end > start ? end : segment.size;
      if (end === start) this.logReadError(segment, start);
    }
  }

  private segmentForAppend(bytes: number): Segment {
    const active = this.segments.at(-1);
    if (active && (active.size === 0 || active.size + bytes <= this.options.segmentBytes)) {
      return active;
    }
    if (active) this.closeWriter(active);
    return this.createSegment(this.nextSeq);
  }

  private createSegment(firstSeq: number): Segment {
    const segment = new Segment(this.options.outboxDir, firstSeq);
    segment.writeFd = openSync(segment.path, 'a', 0o640);
    this.segments.push(segment);
    this.dirDirty = true;
    if (this.cursor.segment === null) this.cursor = { segment, position: 0 };
    return segment;
  }

  /** fsyncs and closes a segment that takes no more appends, so `sync` need not track it. */
  private closeWriter(segment: Segment): void {
    if (segment.writeFd === null) return;
    if (segment.writeDirty) fsyncSync(segment.writeFd);
    segment.writeDirty = false;
    closeSync(segment.writeFd);
    segment.writeFd = null;
  }

  /** Deletes a segment whose records are all done: the segment first, so no record loses its acks. */
  private removeSegment(segment: Segment): void {
    if (this.reader?.segment === segment) this.closeReader();
    segment.closeFds();
    unlinkSync(segment.path);
    try {
      unlinkSync(segment.ackPath);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
    const index = this.segments.indexOf(segment);
    this.segments.splice(index, 1);
    this.totalBytes -= segment.size;
    for (const seq of segment.done) this.inFlight.delete(seq);
    if (this.cursor.segment === segment) {
      // Every record of the segment was read and done, so reading resumes at the next one.
      this.cursor = { segment: this.segments[index] ?? null, position: 0 };
    }
  }

  private findSegment(seq: number): Segment | undefined {
    let low = 0;
    let high = this.segments.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const segment = this.segments[middle]!;
      if (segment.firstSeq > seq) high = middle - 1;
      else if (segment.contains(seq)) return segment;
      else low = middle + 1;
    }
    return undefined;
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

  private raiseMark(record: OutboxRecord): void {
    if (record.source === null) return;
    const mark = this.marks.get(record.source.fileKey);
    if (mark === undefined || record.source.end > mark) {
      this.marks.set(record.source.fileKey, record.source.end);
    }
  }

  private pendingCount(): number {
    let pending = 0;
    for (const segment of this.segments) pending += segment.pending;
    return pending;
  }

  private scheduleAppendEvent(): void {
    if (this.appendScheduled) return;
    this.appendScheduled = true;
    // Emitted on the next tick so a throwing listener cannot make a written batch look failed.
    process.nextTick(() => {
      this.appendScheduled = false;
      this.emit('append');
    });
  }

  private logReadError(segment: Segment, offset: number): void {
    const suppressed = this.errors.take(`read:${segment.path}`);
    if (suppressed < 0) return;
    this.options.logger.error(
      { segment: segment.path, offset, suppressed },
      'Outbox segment has a corrupt line; it is skipped and its event is lost.'
    );
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`outbox ${this.options.outboxDir} is closed`);
  }
}

function assertDigitUserId(entry: OutboxEntry, index: number): void {
  const { userId } = entry.event;
  if (typeof userId !== 'string' || !DECIMAL_DIGITS.test(userId)) {
    throw new TypeError(
      `outbox entry ${index} has user id ${JSON.stringify(userId)} (${typeof userId}); ` +
        'queue user ids as strings of decimal digits so ids above 2^53 stay exact'
    );
  }
}
