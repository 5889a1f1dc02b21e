import {
  appendFileSync,
  mkdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { loadState } from '../../src/state/checkpoint-store.js';
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

async function setup(prefix: string): Promise<{ log: string; harness: TailHarness }> {
  dir = await makeTempDir(prefix);
  harness = new TailHarness(join(dir, 'state'));
  return { log: join(dir, 'app.log'), harness };
}

test('reused inode gets no offset', async () => {
  const { log, harness } = await setup('reuse');
  const bot = makeBot([log]);
  appendEvents(log, 0, 20);
  const first = await harness.start(bot);
  await first.drain();
  const oldInode = statSync(log).ino;
  await first.stop();

  // ext4 and tmpfs hand a freed inode number to the next file created.
  unlinkSync(log);
  appendEvents(log, 100, 40);
  const reused = statSync(log).ino === oldInode;
  const second = await harness.start(bot);
  await second.drain();
  expect(deliveryProblems(harness.sink, [...range(0, 20), ...range(100, 140)])).toEqual([]);
  const keys = new Set(harness.sink.delivered.map((event) => event.fileKey));
  expect(keys.size).toBe(2);
  expect(
    harness.logs.records.some(
      (record) => record.msg === 'Following a new log file.' && record.offset === 0
    )
  ).toBe(true);
  if (!reused) console.warn('identity test: the file system did not reuse the inode');
});

test('replaced file read from start', async () => {
  const { log, harness } = await setup('replaced');
  const bot = makeBot([log]);
  appendEvents(log, 0, 20);
  const first = await harness.start(bot);
  await first.drain();
  await first.stop();

  // Same inode, other content, longer than the old offset: inheriting it would skip events.
  let text = '';
  for (let n = 200; n < 260; n++) text += eventLine(n);
  writeFileSync(log, text);
  const second = await harness.start(bot);
  await second.drain();
  expect(deliveryProblems(harness.sink, [...range(0, 20), ...range(200, 260)])).toEqual([]);
});

test('identical first lines stay apart', async () => {
  const { harness } = await setup('twins');
  const header = `${JSON.stringify({ msg: 'bot started', version: '1.2.3' })}\n`;
  const a = join(dir, 'a.log');
  const b = join(dir, 'b.log');
  writeFileSync(a, header.repeat(30));
  writeFileSync(b, header.repeat(30));
  appendEvents(a, 0, 10);
  appendEvents(b, 10, 10);
  const service = await harness.start(makeBot([join(dir, '*.log')]));
  await service.drain();
  expect(deliveryProblems(harness.sink, range(0, 20))).toEqual([]);
  expect(service.files()).toHaveLength(2);
});

test('identical copy sharing a stem', async () => {
  const { harness } = await setup('twin-stem');
  const a = join(dir, 'app.log');
  const b = join(dir, 'app-2.log');
  appendEvents(a, 0, 10);
  const service = await harness.start(makeBot([join(dir, '*.log')]));
  await service.drain();
  // A second file that starts like the first but goes on differently is its own file.
  appendEvents(b, 0, 10);
  appendEvents(b, 10, 10);
  await waitFor(() => harness.sink.delivered.length >= 30);
  await service.drain();
  const counts = harness.sink.counts();
  expect(range(0, 10).map((n) => counts.get(n))).toEqual(range(0, 10).map(() => 2));
  expect(range(10, 20).map((n) => counts.get(n))).toEqual(range(10, 20).map(() => 1));
});

test('short file keeps identity growing', async () => {
  const { log, harness } = await setup('short');
  const bot = makeBot([log]);
  appendEvents(log, 0, 2);
  const first = await harness.start(bot);
  await first.drain();
  const [checkpoint] = harness.book.all();
  expect(checkpoint!.fingerprint.length).toBeLessThan(1024);
  await first.stop();

  appendEvents(log, 2, 40);
  const second = await harness.start(bot);
  await second.drain();
  expect(deliveryProblems(harness.sink, range(0, 42))).toEqual([]);
  const [grown] = harness.book.all();
  expect(grown!.key).toBe(checkpoint!.key);
  expect(grown!.fingerprint.length).toBe(1024);

  await second.stop();
  appendEvents(log, 42, 3);
  await (await harness.start(bot)).drain();
  expect(deliveryProblems(harness.sink, range(0, 45))).toEqual([]);
});

test('new checkpoint saved before events', async () => {
  const { log, harness } = await setup('save-first');
  const stateDir = join(dir, 'state');
  const savedKeysAtAppend: boolean[] = [];
  const append = harness.sink.append.bind(harness.sink);
  harness.sink.append = (fileKey, result) => {
    const state = loadState(stateDir, harness.logs.logger);
    savedKeysAtAppend.push(state.files.some((checkpoint) => checkpoint.key === fileKey));
    append(fileKey, result);
  };
  appendEvents(log, 0, 5);
  const service = await harness.start(makeBot([join(dir, '*.log')]));
  await service.drain();
  appendEvents(join(dir, 'other.log'), 5, 5);
  await waitFor(() => harness.sink.delivered.length >= 10);
  expect(savedKeysAtAppend.length).toBeGreaterThanOrEqual(2);
  expect(savedKeysAtAppend.every(Boolean)).toBe(true);
  appendFileSync(log, eventLine(10));
  await waitFor(() => harness.sink.delivered.length >= 11);
  expect(deliveryProblems(harness.sink, range(0, 11))).toEqual([]);
});

test('missing directory keeps checkpoint', async () => {
  dir = await makeTempDir('unmounted');
  harness = new TailHarness(join(dir, 'state'));
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const log = join(logs, 'app.log');
  const bot = makeBot([join(logs, '*.log')]);
  appendEvents(log, 0, 10);
  const first = await harness.start(bot);
  await first.drain();
  await first.stop();

  // As if the log volume were not mounted yet when the agent starts.
  renameSync(logs, `${logs}.away`);
  const second = await harness.start(bot);
  await second.drain();
  expect(harness.book.all()).toHaveLength(1);

  renameSync(`${logs}.away`, logs);
  appendEvents(log, 10, 5);
  await waitFor(() => harness!.sink.delivered.length >= 15);
  await second.drain();
  expect(deliveryProblems(harness.sink, range(0, 15))).toEqual([]);
});
