import { describe, expect, it } from 'vitest';
import { parseStateFile } from '../../src/state/state-file-format.js';
import { sampleCheckpoint } from './helpers.js';

const valid = () => ({
  version: 1,
  savedAt: 5000,
  files: [sampleCheckpoint('f-a', 100), sampleCheckpoint('f-b', 0)],
  bots: ['mfc_bot'],
});

/** Returns the fault of `value` as `where: message`, or 'ok'. */
function faultOf(value: unknown): string {
  const parsed = parseStateFile(value, 1);
  return parsed.ok ? 'ok' : `${parsed.fault.where}: ${parsed.fault.message}`;
}

describe('state file format', () => {
  it('reads a valid file and leaves unknown keys out', () => {
    const input = { ...valid(), extra: true };
    input.files[0] = { ...input.files[0]!, note: 'hand edit' } as never;
    const parsed = parseStateFile(input, 1);
    const { version: _version, ...content } = valid();
    expect(parsed).toEqual({ ok: true, content });
    if (parsed.ok) expect(Object.keys(parsed.content.files[0]!)).not.toContain('note');
  });

  it('accepts a file without the bots list', () => {
    const { bots: _bots, ...older } = valid();
    const parsed = parseStateFile(older, 1);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.content.bots).toBeUndefined();
    expect(parsed.content.files).toHaveLength(2);
  });

  it('names the first fault with its key path', () => {
    const withFile = (change: Record<string, unknown>) => ({
      ...valid(),
      files: [sampleCheckpoint('f-a', 1), { ...sampleCheckpoint('f-b', 2), ...change }],
    });

    expect(faultOf(null)).toBe(': must be an object');
    expect(faultOf([])).toBe(': must be an object');
    expect(faultOf({ ...valid(), version: 2 })).toBe('version: must be 1');
    expect(faultOf({ ...valid(), savedAt: '5000' })).toBe('savedAt: must be a number');
    expect(faultOf({ ...valid(), files: {} })).toBe('files: must be an array');
    expect(faultOf({ ...valid(), bots: 'mfc_bot' })).toBe('bots: must be an array');
    expect(faultOf({ ...valid(), bots: ['a', 7] })).toBe('bots.1: must be a string');

    expect(faultOf(withFile({ key: '' }))).toBe('files.1.key: must not be empty');
    expect(faultOf(withFile({ key: 'f-a' }))).toBe('files.1.key: duplicate key f-a');
    expect(faultOf(withFile({ path: 3 }))).toBe('files.1.path: must be a string');
    expect(faultOf(withFile({ offset: -1 }))).toBe(
      'files.1.offset: must be a non-negative whole number'
    );
    expect(faultOf(withFile({ ino: 1.5 }))).toBe(
      'files.1.ino: must be a non-negative whole number'
    );
    expect(faultOf(withFile({ updatedAt: Number.NaN }))).toBe(
      'files.1.updatedAt: must be a number'
    );

    expect(faultOf(withFile({ fingerprint: { length: 2048, hash: 'ab'.repeat(32) } }))).toBe(
      'files.1.fingerprint.length: must be at most 1024'
    );
    expect(faultOf(withFile({ tailCheck: { length: 64, hash: 'XY'.repeat(32) } }))).toBe(
      'files.1.tailCheck.hash: must be a sha256 hex digest'
    );
    expect(faultOf(withFile({ tailCheck: undefined }))).toBe(
      'files.1.tailCheck: must be an object'
    );
  });
});
