import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadState,
  StateSaveError,
  StateUnreadableError,
  StateVersionError,
  saveState,
} from '../../src/state/checkpoint-store.js';
import { captureLogger, makeTempDir } from '../outbox/helpers.js';
import { sampleCheckpoint } from './helpers.js';

describe('checkpoint store', () => {
  it('first start is empty', () => {
    const { logger } = captureLogger();
    expect(loadState(makeTempDir('state'), logger)).toEqual({
      files: [],
      savedAt: null,
      source: 'empty',
    });
  });

  it('save then load', () => {
    const dir = makeTempDir('state');
    const { logger } = captureLogger();
    const files = [sampleCheckpoint('f-a', 100), sampleCheckpoint('f-b', 0)];
    saveState(dir, files, 5000);
    expect(loadState(dir, logger)).toEqual({ files, savedAt: 5000, source: 'current' });
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).version).toBe(1);
    expect(existsSync(join(dir, 'state.json.tmp'))).toBe(false);
  });

  it('keeps the previous copy', () => {
    const dir = makeTempDir('state');
    saveState(dir, [sampleCheckpoint('f-a', 1)], 1);
    expect(existsSync(join(dir, 'state.json.prev'))).toBe(false);
    saveState(dir, [sampleCheckpoint('f-a', 2)], 2);
    saveState(dir, [sampleCheckpoint('f-a', 3)], 3);
    const previous = JSON.parse(readFileSync(join(dir, 'state.json.prev'), 'utf8'));
    expect(previous.savedAt).toBe(2);
    expect(previous.files[0].offset).toBe(2);
  });

  it('falls back on a corrupt state.json', () => {
    const dir = makeTempDir('state');
    const { logger, lines } = captureLogger();
    saveState(dir, [sampleCheckpoint('f-a', 1)], 1);
    saveState(dir, [sampleCheckpoint('f-a', 2)], 2);
    writeFileSync(join(dir, 'state.json'), '{"version":1,"savedAt":3,"fil');
    const state = loadState(dir, logger);
    expect(state.source).toBe('previous');
    expect(state.files[0]!.offset).toBe(1);
    const warning = lines.find((line) => line.level === 40)!;
    expect(warning.stateFile).toBe(join(dir, 'state.json'));
    expect(warning.previousFile).toBe(join(dir, 'state.json.prev'));
    expect(String(warning.reason)).toMatch(/^is not valid JSON/);
  });

  it('falls back on an invalid checkpoint', () => {
    const dir = makeTempDir('state');
    const { logger, lines } = captureLogger();
    saveState(dir, [sampleCheckpoint('f-a', 1)], 1);
    saveState(dir, [sampleCheckpoint('f-a', 2)], 2);
    const broken = {
      version: 1,
      savedAt: 3,
      files: [{ ...sampleCheckpoint('f-a', 3), offset: -1 }],
    };
    writeFileSync(join(dir, 'state.json'), JSON.stringify(broken));
    expect(loadState(dir, logger).source).toBe('previous');
    expect(String(lines.find((line) => line.level === 40)!.reason)).toMatch(
      /^is invalid at files\.0\.offset/
    );
  });

  it('both corrupt throw with the command', () => {
    const dir = makeTempDir('state');
    const { logger } = captureLogger();
    writeFileSync(join(dir, 'state.json'), 'garbage');
    writeFileSync(join(dir, 'state.json.prev'), '{"version":1}');
    let thrown: unknown;
    try {
      loadState(dir, logger);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StateUnreadableError);
    const message = (thrown as Error).message;
    expect(message).toContain(`state file ${join(dir, 'state.json')} is not valid JSON`);
    expect(message).toContain(`its previous copy ${join(dir, 'state.json.prev')} is invalid at`);
    expect(message).toContain(
      `mv ${join(dir, 'state.json')} ${join(dir, 'state.json.broken')} && ` +
        `mv ${join(dir, 'state.json.prev')} ${join(dir, 'state.json.prev.broken')}`
    );
    expect(message).toContain('`end` queues only lines written from then on');
  });

  it('corrupt without previous copy throws', () => {
    const dir = makeTempDir('state');
    const { logger } = captureLogger();
    writeFileSync(join(dir, 'state.json'), '');
    expect(() => loadState(dir, logger)).toThrow(StateUnreadableError);
    expect(() => loadState(dir, logger)).toThrow(
      `there is no previous copy (${join(dir, 'state.json.prev')})`
    );
  });

  it('unknown version throws naming it', () => {
    const dir = makeTempDir('state');
    const { logger } = captureLogger();
    saveState(dir, [sampleCheckpoint('f-a', 1)], 1);
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ version: 2, savedAt: 1, files: [] }));
    expect(() => loadState(dir, logger)).toThrow(StateVersionError);
    expect(() => loadState(dir, logger)).toThrow(
      `state file ${join(dir, 'state.json')} has version 2, but this agent reads version 1 only`
    );
  });

  it('rejects duplicate keys', () => {
    const dir = makeTempDir('state');
    const { logger } = captureLogger();
    const files = [sampleCheckpoint('f-a', 1), sampleCheckpoint('f-a', 2)];
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ version: 1, savedAt: 1, files }));
    expect(() => loadState(dir, logger)).toThrow(/is invalid at files\.1\.key: duplicate key f-a/);
  });

  it('failed save keeps the old state', () => {
    const dir = makeTempDir('state');
    const { logger } = captureLogger();
    saveState(dir, [sampleCheckpoint('f-a', 1)], 1);
    // A directory where the temp file goes makes the write fail, as a full disk would.
    mkdirSync(join(dir, 'state.json.tmp'));
    let thrown: unknown;
    try {
      saveState(dir, [sampleCheckpoint('f-a', 2)], 2);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StateSaveError);
    expect((thrown as StateSaveError).code).toBe('EISDIR');
    expect((thrown as Error).message).toContain(
      `saving checkpoints to ${join(dir, 'state.json')} failed: EISDIR`
    );
    expect((thrown as Error).message).toContain('The previous state is intact');
    expect(loadState(dir, logger).files[0]!.offset).toBe(1);
  });
});
