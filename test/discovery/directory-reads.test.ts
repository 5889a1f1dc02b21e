import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import { afterEach, expect, test } from 'vitest';
import { makeTempDir, removeDir, sleep, waitFor } from '../tail/harness.js';

// chokidar 5 reads a watched directory again (one lstat per entry) on every event of its
// watch, writes to its files included. patches/chokidar+5.0.0.patch skips that re-read for
// 'change' events, which on Linux mean a write to an entry or a change of its attributes.
// These tests run chokidar as installed, with the options the agent's watcher uses.

let dir = '';
let watcher: FSWatcher | undefined;

afterEach(async () => {
  await watcher?.close();
  if (dir) await removeDir(dir);
  watcher = undefined;
});

/** Starts a watch of `dir` and counts chokidar's directory reads after it is ready. */
async function watchCountingReads(): Promise<{ reads: () => number; events: string[] }> {
  const events: string[] = [];
  watcher = watch(dir, { ignoreInitial: true, followSymlinks: true, atomic: false });
  watcher.on('all', (event, path) => events.push(`${event} ${path}`));
  await new Promise<void>((resolve) => watcher?.once('ready', () => resolve()));
  let reads = 0;
  // _readdirp is the one method chokidar lists a directory with.
  const internal = watcher as unknown as { _readdirp: (...args: unknown[]) => unknown };
  const readdirp = internal._readdirp.bind(watcher);
  internal._readdirp = (...args: unknown[]) => {
    reads++;
    return readdirp(...args);
  };
  return { reads: () => reads, events };
}

test('appends do not re-read the directory', async () => {
  dir = await makeTempDir('dir-reads');
  for (let file = 0; file < 20; file++) writeFileSync(join(dir, `f${file}.log`), 'first\n');
  const { reads, events } = await watchCountingReads();

  for (let round = 0; round < 10; round++) {
    for (let file = 0; file < 20; file++) appendFileSync(join(dir, `f${file}.log`), 'more\n');
    await sleep(20);
  }
  await waitFor(() => events.filter((event) => event.startsWith('change')).length >= 20);
  await sleep(300);

  expect(reads()).toBe(0);
  expect(events.filter((event) => event.startsWith('change ')).length).toBeGreaterThanOrEqual(20);
});

test('new and renamed files still re-read it', async () => {
  dir = await makeTempDir('dir-reads-new');
  writeFileSync(join(dir, 'app.log'), 'first\n');
  const { reads, events } = await watchCountingReads();

  writeFileSync(join(dir, 'new.log'), 'x\n');
  await waitFor(() => events.includes(`add ${join(dir, 'new.log')}`));
  renameSync(join(dir, 'app.log'), join(dir, 'app.log.1'));
  await waitFor(() => events.includes(`add ${join(dir, 'app.log.1')}`));
  await waitFor(() => events.includes(`unlink ${join(dir, 'app.log')}`));

  expect(reads()).toBeGreaterThan(0);
});
