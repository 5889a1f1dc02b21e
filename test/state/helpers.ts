import type { FileCheckpoint } from '../../src/state/checkpoint-store.js';

/** Returns a valid checkpoint of file `key` at `offset`. */
export function sampleCheckpoint(key: string, offset: number): FileCheckpoint {
  return {
    key,
    bot: 'mfc_bot',
    path: `/var/log/bot/${key}.log`,
    dev: 2049,
    ino: 131_074,
    fingerprint: { length: 1024, hash: 'ab'.repeat(32) },
    offset,
    tailCheck: offset > 0 ? { length: 64, hash: 'cd'.repeat(32) } : null,
    updatedAt: 1_773_846_503_000,
  };
}
