import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, expect, test } from 'vitest';
import type { BotConfig } from '../../src/config/schema.js';
import {
  appendEvents,
  deliveryProblems,
  eventLine,
  makeBot,
  makeTempDir,
  range,
  removeDir,
  TailHarness,
} from './harness.js';

let dir = '';
let harness: TailHarness | undefined;

afterEach(async () => {
  await harness?.stopAll();
  if (dir) await removeDir(dir);
  harness = undefined;
});

function events(from: number, to: number): string {
  let text = '';
  for (let n = from; n < to; n++) text += eventLine(n);
  return text;
}

/** Runs one backfill pass (read once, with .gz generations) and stops. */
async function backfill(h: TailHarness, bot: BotConfig): Promise<void> {
  const service = await h.start(bot, { mode: 'once', includeCompressed: true });
  await service.drain();
  await service.stop();
}

test('backfill reads gz history', async () => {
  dir = await makeTempDir('gz-history');
  harness = new TailHarness(join(dir, 'state'));
  const log = join(dir, 'app.log');
  appendEvents(log, 0, 10);
  writeFileSync(`${log}.1.gz`, gzipSync(events(10, 20)));
  writeFileSync(`${log}-20260101.gz`, gzipSync(events(20, 30)));
  writeFileSync(join(dir, 'other.log.1.gz'), gzipSync(events(900, 910)));
  const bot = makeBot([log]);
  await backfill(harness, bot);
  expect(deliveryProblems(harness.sink, range(0, 30))).toEqual([]);

  await backfill(harness, bot);
  expect(deliveryProblems(harness.sink, range(0, 30))).toEqual([]);
});

test('gz of read file resumes offset', async () => {
  dir = await makeTempDir('gz-offset');
  harness = new TailHarness(join(dir, 'state'));
  const log = join(dir, 'app.log');
  const bot = makeBot([log]);
  appendEvents(log, 0, 10);
  const first = await harness.start(bot);
  await first.drain();
  await first.stop();

  // While stopped: more lines, then the file is compressed away and a new one started.
  appendEvents(log, 10, 10);
  writeFileSync(`${log}.1.gz`, gzipSync(readFileSync(log)));
  unlinkSync(log);
  appendEvents(log, 20, 10);
  const second = await harness.start(bot);
  await second.drain();
  expect(deliveryProblems(harness.sink, range(0, 30))).toEqual([]);
  await second.stop();

  await backfill(harness, bot);
  expect(deliveryProblems(harness.sink, range(0, 30))).toEqual([]);
  const [compressed] = harness.book.all().filter((checkpoint) => checkpoint.path.endsWith('.gz'));
  expect(compressed?.offset).toBe(events(0, 20).length);
});

test('corrupt gz skipped with warning', async () => {
  dir = await makeTempDir('gz-corrupt');
  harness = new TailHarness(join(dir, 'state'));
  const log = join(dir, 'app.log');
  appendEvents(log, 0, 5);
  writeFileSync(`${log}.1.gz`, Buffer.from('not gzip at all'));
  const whole = gzipSync(events(5, 200));
  writeFileSync(`${log}.2.gz`, whole.subarray(0, Math.floor(whole.length / 2)));
  await backfill(harness, makeBot([log]));
  const counts = harness.sink.counts();
  expect(range(0, 5).every((n) => counts.get(n) === 1)).toBe(true);
  expect([...counts.values()].every((times) => times === 1)).toBe(true);
  expect(harness.logs.messages()).toContain(
    'Skipping a .gz file that is not a readable gzip stream.'
  );
});
