import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../observability/logger.js';
import { loadAcks, parseAckName, parseSegmentName, Segment, scanSegment } from './segment.js';

/** The segments, high-water marks and next sequence number found in an outbox directory. */
export interface OpenedSegments {
  /** Segments in sequence order; the last one is where appends go. */
  segments: Segment[];
  /** Highest `source.end` per `source.fileKey` over every record on disk. */
  highWaterMarks: Map<string, number>;
  /** Sequence number for the next record appended. */
  nextSeq: number;
}

/**
 * Scans the segments and acknowledgement logs of an outbox directory: cuts off torn tails, counts
 * records, loads the done sets, and deletes acknowledgement logs whose segment is gone (the
 * segment was compacted after they were last written). Reads every record once, keeping none.
 */
export function openSegments(dir: string, logger: Logger): OpenedSegments {
  const names = readdirSync(dir);
  const segments = names
    .map(parseSegmentName)
    .filter((seq): seq is number => seq !== null)
    .sort((a, b) => a - b)
    .map((seq) => new Segment(dir, seq));

  const highWaterMarks = new Map<string, number>();
  let nextSeq = 1;
  for (const segment of segments) {
    const minSeq = Math.max(segment.firstSeq, nextSeq);
    scanSegment(segment, minSeq, logger, (record) => {
      if (record.source === null) return;
      const mark = highWaterMarks.get(record.source.fileKey);
      if (mark === undefined || record.source.end > mark) {
        highWaterMarks.set(record.source.fileKey, record.source.end);
      }
    });
    // An empty segment's name is the next sequence number, so it survives compaction.
    nextSeq = Math.max(nextSeq, segment.firstSeq, (segment.lastSeq ?? 0) + 1);
  }

  const bySeq = new Map(segments.map((segment) => [segment.firstSeq, segment]));
  for (const name of names) {
    const seq = parseAckName(name);
    if (seq === null) continue;
    const segment = bySeq.get(seq);
    if (segment) {
      loadAcks(segment, logger);
    } else {
      unlinkSync(join(dir, name));
      logger.info({ ackLog: name }, 'Deleted the acknowledgement log of a compacted segment.');
    }
  }
  return { segments, highWaterMarks, nextSeq };
}
