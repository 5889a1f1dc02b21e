import { appendFileSync, copyFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import {
  appendEvents,
  deliveryProblems,
  eventLine,
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

async function following(prefix: string) {
  dir = await makeTempDir(prefix);
  harness = new TailHarness(join(dir, 'state'));
  const log = join(dir, 'app.log');
  appendEvents(log, 0, 20);
  const service = await harness.start(makeBot([log]));
  await service.drain();
  return { log, service, harness };
}

function events(from: number, to: number): string {
  let text = '';
  for (let n = from; n < to; n++) text += eventLine(n);
  return text;
}

test('truncation to zero', async () => {
  const { log, service, harness } = await following('trunc-zero');
  truncateSync(log, 0);
  await waitFor(() => service.files()[0]?.size === 0);
  appendEvents(log, 100, 5);
  await waitFor(() => harness.sink.delivered.length >= 25);
  await service.drain();
  expect(deliveryProblems(harness.sink, [...range(0, 20), ...range(100, 105)])).toEqual([]);
});

test('rewrite in place', async () => {
  const { log, service, harness } = await following('trunc-rewrite');
  // Opening with O_TRUNC and writing fewer bytes than were read, as `echo > file` does.
  writeFileSync(log, events(200, 205));
  await waitFor(() => harness.sink.delivered.length >= 25);
  await service.drain();
  expect(deliveryProblems(harness.sink, [...range(0, 20), ...range(200, 205)])).toEqual([]);
});

test('truncate then grow past offset', async () => {
  const { log, service, harness } = await following('trunc-grow');
  // Both in one tick: the reader sees a file longer than its offset with other bytes before it.
  truncateSync(log, 0);
  appendFileSync(log, events(300, 360));
  await waitFor(() => harness.sink.delivered.length >= 80);
  await service.drain();
  expect(deliveryProblems(harness.sink, [...range(0, 20), ...range(300, 360)])).toEqual([]);
  expect(harness.logs.messages()).toContain(
    'No rotated copy of the truncated file was found; lines written between the last read and the truncation cannot be read. Rotate with create (rename) rather than copytruncate to avoid this.'
  );
});

test('truncate and grow while stopped', async () => {
  const { log, service, harness } = await following('trunc-stopped');
  await service.stop();
  writeFileSync(log, events(400, 470));
  const next = await harness.start(makeBot([log]));
  await next.drain();
  expect(deliveryProblems(harness.sink, [...range(0, 20), ...range(400, 470)])).toEqual([]);
});

test('manual copy then truncate', async () => {
  const { log, service, harness } = await following('trunc-copy');
  // Lines the reader has not seen yet, copied away before the truncation (copytruncate by hand).
  appendFileSync(log, events(20, 30));
  copyFileSync(log, `${log}.1`);
  truncateSync(log, 0);
  appendEvents(log, 500, 5);
  await waitFor(() => harness.sink.delivered.length >= 35);
  await service.drain();
  expect(deliveryProblems(harness.sink, [...range(0, 30), ...range(500, 505)])).toEqual([]);
});

test('copy shorter than read offset', async () => {
  dir = await makeTempDir('trunc-short-copy');
  harness = new TailHarness(join(dir, 'state'));
  const log = join(dir, 'app.log');
  appendEvents(log, 0, 20);
  const service = await harness.start(makeBot([`${log}*`]));
  await service.drain();
  // logrotate's copytruncate race: the copy is taken, more lines are read, then the cut.
  copyFileSync(log, `${log}.1`);
  appendEvents(log, 20, 5);
  await service.drain();
  truncateSync(log, 0);
  appendEvents(log, 100, 5);
  await waitFor(() => harness!.sink.delivered.length >= 30);
  await service.drain();
  expect(deliveryProblems(harness.sink, [...range(0, 25), ...range(100, 105)])).toEqual([]);
  expect(service.files()).toHaveLength(2);
});

test('shorter copy found after restart', async () => {
  dir = await makeTempDir('trunc-short-restart');
  harness = new TailHarness(join(dir, 'state'));
  const log = join(dir, 'app.log');
  const bot = makeBot([join(dir, '*.log')]);
  appendEvents(log, 0, 20);
  const first = await harness.start(bot);
  await first.drain();
  // The copy sorts before app.log, so the restart examines it first.
  copyFileSync(log, join(dir, 'app-old.log'));
  appendEvents(log, 20, 5);
  await first.drain();
  await first.stop();

  truncateSync(log, 0);
  appendEvents(log, 100, 5);
  const second = await harness.start(bot);
  await second.drain();
  expect(deliveryProblems(harness.sink, [...range(0, 25), ...range(100, 105)])).toEqual([]);
});
