import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { missingEventFields, retryDeadLetters } from '../../src/delivery/dead-letter-retry.js';
import {
  DEAD_LETTERS_FILE,
  DeadLetterWriter,
  RETRIED_FILE,
  readDeadLetters,
} from '../../src/delivery/dead-letters.js';
import { openOutbox } from '../../src/outbox/outbox.js';
import { LogCapture, makeEvent } from './harness.js';

let dir: string;
let writer: DeadLetterWriter;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dead-letters-'));
  writer = new DeadLetterWriter(dir);
});

afterEach(async () => {
  writer.close();
  await rm(dir, { recursive: true, force: true });
});

const source = { fileKey: 'f1', offset: 10, end: 80 };

describe('DeadLetterWriter', () => {
  it('writes one line per entry', async () => {
    const entry = writer.write({
      event: makeEvent(1, { userId: '9007199254740993' }),
      reason: 'bad request',
      status: 400,
      body: '{"error":"Bad Request"}',
      source,
      seq: 7,
    });

    const lines = (await readFile(join(dir, DEAD_LETTERS_FILE), 'utf8')).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    const stored = JSON.parse(lines[0] ?? '');
    expect(stored).toEqual(entry);
    expect(stored.event.userId).toBe('9007199254740993');
    expect(stored.status).toBe(400);
    expect(stored.seq).toBe(7);
    expect(stored.source).toEqual(source);
    expect(Number.isNaN(Date.parse(stored.at))).toBe(false);
  });

  it('gives every entry its own id', () => {
    const ids = new Set(
      Array.from({ length: 200 }, () => writer.write({ event: {}, reason: 'x' }).id)
    );
    expect(ids.size).toBe(200);
  });

  it('keeps a partial invalid event', async () => {
    writer.write({
      event: { name: 'appointment_open', bot: 'mfc_bot' },
      reason: 'invalid user id',
      source,
    });

    const [entry] = await readDeadLetters(dir);
    expect(entry?.event).toEqual({ name: 'appointment_open', bot: 'mfc_bot' });
    expect(entry?.status).toBeUndefined();
  });

  it('ends a torn last line on open', async () => {
    writer.write({ event: makeEvent(1), reason: 'bad request' });
    writer.close();
    await appendFile(join(dir, DEAD_LETTERS_FILE), '{"id":"torn","at":');
    writer = new DeadLetterWriter(dir);
    writer.write({ event: makeEvent(2), reason: 'bad request' });

    const problems: number[] = [];
    const entries = await readDeadLetters(dir, { onInvalidLine: (line) => problems.push(line) });
    expect(entries.map((entry) => entry.event.userId)).toEqual(['1806901', '1806902']);
    expect(problems).toEqual([2]);
  });

  it('counts entries not yet retried', () => {
    const first = writer.write({ event: makeEvent(1), reason: 'bad request' });
    writer.write({ event: makeEvent(2), reason: 'bad request' });
    expect(writer.count()).toBe(2);

    retryDeadLetters(dir, [first]);
    expect(writer.count()).toBe(1);
  });

  it('counts entries from an earlier run', () => {
    writer.write({ event: makeEvent(1), reason: 'bad request' });
    writer.close();
    writer = new DeadLetterWriter(dir);
    expect(writer.count()).toBe(1);
  });
});

describe('readDeadLetters', () => {
  it('returns none without a file', async () => {
    writer.close();
    await rm(join(dir, DEAD_LETTERS_FILE));
    expect(await readDeadLetters(dir)).toEqual([]);
  });

  it('reports an invalid line', async () => {
    writer.write({ event: makeEvent(1), reason: 'bad request' });
    await appendFile(join(dir, DEAD_LETTERS_FILE), 'not json\n{"id":"x"}\n');
    writer.write({ event: makeEvent(2), reason: 'bad request' });

    const problems: string[] = [];
    const entries = await readDeadLetters(dir, {
      onInvalidLine: (line, problem) => problems.push(`${line}: ${problem}`),
    });
    expect(entries).toHaveLength(2);
    expect(problems).toEqual(['2: not valid JSON', '3: missing "at"']);
  });

  it('skips an unfinished last line', async () => {
    writer.write({ event: makeEvent(1), reason: 'bad request' });
    await appendFile(join(dir, DEAD_LETTERS_FILE), '{"id":"half');

    const problems: number[] = [];
    expect(
      await readDeadLetters(dir, { onInvalidLine: (line) => problems.push(line) })
    ).toHaveLength(1);
    expect(problems).toEqual([]);
  });
});

describe('retryDeadLetters', () => {
  it('writes a spool file and marks retried', async () => {
    const kept = writer.write({ event: makeEvent(1), reason: 'bad request' });
    const retried = writer.write({
      event: makeEvent(2, { userId: '9007199254740993' }),
      reason: 'bad request',
    });

    const result = retryDeadLetters(dir, [retried]);
    expect(result.retried).toEqual([retried]);
    expect(result.spoolPath).toMatch(new RegExp(`spool/\\d+-${process.pid}\\.jsonl$`));
    const spool = await readFile(result.spoolPath ?? '', 'utf8');
    expect(spool).toBe(`${JSON.stringify({ event: retried.event })}\n`);
    expect(spool).toContain('"userId":"9007199254740993"');
    expect((await readdir(join(dir, 'spool'))).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    const marks = (await readFile(join(dir, RETRIED_FILE), 'utf8')).trim().split('\n');
    expect(marks.map((line) => JSON.parse(line).id)).toEqual([retried.id]);
    expect((await readDeadLetters(dir)).map((entry) => entry.id)).toEqual([kept.id]);
  });

  it('skips an incomplete event', () => {
    const partial = writer.write({
      event: { name: 'appointment_open', bot: 'mfc_bot' },
      reason: 'invalid user id',
    });

    const result = retryDeadLetters(dir, [partial]);
    expect(result.spoolPath).toBeNull();
    expect(result.retried).toEqual([]);
    expect(result.skipped).toEqual([{ entry: partial, missing: ['userId', 'timestamp'] }]);
  });

  it('feeds the real outbox spool', async () => {
    const entry = writer.write({
      event: makeEvent(3, { userId: '9007199254740993' }),
      reason: 'bad request',
    });
    retryDeadLetters(dir, [entry]);

    const outbox = openOutbox(dir, { maxBytes: 1024 * 1024, logger: new LogCapture().logger });
    try {
      expect(outbox.ingestSpool()).toBe(1);
      expect(outbox.take(10).map((record) => record.event)).toEqual([entry.event]);
    } finally {
      outbox.close();
    }
  });

  it('repairs a torn retried list', async () => {
    const first = writer.write({ event: makeEvent(1), reason: 'bad request' });
    await writeFile(join(dir, RETRIED_FILE), '{"id":"tor');
    retryDeadLetters(dir, [first]);

    expect(await readDeadLetters(dir)).toEqual([]);
  });
});

describe('missingEventFields', () => {
  it('lists each missing field', () => {
    expect(missingEventFields(makeEvent(1))).toEqual([]);
    expect(missingEventFields({})).toEqual(['name', 'userId', 'timestamp', 'bot']);
    expect(missingEventFields({ ...makeEvent(1), userId: 'abc' })).toEqual(['userId']);
  });
});
