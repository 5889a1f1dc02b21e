import { closeSync, fstatSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../observability/logger.js';
import { readLines } from './line-reader.js';
import { parseRecord, type StoredRecord } from './record.js';

const SEGMENT_NAME = /^(\d{12,})\.jsonl$/;
const ACK_NAME = /^(\d{12,})\.acks$/;
const ACK_LINE = /^(ack|dead) (\d+)$/;

/** Kind of an acknowledgement-log line: acknowledged by the tracker, or dead-lettered. */
export type DoneKind = 'ack' | 'dead';

/**
 * One segment file of the outbox and its acknowledgement log, kept in memory as counters and the
 * set of done sequence numbers. The file name is the sequence number of its first record, or of
 * the next record to append when the segment is empty.
 */
export class Segment {
  readonly path: string;
  readonly ackPath: string;
  /** Bytes of whole records in the file; reads never go past it. */
  size = 0;
  /** Valid records in the file. */
  records = 0;
  /** Highest sequence number in the file, or null while the file has no record. */
  lastSeq: number | null = null;
  /** Sequence numbers acknowledged or dead-lettered. */
  readonly done = new Set<number>();
  writeFd: number | null = null;
  ackFd: number | null = null;
  /** Set by a write since the last fsync. */
  writeDirty = false;
  ackDirty = false;
  /** Length the file must be cut back to before the next append, after a failed write. */
  truncateTo: number | null = null;
  /** Bytes of whole lines in the acknowledgement log. */
  ackBytes = 0;
  /** Like `truncateTo`, for the acknowledgement log. */
  ackTruncateTo: number | null = null;

  constructor(
    readonly dir: string,
    readonly firstSeq: number
  ) {
    const base = String(firstSeq).padStart(12, '0');
    this.path = join(dir, `${base}.jsonl`);
    this.ackPath = join(dir, `${base}.acks`);
  }

  /** Records neither acknowledged nor dead-lettered. */
  get pending(): number {
    return Math.max(0, this.records - this.done.size);
  }

  /** Returns whether `seq` falls in the range of this segment's records. */
  contains(seq: number): boolean {
    return this.lastSeq !== null && seq >= this.firstSeq && seq <= this.lastSeq;
  }

  /** Closes the file descriptors this segment holds; safe to call twice. */
  closeFds(): void {
    if (this.writeFd !== null) closeSync(this.writeFd);
    if (this.ackFd !== null) closeSync(this.ackFd);
    this.writeFd = null;
    this.ackFd = null;
  }
}

/** Returns the segment of a sorted list whose records include `seq`, by binary search. */
export function findSegment(segments: readonly Segment[], seq: number): Segment | undefined {
  let low = 0;
  let high = segments.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const segment = segments[middle]!;
    if (segment.firstSeq > seq) high = middle - 1;
    else if (segment.contains(seq)) return segment;
    else low = middle + 1;
  }
  return undefined;
}

/** Returns the first sequence number a segment file name carries, or null for other files. */
export function parseSegmentName(name: string): number | null {
  const match = SEGMENT_NAME.exec(name);
  return match ? Number(match[1]) : null;
}

/** Returns the segment an acknowledgement-log file name belongs to, or null for other files. */
export function parseAckName(name: string): number | null {
  const match = ACK_NAME.exec(name);
  return match ? Number(match[1]) : null;
}

/**
 * Scans a segment file on open: counts its records and passes each valid one to `onRecord`. A torn
 * tail is cut off with a warning that gives the byte count. It is a last line without newline,
 * invalid trailing lines, or the records of a batch whose last record is missing. Records below
 * `minSeq` or out of order are skipped as corrupt.
 */
export function scanSegment(
  segment: Segment,
  minSeq: number,
  logger: Logger,
  onRecord: (record: StoredRecord) => void
): void {
  const fd = openSync(segment.path, 'r+');
  try {
    const fileBytes = fstatSync(fd).size;
    // End of the last batch read whole, and what was read after it.
    let goodEnd = 0;
    let openBatch: StoredRecord[] = [];
    let corruptLines: { offset: number; bytes: number }[] = [];
    let lastSeq = minSeq - 1;
    readLines(fd, 0, fileBytes, (text, start, end) => {
      const record = parseRecord(text);
      if (record === null || record.seq <= lastSeq) {
        corruptLines.push({ offset: start, bytes: end - start });
        return true;
      }
      lastSeq = record.seq;
      openBatch.push(record);
      if (!record.more) {
        for (const complete of openBatch) countRecord(segment, complete, onRecord);
        logCorruptLines(segment, corruptLines, logger);
        openBatch = [];
        corruptLines = [];
        goodEnd = end;
      }
      return true;
    });
    if (goodEnd < fileBytes) {
      ftruncateSync(fd, goodEnd);
      logger.warn(
        {
          segment: segment.path,
          offset: goodEnd,
          bytes: fileBytes - goodEnd,
          records: openBatch.length,
          corruptLines: corruptLines.length,
        },
        'Outbox segment ended in a write cut short; the torn tail was cut off (append never returned for it).'
      );
    }
    segment.size = goodEnd;
  } finally {
    closeSync(fd);
  }
}

/** Logs lines that are corrupt although whole records follow them: their events are lost. */
function logCorruptLines(
  segment: Segment,
  lines: readonly { offset: number; bytes: number }[],
  logger: Logger
): void {
  for (const line of lines) {
    logger.error(
      { segment: segment.path, offset: line.offset, bytes: line.bytes },
      'Outbox segment has a corrupt line between valid records; it is skipped and its event is lost.'
    );
  }
}

function countRecord(
  segment: Segment,
  record: StoredRecord,
  onRecord: (record: StoredRecord) => void
): void {
  segment.records++;
  segment.lastSeq = record.seq;
  onRecord(record);
}

/**
 * Loads a segment's acknowledgement log into its done set. A last line without newline is a torn
 * write and is cut off: its record was never reported as acknowledged, so it is sent again.
 */
export function loadAcks(segment: Segment, logger: Logger): void {
  const fd = openSync(segment.ackPath, 'r+');
  try {
    const fileBytes = fstatSync(fd).size;
    const goodEnd = readLines(fd, 0, fileBytes, (text, start) => {
      const match = ACK_LINE.exec(text);
      const seq = match ? Number(match[2]) : Number.NaN;
      if (segment.contains(seq)) {
        segment.done.add(seq);
      } else {
        logger.warn(
          { ackLog: segment.ackPath, offset: start },
          'Acknowledgement log has a line that names no record of its segment; it is ignored.'
        );
      }
      return true;
    });
    segment.ackBytes = goodEnd;
    if (goodEnd < fileBytes) {
      ftruncateSync(fd, goodEnd);
      logger.warn(
        { ackLog: segment.ackPath, offset: goodEnd, bytes: fileBytes - goodEnd },
        'Acknowledgement log ended in a write cut short; the torn line was cut off.'
      );
    }
  } finally {
    closeSync(fd);
  }
}

/** Formats one acknowledgement-log line. */
export function ackLine(kind: DoneKind, seq: number): string {
  return `${kind} ${seq}\n`;
}
