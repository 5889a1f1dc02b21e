import { chownSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertStateDirOwner } from '../../src/state/owner-check.js';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('state directory owner check', () => {
  it('rejects root on another user’s directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfc-owner-'));
    chownSync(dir, 65534, 65534);

    expect(() => assertStateDirOwner(dir, 'backfill')).toThrow(
      `state directory ${dir} belongs to uid 65534`
    );
    expect(() => assertStateDirOwner(dir, 'backfill')).toThrow(
      'sudo -u mfc-events-agent mfc-events-agent backfill'
    );
  });

  it('accepts root on its own directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfc-owner-'));
    expect(() => assertStateDirOwner(dir, 'run')).not.toThrow();
  });

  it('accepts a directory not created yet', () => {
    expect(() => assertStateDirOwner(join(tmpdir(), 'mfc-owner-none', 'x'), 'run')).not.toThrow();
  });
});
