// Child process of the state crash test. It starts like the agent (lock, load, outbox, reconcile).
// Then, in a tight loop until the parent kills it with SIGKILL, it queues one event per line of a
// made-up file, moves the checkpoint past that line and saves. Each save is logged before and after. No
// event is acknowledged, so the outbox ends up holding every event ever queued.
import { openSync, writeSync } from 'node:fs';
import pino from 'pino';
import { openOutbox } from '../../src/outbox/outbox.js';
import { CheckpointBook } from '../../src/state/checkpoint-book.js';
import { loadState } from '../../src/state/checkpoint-store.js';
import { acquireStateLock } from '../../src/state/lock.js';

const LINE_BYTES = 10;
const FILE_KEY = 'f-crash';

const [stateDir, logPath] = process.argv.slice(2) as [string, string];
const logger = pino({ level: 'warn' }, pino.destination({ dest: 2, sync: true }));
acquireStateLock(stateDir, logger);
const state = loadState(stateDir, logger);
const outbox = openOutbox(stateDir, { maxBytes: 64 * 1024 * 1024, segmentBytes: 4096, logger });
let line = 0;
const book = new CheckpointBook({
  dir: stateDir,
  files: state.files,
  logger,
  beforeSave: () => outbox.sync(),
  afterSave: () => outbox.compact(),
  now: () => line,
});
book.reconcile(outbox.highWaterMarks());
const log = openSync(logPath, 'a');
line = (book.get(FILE_KEY)?.offset ?? 0) / LINE_BYTES;
writeSync(1, 'ready\n');

for (;;) {
  const offset = line * LINE_BYTES;
  const end = offset + LINE_BYTES;
  outbox.append([
    {
      event: { name: 'appointment_open', userId: String(1_000_000 + line), timestamp: 1, bot: 'b' },
      source: { fileKey: FILE_KEY, offset, end },
    },
  ]);
  line++;
  book.upsert({
    key: FILE_KEY,
    bot: 'b',
    path: '/var/log/bot.log',
    dev: 1,
    ino: 2,
    fingerprint: { length: 10, hash: 'a'.repeat(64) },
    offset: end,
    tailCheck: null,
    updatedAt: line,
  });
  writeSync(log, `S ${line}\n`);
  book.save();
  writeSync(log, `D ${line}\n`);
}
