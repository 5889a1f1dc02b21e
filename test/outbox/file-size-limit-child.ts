// Child process of the write-failure test, run under `ulimit -f` so that a write past the limit
// is cut short and then fails with EFBIG, as a full disk fails with ENOSPC. It appends batches
// until one fails, tries once more, and prints what append returned and threw as JSON.
import { writeSync } from 'node:fs';
import pino from 'pino';
import { openOutbox } from '../../src/outbox/outbox.js';
import { sampleEvent } from './helpers.js';

const stateDir = process.argv[2]!;
const logger = pino({ level: 'warn' }, pino.destination({ dest: 2, sync: true }));
const outbox = openOutbox(stateDir, { maxBytes: 1024 * 1024, logger });
const appendedSeqs: number[] = [];
const errorCodes: string[] = [];
for (let batch = 0; errorCodes.length < 2 && batch < 1000; batch++) {
  const entries = Array.from({ length: 5 }, (_, index) => ({
    event: sampleEvent(batch * 5 + index),
    source: null,
  }));
  try {
    appendedSeqs.push(...outbox.append(entries).map((record) => record.seq));
  } catch (error) {
    errorCodes.push(String((error as { code?: unknown }).code));
  }
}
outbox.close();
writeSync(1, `${JSON.stringify({ appendedSeqs, errorCodes })}\n`);
