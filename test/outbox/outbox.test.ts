import {
  appendFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Outbox, OutboxFullError, openOutbox } from '../../src/outbox/outbox.js';
import { captureLogger, makeTempDir, sampleEvent } from './helpers.js';

const MiB = 1024 * 1024;

function open(
  dir: string,
  options: { maxBytes?: number; segmentBytes?: number; now?: () => number } = {}
) {
  const captured = captureLogger();
  const outbox = openOutbox(dir, {
    maxBytes: options.maxBytes ?? 64 * MiB,
    logger: captured.logger,
    ...(options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return { outbox, ...captured };
}

function appendEvents(outbox: Outbox, from: number, count: number, fileKey = 'f-a') {
  const entries = Array.from({ length: count }, (_, index) => ({
    event: sampleEvent(from + index),
    source: { fileKey, offset: (from + index) * 100, end: (from + index + 1) * 100 },
  }));
  return outbox.append(entries);
}

function segmentFiles(dir: string): string[] {
  return readdirSync(join(dir, 'outbox'))
    .filter((name) => name.endsWith('.jsonl'))
    .sort();
}

describe('outbox', () => {
  it('append then take in order', () => {
    const dir = makeTempDir('outbox');
    const { outbox } = open(dir, { now: () => 5000 });
    const appended = appendEvents(outbox, 0, 3);
    expect(appended.map((record) => record.seq)).toEqual([1, 2, 3]);
    expect(appended[0]!.foundAt).toBe(5000);

    const first = outbox.take(2);
    expect(first.map((record) => record.seq)).toEqual([1, 2]);
    expect(first[1]!.event).toEqual(sampleEvent(1));
    expect(first[1]!.source).toEqual({ fileKey: 'f-a', offset: 100, end: 200 });
    expect(outbox.take(5).map((record) => record.seq)).toEqual([3]);
    expect(outbox.take(5)).toEqual([]);
    outbox.close();
  });

  it('take never repeats a record', () => {
    const dir = makeTempDir('outbox');
    const { outbox } = open(dir);
    appendEvents(outbox, 0, 2);
    expect(outbox.take(10).map((record) => record.seq)).toEqual([1, 2]);
    appendEvents(outbox, 2, 2);
    expect(outbox.take(10).map((record) => record.seq)).toEqual([3, 4]);
    outbox.close();
  });

  it('emits append after a batch', async () => {
    const dir = makeTempDir('outbox');
    const { outbox } = open(dir);
    const appended = new Promise<void>((resolve) => outbox.once('append', resolve));
    appendEvents(outbox, 0, 1);
    await appended;
    outbox.close();
  });

  it('restart resumes at records not done', () => {
    const dir = makeTempDir('outbox');
    const first = open(dir);
    appendEvents(first.outbox, 0, 5);
    first.outbox.take(5);
    first.outbox.acknowledge(1);
    first.outbox.markDead(3);
    first.outbox.acknowledge(5);
    // No sync: acknowledgements are written with write(2), and a reopen reads them.
    first.outbox.close();

    const second = open(dir);
    expect(second.outbox.take(10).map((record) => record.seq)).toEqual([2, 4]);
    expect(second.outbox.stats().events).toBe(2);
    second.outbox.close();
  });

  it('acknowledge ignores repeats and unknown seqs', () => {
    const dir = makeTempDir('outbox');
    const { outbox } = open(dir);
    appendEvents(outbox, 0, 2);
    outbox.take(2);
    outbox.acknowledge(1);
    outbox.acknowledge(1);
    outbox.acknowledge(99);
    expect(outbox.stats().events).toBe(1);
    const ackLog = readFileSync(join(dir, 'outbox', '000000000001.acks'), 'utf8');
    expect(ackLog).toBe('ack 1\n');
    outbox.close();
  });

  it('seq grows after compaction', () => {
    const dir = makeTempDir('outbox');
    const first = open(dir);
    appendEvents(first.outbox, 0, 5);
    for (const record of first.outbox.take(5)) first.outbox.acknowledge(record.seq);
    first.outbox.sync();
    first.outbox.compact();
    expect(first.outbox.stats()).toEqual({ events: 0, bytes: 0, oldestFoundAt: null });
    expect(segmentFiles(dir)).toEqual(['000000000006.jsonl']);
    first.outbox.close();

    const second = open(dir);
    expect(appendEvents(second.outbox, 5, 1)[0]!.seq).toBe(6);
    expect(second.outbox.take(10).map((record) => record.seq)).toEqual([6]);
    second.outbox.close();
  });

  it('segments roll and compact', () => {
    const dir = makeTempDir('outbox');
    const { outbox } = open(dir, { segmentBytes: 1000 });
    for (let index = 0; index < 30; index++) appendEvents(outbox, index, 1);
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) {
      expect(statSync(join(dir, 'outbox', file)).size).toBeLessThanOrEqual(1000);
    }
    const taken = outbox.take(30);
    expect(taken.map((record) => record.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // Everything but the last record done: only the segment holding seq 30 stays.
    for (const record of taken.slice(0, 29)) outbox.acknowledge(record.seq);
    outbox.compact();
    const remaining = segmentFiles(dir);
    expect(remaining).toHaveLength(1);
    expect(readFileSync(join(dir, 'outbox', remaining[0]!), 'utf8')).toContain('"seq":30,');
    expect(outbox.stats().events).toBe(1);
    outbox.close();
  });

  it('high-water marks per file', () => {
    const dir = makeTempDir('outbox');
    const first = open(dir);
    appendEvents(first.outbox, 0, 3, 'f-a');
    appendEvents(first.outbox, 10, 2, 'f-b');
    first.outbox.append([{ event: sampleEvent(99), source: null }]);
    expect(first.outbox.highWaterMarks()).toEqual(
      new Map([
        ['f-a', 300],
        ['f-b', 1200],
      ])
    );
    first.outbox.close();
    const second = open(dir);
    expect(second.outbox.highWaterMarks()).toEqual(
      new Map([
        ['f-a', 300],
        ['f-b', 1200],
      ])
    );
    second.outbox.close();
  });

  it('exact 19-digit user ids survive', () => {
    const dir = makeTempDir('outbox');
    const ids = ['9223372036854775807', '1234567890123456789', '18446744073709551615'];
    const first = open(dir);
    first.outbox.append(ids.map((userId, n) => ({ event: sampleEvent(n, userId), source: null })));
    first.outbox.close();
    const second = open(dir);
    expect(second.outbox.take(10).map((record) => record.event.userId)).toEqual(ids);
    expect(readFileSync(join(dir, 'outbox', '000000000001.jsonl'), 'utf8')).toContain(
      '"userId":"9223372036854775807"'
    );
    second.outbox.close();
  });

  it('rejects a numeric user id', () => {
    const dir = makeTempDir('outbox');
    const { outbox } = open(dir);
    const event = { ...sampleEvent(0), userId: 12345 as unknown as string };
    expect(() => outbox.append([{ event, source: null }])).toThrow(/user id 12345 \(number\)/);
    expect(outbox.stats().bytes).toBe(0);
    outbox.close();
  });

  it('stats count events and oldest', () => {
    const dir = makeTempDir('outbox');
    let clock = 1000;
    const { outbox } = open(dir, { now: () => clock });
    appendEvents(outbox, 0, 2);
    clock = 2000;
    appendEvents(outbox, 2, 2);
    const bytes = statSync(join(dir, 'outbox', '000000000001.jsonl')).size;
    expect(outbox.stats()).toEqual({ events: 4, bytes, oldestFoundAt: 1000 });
    const taken = outbox.take(3);
    outbox.acknowledge(taken[1]!.seq);
    // Seq 1 is in flight and still the oldest.
    expect(outbox.stats()).toEqual({ events: 3, bytes, oldestFoundAt: 1000 });
    outbox.acknowledge(taken[0]!.seq);
    expect(outbox.stats().oldestFoundAt).toBe(2000);
    outbox.close();
  });

  it('full throws until compaction frees space', async () => {
    const dir = makeTempDir('outbox');
    const { outbox } = open(dir, { maxBytes: 1000 });
    let appended = 0;
    let fullError: unknown = null;
    while (fullError === null) {
      try {
        appendEvents(outbox, appended, 1);
        appended++;
      } catch (error) {
        fullError = error;
      }
    }
    expect(fullError).toBeInstanceOf(OutboxFullError);
    expect((fullError as Error).message).toMatch(/outbox\.maxBytes = 1000/);
    expect(outbox.isFull()).toBe(true);
    const bytesWhenFull = outbox.stats().bytes;

    let spaceEmitted = false;
    outbox.on('space', () => {
      spaceEmitted = true;
    });
    const taken = outbox.take(100);
    expect(taken).toHaveLength(appended);
    for (const record of taken.slice(0, -1)) outbox.acknowledge(record.seq);
    outbox.compact();
    expect(outbox.isFull()).toBe(true);
    expect(outbox.stats().bytes).toBe(bytesWhenFull);

    outbox.acknowledge(taken.at(-1)!.seq);
    outbox.compact();
    expect(outbox.isFull()).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(spaceEmitted).toBe(true);
    expect(appendEvents(outbox, 100, 1)[0]!.seq).toBe(appended + 1);
    outbox.close();
  });

  it('rejects an invalid maxBytes', () => {
    const dir = makeTempDir('outbox');
    const { logger } = captureLogger();
    expect(() => openOutbox(dir, { maxBytes: 0, logger })).toThrow(
      'outbox.maxBytes is 0; it must be a positive whole number of bytes'
    );
  });
});

describe('outbox torn writes', () => {
  function prepare(tail: string) {
    const dir = makeTempDir('outbox-torn');
    const first = open(dir);
    appendEvents(first.outbox, 0, 2);
    first.outbox.close();
    const segment = join(dir, 'outbox', '000000000001.jsonl');
    const goodBytes = statSync(segment).size;
    appendFileSync(segment, tail);
    return { dir, segment, goodBytes };
  }

  it('drops a half-written last line', () => {
    const { dir, segment, goodBytes } = prepare('{"seq":3,"foundAt":17,"event":{"na');
    const reopened = open(dir);
    expect(statSync(segment).size).toBe(goodBytes);
    const warning = reopened.lines.find((line) => line.level === 40);
    expect(warning?.bytes).toBe(34);
    expect(reopened.outbox.take(10).map((record) => record.seq)).toEqual([1, 2]);
    expect(appendEvents(reopened.outbox, 2, 1)[0]!.seq).toBe(3);
    reopened.outbox.close();
    expect(
      open(dir)
        .outbox.take(10)
        .map((record) => record.seq)
    ).toEqual([1, 2, 3]);
  });

  it('drops a whole record without newline', () => {
    const record = `{"seq":3,"foundAt":17,"event":${JSON.stringify(sampleEvent(2))},"source":null}`;
    const { dir, segment, goodBytes } = prepare(record);
    const reopened = open(dir);
    expect(statSync(segment).size).toBe(goodBytes);
    expect(reopened.outbox.take(10).map((record) => record.seq)).toEqual([1, 2]);
    reopened.outbox.close();
  });

  it('drops a batch cut short', () => {
    const event = JSON.stringify(sampleEvent(2));
    const record = `{"seq":3,"foundAt":17,"event":${event},"source":null,"more":true}\n`;
    const { dir, segment, goodBytes } = prepare(record);
    const reopened = open(dir);
    expect(statSync(segment).size).toBe(goodBytes);
    expect(reopened.outbox.take(10).map((record) => record.seq)).toEqual([1, 2]);
    expect(reopened.messages('warn')[0]).toMatch(/torn tail was cut off/);
    reopened.outbox.close();
  });

  it('drops a torn acknowledgement line', () => {
    const dir = makeTempDir('outbox-torn');
    const first = open(dir);
    appendEvents(first.outbox, 0, 12);
    first.outbox.take(12);
    first.outbox.acknowledge(2);
    first.outbox.close();
    // The start of an "ack 12" line cut short must not mark seq 1 done.
    appendFileSync(join(dir, 'outbox', '000000000001.acks'), 'ack 1');
    const reopened = open(dir);
    expect(reopened.outbox.take(1)[0]!.seq).toBe(1);
    expect(reopened.outbox.stats().events).toBe(11);
    expect(readFileSync(join(dir, 'outbox', '000000000001.acks'), 'utf8')).toBe('ack 2\n');
    reopened.outbox.close();
  });

  it('skips a corrupt line between records', () => {
    const dir = makeTempDir('outbox-torn');
    const segment = join(dir, 'outbox', '000000000001.jsonl');
    const first = open(dir);
    appendEvents(first.outbox, 0, 1);
    first.outbox.close();
    const record = `{"seq":2,"foundAt":17,"event":${JSON.stringify(sampleEvent(1))},"source":null}`;
    appendFileSync(segment, `not json\n${record}\n`);

    const second = open(dir);
    expect(second.messages('error')[0]).toMatch(/corrupt line between valid records/);
    expect(second.outbox.take(10).map((record) => record.seq)).toEqual([1, 2]);
    second.outbox.close();
  });
});

describe('outbox memory', () => {
  it('backlog of 200,000 stays on disk', () => {
    const dir = makeTempDir('outbox-memory');
    const total = 200_000;
    const first = open(dir, { maxBytes: 512 * MiB, segmentBytes: 4 * MiB });
    for (let from = 0; from < total; from += 5000) appendEvents(first.outbox, from, 5000);
    first.outbox.close();

    const { outbox } = open(dir, { maxBytes: 512 * MiB, segmentBytes: 4 * MiB });
    const usage = () =>
      (outbox as unknown as { memoryUsage(): { recordsHeld: number } }).memoryUsage();
    expect(usage().recordsHeld).toBe(0);
    // stats() reads the next record to find the oldest, and with it one read-ahead buffer.
    expect(outbox.stats().events).toBe(total);
    expect(usage().recordsHeld).toBeLessThanOrEqual(512);

    let expectedSeq = 1;
    let maxHeld = 0;
    while (expectedSeq <= total) {
      const batch = outbox.take(300);
      expect(batch.length).toBeGreaterThan(0);
      expect(batch[0]!.seq).toBe(expectedSeq);
      maxHeld = Math.max(maxHeld, usage().recordsHeld);
      for (const record of batch) outbox.acknowledge(record.seq);
      expectedSeq += batch.length;
      if (expectedSeq % 30_000 < 300) outbox.compact();
    }
    expect(expectedSeq).toBe(total + 1);
    expect(maxHeld).toBeLessThanOrEqual(1024);
    outbox.compact();
    expect(outbox.stats().events).toBe(0);
    outbox.close();
    // The backlog takes about 40 MB of the temp directory.
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('outbox spool', () => {
  function spoolLine(n: number): string {
    return `${JSON.stringify({ event: sampleEvent(n), reason: 'retry' })}\n`;
  }

  it('ingests and deletes spool files', () => {
    const dir = makeTempDir('outbox-spool');
    const spoolDir = join(dir, 'spool');
    const { outbox } = open(dir);
    expect(outbox.ingestSpool()).toBe(0);
    writeSpool(spoolDir, 'retry-1.jsonl', spoolLine(0) + spoolLine(1));
    // A bare event with a 19-digit id written as a JSON number keeps its digits.
    writeSpool(
      spoolDir,
      'retry-2.jsonl',
      '{"name":"appointment_cancel","userId":9223372036854775807,"timestamp":1773846503,"bot":"mfc_bot"}\n'
    );
    expect(outbox.ingestSpool()).toBe(3);
    expect(readdirSync(spoolDir)).toEqual([]);
    const records = outbox.take(10);
    expect(records.map((record) => record.source)).toEqual([
      { fileKey: 'spool:retry-1.jsonl', offset: 0, end: 1 },
      { fileKey: 'spool:retry-1.jsonl', offset: 1, end: 2 },
      { fileKey: 'spool:retry-2.jsonl', offset: 0, end: 1 },
    ]);
    expect(records[2]!.event.userId).toBe('9223372036854775807');
    outbox.close();
  });

  it('skips spool lines queued before', () => {
    const dir = makeTempDir('outbox-spool');
    const spoolDir = join(dir, 'spool');
    const content = spoolLine(0) + spoolLine(1) + spoolLine(2);
    const first = open(dir);
    writeSpool(spoolDir, 'retry-1.jsonl', content);
    expect(first.outbox.ingestSpool()).toBe(3);
    first.outbox.close();
    // As if the run was killed after appending but before deleting the file.
    writeSpool(spoolDir, 'retry-1.jsonl', content);
    const second = open(dir);
    expect(second.outbox.ingestSpool()).toBe(0);
    expect(readdirSync(spoolDir)).toEqual([]);
    expect(second.outbox.stats().events).toBe(3);
    second.outbox.close();
  });

  it('sets aside a file with invalid lines', () => {
    const dir = makeTempDir('outbox-spool');
    const spoolDir = join(dir, 'spool');
    const { outbox, messages } = open(dir);
    writeSpool(spoolDir, 'retry-1.jsonl', `${spoolLine(0)}{"name":"x"}\nnot json\n${spoolLine(3)}`);
    expect(outbox.ingestSpool()).toBe(2);
    expect(readdirSync(spoolDir)).toEqual(['retry-1.jsonl.invalid']);
    expect(messages('warn').at(-1)).toMatch(/renamed to .*retry-1\.jsonl\.invalid/);
    outbox.close();
  });

  it('keeps the rest when full', () => {
    const dir = makeTempDir('outbox-spool');
    const spoolDir = join(dir, 'spool');
    const { outbox } = open(dir, { maxBytes: 1 });
    writeSpool(spoolDir, 'retry-1.jsonl', spoolLine(0) + spoolLine(1));
    // The limit is checked before each write, so the first file fits although it passes 1 byte.
    expect(outbox.ingestSpool()).toBe(2);
    expect(readdirSync(spoolDir)).toEqual([]);
    writeSpool(spoolDir, 'retry-2.jsonl', spoolLine(2));
    expect(outbox.ingestSpool()).toBe(0);
    expect(readdirSync(spoolDir)).toEqual(['retry-2.jsonl']);
    for (const record of outbox.take(10)) outbox.acknowledge(record.seq);
    outbox.compact();
    expect(outbox.ingestSpool()).toBe(1);
    expect(readdirSync(spoolDir)).toEqual([]);
    outbox.close();
  });
});

function writeSpool(spoolDir: string, name: string, content: string): void {
  mkdirSync(spoolDir, { recursive: true });
  writeFileSync(join(spoolDir, `${name}.tmp`), content);
  renameSync(join(spoolDir, `${name}.tmp`), join(spoolDir, name));
}
