import { describe, expect, it } from 'vitest';
import { CheckpointBook } from '../../src/state/checkpoint-book.js';
import { loadState } from '../../src/state/checkpoint-store.js';
import { captureLogger, makeTempDir } from '../outbox/helpers.js';
import { sampleCheckpoint } from './helpers.js';

describe('checkpoint book', () => {
  it('upsert, get, remove and dirty', () => {
    const { logger } = captureLogger();
    const book = new CheckpointBook({ dir: makeTempDir('book'), files: [], logger });
    expect(book.isDirty).toBe(false);
    book.upsert(sampleCheckpoint('f-a', 10));
    book.upsert(sampleCheckpoint('f-b', 20));
    book.upsert(sampleCheckpoint('f-a', 30));
    expect(book.isDirty).toBe(true);
    expect(book.get('f-a')?.offset).toBe(30);
    expect(book.all().map((checkpoint) => checkpoint.key)).toEqual(['f-a', 'f-b']);
    book.remove('f-b');
    expect(book.get('f-b')).toBeUndefined();
  });

  it('save runs the hooks in order', () => {
    const dir = makeTempDir('book');
    const { logger } = captureLogger();
    const calls: string[] = [];
    const book = new CheckpointBook({
      dir,
      files: [],
      logger,
      now: () => 42,
      beforeSave: () => calls.push(`before:${loadState(dir, logger).source}`),
      afterSave: () => calls.push(`after:${loadState(dir, logger).source}`),
    });
    book.upsert(sampleCheckpoint('f-a', 10));
    book.save();
    expect(calls).toEqual(['before:empty', 'after:current']);
    expect(book.isDirty).toBe(false);
    expect(loadState(dir, logger)).toEqual({
      files: [sampleCheckpoint('f-a', 10)],
      savedAt: 42,
      source: 'current',
    });
  });

  it('failed beforeSave stays dirty', () => {
    const dir = makeTempDir('book');
    const { logger } = captureLogger();
    const book = new CheckpointBook({
      dir,
      files: [],
      logger,
      beforeSave: () => {
        throw new Error('fsync failed');
      },
    });
    book.upsert(sampleCheckpoint('f-a', 10));
    expect(() => book.save()).toThrow('fsync failed');
    expect(book.isDirty).toBe(true);
    expect(loadState(dir, logger).source).toBe('empty');
  });

  it('failed afterSave is logged', () => {
    const { logger, messages } = captureLogger();
    const book = new CheckpointBook({
      dir: makeTempDir('book'),
      files: [],
      logger,
      afterSave: () => {
        throw new Error('unlink failed');
      },
    });
    book.save();
    expect(book.isDirty).toBe(false);
    expect(messages('error')[0]).toMatch(/outbox compaction\) failed/);
  });

  it('new keys are unique', () => {
    const { logger } = captureLogger();
    const book = new CheckpointBook({ dir: makeTempDir('book'), files: [], logger, now: () => 0 });
    const keys = new Set(Array.from({ length: 1000 }, () => book.newKey()));
    expect(keys.size).toBe(1000);
    for (const key of keys) expect(key).toMatch(/^f-0-[0-9a-z]+[0-9a-f]{4}$/);
  });

  it('reconcile moves checkpoints up', () => {
    const { logger, lines } = captureLogger();
    const book = new CheckpointBook({
      dir: makeTempDir('book'),
      files: [
        sampleCheckpoint('f-a', 100),
        sampleCheckpoint('f-b', 500),
        sampleCheckpoint('f-c', 7),
      ],
      logger,
      now: () => 9,
    });
    book.reconcile(
      new Map([
        ['f-a', 300],
        ['f-b', 400],
        ['spool:x', 3],
      ])
    );
    expect(book.get('f-a')).toEqual({
      ...sampleCheckpoint('f-a', 300),
      tailCheck: null,
      updatedAt: 9,
    });
    expect(book.get('f-b')).toEqual(sampleCheckpoint('f-b', 500));
    expect(book.get('f-c')).toEqual(sampleCheckpoint('f-c', 7));
    expect(book.isDirty).toBe(true);
    expect(
      lines.find((line) => line.msg === 'Checkpoints reconciled with the outbox.')?.moved
    ).toBe(1);
  });
});
