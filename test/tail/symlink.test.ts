import { mkdirSync, renameSync, symlinkSync } from 'node:fs';
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

/** Points `link` at `target` in one rename, as `ln -sfn` does. */
function repoint(link: string, target: string): void {
  const temporary = `${link}.tmp`;
  symlinkSync(target, temporary);
  renameSync(temporary, link);
}

test('symlink re-pointed to new file', async () => {
  dir = await makeTempDir('symlink');
  harness = new TailHarness(join(dir, 'state'));
  const first = join(dir, 'app-1.txt');
  const second = join(dir, 'app-2.txt');
  const link = join(dir, 'current.log');
  appendEvents(first, 0, 10);
  repoint(link, first);
  const service = await harness.start(makeBot([link]));
  await service.drain();

  appendEvents(first, 10, 5);
  appendEvents(second, 100, 5);
  repoint(link, second);
  // The old target still gets a few lines before its writer moves over.
  appendEvents(first, 15, 5);
  appendEvents(second, 105, 5);
  await waitFor(() => harness!.sink.delivered.length >= 30);
  await service.drain();
  expect(deliveryProblems(harness.sink, [...range(0, 20), ...range(100, 110)])).toEqual([]);
});

test('symlinked directory re-pointed', async () => {
  dir = await makeTempDir('symlink-dir');
  harness = new TailHarness(join(dir, 'state'));
  mkdirSync(join(dir, 'v1'));
  mkdirSync(join(dir, 'v2'));
  const current = join(dir, 'current');
  repoint(current, join(dir, 'v1'));
  appendEvents(join(dir, 'v1', 'bot.log'), 0, 10);
  const service = await harness.start(makeBot([join(current, '*.log')]));
  await service.drain();

  appendEvents(join(dir, 'v2', 'bot.log'), 100, 10);
  repoint(current, join(dir, 'v2'));
  appendEvents(join(dir, 'v1', 'bot.log'), 10, 5);
  await waitFor(() => harness!.sink.delivered.length >= 25);
  await service.drain();
  expect(deliveryProblems(harness.sink, [...range(0, 15), ...range(100, 110)])).toEqual([]);
});
