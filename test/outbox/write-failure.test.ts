import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { openOutbox } from '../../src/outbox/outbox.js';
import { bundleChild, captureLogger, makeTempDir } from './helpers.js';

/** File size limit of the child, in the 512-byte blocks of `ulimit -f` in a POSIX shell. */
const LIMIT_BLOCKS = 8;

describe('outbox write failure', () => {
  let bundle = '';

  beforeAll(async () => {
    const source = join(dirname(fileURLToPath(import.meta.url)), 'file-size-limit-child.ts');
    bundle = await bundleChild(source, makeTempDir('outbox-limit-child'));
  });

  it('failed append leaves nothing behind', () => {
    const stateDir = makeTempDir('outbox-limit');
    const output = execFileSync('/bin/sh', [
      '-c',
      `ulimit -f ${LIMIT_BLOCKS} && exec "$0" "$1" "$2"`,
      process.execPath,
      bundle,
      stateDir,
    ]).toString();
    const { appendedSeqs, errorCodes } = JSON.parse(output) as {
      appendedSeqs: number[];
      errorCodes: string[];
    };
    // The error of the write reaches the caller untouched, every time.
    expect(errorCodes).toEqual(['EFBIG', 'EFBIG']);
    expect(appendedSeqs.length).toBeGreaterThan(0);
    expect(appendedSeqs.length % 5).toBe(0);

    const segment = join(stateDir, 'outbox', '000000000001.jsonl');
    const segmentBytes = statSync(segment).size;
    expect(segmentBytes).toBeLessThan(LIMIT_BLOCKS * 512);

    const { logger, lines } = captureLogger();
    const outbox = openOutbox(stateDir, { maxBytes: 1024 * 1024, logger });
    // The failed batches were cut back whole: no torn tail is left to discard on open.
    expect(lines.filter((line) => Number(line.level) >= 40)).toEqual([]);
    expect(statSync(segment).size).toBe(segmentBytes);
    expect(outbox.take(1000).map((record) => record.seq)).toEqual(appendedSeqs);
    expect(
      outbox.append([
        { event: { name: 'x', userId: '1', timestamp: 1, bot: 'b' }, source: null },
      ])[0]!.seq
    ).toBe(appendedSeqs.length + 1);
    outbox.close();
  });
});
