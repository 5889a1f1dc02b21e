import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import {
  appendEvents,
  deliveryProblems,
  makeBot,
  makeTempDir,
  range,
  removeDir,
  TailHarness,
  waitFor,
} from './harness.js';

let dir = '';
let harness: TailHarness | undefined;

afterEach(async () => {
  await harness?.stopAll();
  if (dir) await removeDir(dir);
  harness = undefined;
});

test('startAt end on first install', async () => {
  dir = await makeTempDir('start-end');
  harness = new TailHarness(join(dir, 'state'));
  const bot = makeBot([join(dir, '*.log')], { startAt: 'end' });
  const existing = join(dir, 'app.log');
  appendEvents(existing, 0, 10);
  const service = await harness.start(bot);
  await service.drain();
  expect(harness.sink.delivered).toEqual([]);

  appendEvents(existing, 10, 5);
  // A file that appears while running is new since the agent looked: read from its start.
  appendEvents(join(dir, 'later.log'), 20, 5);
  await waitFor(() => harness!.sink.delivered.length >= 10);
  await service.drain();
  expect(deliveryProblems(harness.sink, [...range(10, 15), ...range(20, 25)])).toEqual([]);
});

test('startAt end skips partial line', async () => {
  dir = await makeTempDir('start-partial');
  harness = new TailHarness(join(dir, 'state'));
  const log = join(dir, 'app.log');
  appendEvents(log, 0, 3);
  const { appendFileSync } = await import('node:fs');
  appendFileSync(log, '{"time":1760000100,"msg":"appointment created",');
  const service = await harness.start(makeBot([log], { startAt: 'end' }));
  await service.drain();
  // The line being written when the agent started is read whole once it ends.
  appendFileSync(log, '"userId":1000100}\n');
  await waitFor(() => harness!.sink.delivered.length >= 1);
  await service.drain();
  expect(deliveryProblems(harness.sink, [100])).toEqual([]);
});

test('startAt ignored after first install', async () => {
  dir = await makeTempDir('start-restart');
  harness = new TailHarness(join(dir, 'state'));
  const bot = makeBot([join(dir, '*.log')], { startAt: 'end' });
  appendEvents(join(dir, 'a.log'), 0, 5);
  const first = await harness.start(bot);
  await first.drain();
  await first.stop();

  // Files that appeared while the agent was stopped are read from their start.
  appendEvents(join(dir, 'a.log'), 5, 5);
  appendEvents(join(dir, 'b.log'), 10, 5);
  const second = await harness.start(bot);
  await second.drain();
  expect(deliveryProblems(harness.sink, range(5, 15))).toEqual([]);
});
