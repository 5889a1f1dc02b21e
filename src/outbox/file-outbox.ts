import { EventEmitter } from 'node:events';
import { closeSync, fsyncSync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import type { Logger } from '../observability/logger.js';
import { appendWhole, errorCode, fsyncDirectory } from './file-io.js';
import { openSegments } from './open-segments.js';
import type { Outbox, OutboxStats } from './outbox.js';
import { OutboxFullError } from './outbox-full-error.js';
import { type OutboxEntry, type OutboxRecord, serializeBatch } from './record.js';
import { RecordCursor } from './record-cursor.js';
import { ackLine, type DoneKind, findSegment, Segment } from './segment.js';
import { ingestSpool } from './spool.js';

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
  private readonly cursor: RecordCursor;
  /** Records handed out and not yet done: seq to foundAt, in the order they were handed out. */
  private readonly inFlight = new Map<number, number>();
  private dirDirty = false;
  private appendScheduled = false;
  private closed = false;

  constructor(private readonly options: FileOutboxOptions) {
    super();
    const opened = openSegments(options.outboxDir, options.logger);
    this.segments = opened.segments;
    this.marks = opened.highWaterMarks;
    this.nextSeq = opened.nextSeq;
    for (const segment of this.segments) this.totalBytes += segment.size;
    const active = this.segments.at(-1);
    if (active) active.writeFd = openSync(active.path, 'a', 0o640);
    this.cursor = new RecordCursor(this.segments, options.logger);
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
      const record = this.cursor.peek();
      if (record === null) break;
      this.cursor.advance();
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
    const next = this.cursor.peek();
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
    this.cursor.close();
    for (const segment of this.segments) segment.closeFds();
  }

  /** Counts what is kept in memory; the record count stays bounded however large the backlog. */
  memoryUsage(): OutboxMemoryUsage {
    let doneSeqsHeld = 0;
    for (const segment of this.segments) doneSeqsHeld += segment.done.size;
    return {
      recordsHeld: this.cursor.bufferedCount + this.inFlight.size,
      doneSeqsHeld,
      segments: this.segments.length,
    };
  }

  private markDone(seq: number, kind: DoneKind): void {
    this.assertOpen();
    const segment = findSegment(this.segments, seq);
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
    this.cursor.segmentCreated(segment);
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
    this.cursor.segmentRemoved(segment);
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
