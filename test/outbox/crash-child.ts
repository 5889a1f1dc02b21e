// Child process of the outbox crash test: appends, takes, acknowledges and compacts in a tight
// loop until the parent kills it with SIGKILL. Every step is logged with write(2) right after it
// returns, so the parent can check what the outbox returned before each kill.
import { openSync, writeSync } from 'node:fs';
import pino from 'pino';
import { type OutboxRecord, openOutbox } from '../../src/outbox/outbox.js';
import { mulberry32 } from './helpers.js';

const [stateDir, logPath, runArg, seedArg] = process.argv.slice(2);
const run = Number(runArg);
const random = mulberry32(Number(seedArg));
const logger = pino({ level: 'warn' }, pino.destination({ dest: 2, sync: true }));
const outbox = openOutbox(stateDir!, { maxBytes: 256 * 1024 * 1024, segmentBytes: 8192, logger });
const log = openSync(logPath!, 'a');

/** User id of the `counter`-th event of run `run`: 19 digits, above 2^53. */
function userId(counter: number): string {
  return `9${String(run).padStart(4, '0')}${String(counter).padStart(14, '0')}`;
}

writeSync(1, 'ready\n');
let counter = 0;
let held: OutboxRecord[] = [];
for (let iteration = 1; ; iteration++) {
  const size = 1 + Math.floor(random() * 8);
  // The intent line lets the parent recognise a batch whose append was cut by the kill.
  writeSync(log, `I ${run} ${counter} ${size}\n`);
  const entries = Array.from({ length: size }, (_, index) => ({
    event: { name: 'appointment_open', userId: userId(counter + index), timestamp: 1, bot: 'b' },
    source: { fileKey: `run-${run}`, offset: counter + index, end: counter + index + 1 },
  }));
  const appended = outbox.append(entries);
  writeSync(log, appended.map((record) => `A ${record.seq} ${record.event.userId}\n`).join(''));
  counter += size;

  const taken = outbox.take(1 + Math.floor(random() * 10));
  if (taken.length > 0) {
    writeSync(log, taken.map((record) => `T ${record.seq} ${record.event.userId}\n`).join(''));
  }
  held.push(...taken);
  const kept: OutboxRecord[] = [];
  for (const record of held) {
    const roll = random();
    // The intent line marks the one record whose acknowledgement a kill may leave unconfirmed.
    if (roll < 0.65) writeSync(log, `k ${record.seq}\n`);
    if (roll < 0.6) {
      outbox.acknowledge(record.seq);
      writeSync(log, `K ${record.seq}\n`);
    } else if (roll < 0.65) {
      outbox.markDead(record.seq);
      writeSync(log, `K ${record.seq}\n`);
    } else {
      kept.push(record);
    }
  }
  held = kept;
  if (iteration % 25 === 0) {
    outbox.sync();
    outbox.compact();
  }
}
