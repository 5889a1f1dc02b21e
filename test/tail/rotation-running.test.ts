import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { hasLogrotate, postrotateSignal, runLogrotate } from '../helpers/logrotate.js';
import {
  deliveryProblems,
  eventsOnDisk,
  makeBot,
  makeTempDir,
  range,
  removeDir,
  sleep,
  TailHarness,
  waitFor,
} from './harness.js';
import { LogWriter } from './writer.js';

const LINES = 300;
let dir = '';
let harness: TailHarness | undefined;
let writer: LogWriter | undefined;

afterEach(async () => {
  await writer?.stop();
  await harness?.stopAll();
  if (dir) await removeDir(dir);
  writer = undefined;
  harness = undefined;
});

/**
 * Follows app.log while a writer appends LINES events and logrotate rotates it three times
 * with `directives`; every event must arrive exactly once.
 */
interface RotationOptions {
  /** Globs relative to the temp dir; default the log path itself. */
  include?: string[];
  exclude?: string[];
  /** Freeze the writer while logrotate runs (copytruncate loses lines written in between). */
  freeze?: boolean;
  rounds?: number;
  spacingMs?: number;
  writeIntervalMs?: number;
}

async function rotateWhileFollowing(
  directives: (pid: number) => string[],
  options: RotationOptions = {}
) {
  dir = await makeTempDir('rotate');
  harness = new TailHarness(join(dir, 'state'));
  const log = join(dir, 'app.log');
  writer = await LogWriter.start(log, 0, LINES, options.writeIntervalMs ?? 2);
  const include = (options.include ?? ['app.log']).map((pattern) => join(dir, pattern));
  await harness.start(makeBot(include, { exclude: options.exclude ?? [] }));
  for (let round = 0; round < (options.rounds ?? 3); round++) {
    await sleep(options.spacingMs ?? 120);
    if (options.freeze) writer.pause();
    await runLogrotate(dir, log, directives(writer.pid));
    if (options.freeze) writer.resume();
  }
  await writer.done;
  await waitFor(() => harness!.sink.delivered.length >= LINES, 8000);
  await sleep(300);
  if (process.env.TAIL_DEBUG) console.log(harness.logs.messages().join('\n'));
  return deliveryProblems(harness.sink, range(0, LINES));
}

describe.skipIf(!hasLogrotate())('rotation while following', () => {
  test('create with numbered suffixes', async () => {
    expect(
      await rotateWhileFollowing((pid) => ['rotate 5', 'create', postrotateSignal(pid)])
    ).toEqual([]);
  });

  test('create with delaycompress', async () => {
    const directives = (pid: number) => [
      'rotate 5',
      'create',
      'compress',
      'delaycompress',
      postrotateSignal(pid),
    ];
    expect(await rotateWhileFollowing(directives)).toEqual([]);
  });

  test('create with immediate compress', async () => {
    const directives = (pid: number) => ['rotate 5', 'create', 'compress', postrotateSignal(pid)];
    expect(await rotateWhileFollowing(directives)).toEqual([]);
  });

  test('create with dateext', async () => {
    // dateext names have one-second resolution, so the rounds are a second apart.
    const directives = (pid: number) => [
      'rotate 5',
      'create',
      'dateext',
      'dateformat -%Y%m%d-%s',
      postrotateSignal(pid),
    ];
    const options = { rounds: 2, spacingMs: 1050, writeIntervalMs: 8 };
    expect(await rotateWhileFollowing(directives, options)).toEqual([]);
  });

  test('copytruncate numbered', async () => {
    expect(
      await rotateWhileFollowing(() => ['rotate 5', 'copytruncate'], { freeze: true })
    ).toEqual([]);
  });

  test('copytruncate with compress', async () => {
    expect(
      await rotateWhileFollowing(() => ['rotate 5', 'copytruncate', 'compress'], { freeze: true })
    ).toEqual([]);
  });

  test('create with matching rotated names', async () => {
    const directives = (pid: number) => [
      'rotate 5',
      'create',
      'compress',
      'delaycompress',
      postrotateSignal(pid),
    ];
    const options = { include: ['app.log*'], exclude: ['*.gz'] };
    expect(await rotateWhileFollowing(directives, options)).toEqual([]);
  });

  test('copytruncate with matching copies', async () => {
    const options = { include: ['app.log*'], exclude: ['*.gz'], freeze: true };
    expect(await rotateWhileFollowing(() => ['rotate 5', 'copytruncate'], options)).toEqual([]);
  });
});

describe.skipIf(!hasLogrotate())('copytruncate with a live writer', () => {
  // Without pausing the writer, logrotate loses the lines written between its copy and its
  // truncation from disk; the agent may have read them. Every line on disk arrives once.
  test('unpaused copytruncate reads once', async () => {
    dir = await makeTempDir('copytruncate-live');
    harness = new TailHarness(join(dir, 'state'));
    const log = join(dir, 'app.log');
    writer = await LogWriter.start(log, 0, 100_000, 5, 3);
    const bot = makeBot([`${log}*`], { exclude: ['*.gz'] });
    const directives = ['copytruncate', 'rotate 10', 'compress', 'delaycompress'];
    const first = await harness.start(bot);
    for (let round = 0; round < 4; round++) {
      await sleep(250);
      await runLogrotate(dir, log, directives);
    }
    await first.stop();
    await runLogrotate(dir, log, directives);
    await harness.start(bot);
    await sleep(200);
    await writer.stop();

    const onDisk = eventsOnDisk(dir, 'app.log');
    expect(new Set(onDisk).size).toBe(onDisk.length);
    await waitFor(() => onDisk.every((n) => harness!.sink.counts().has(n)), 10_000);
    const counts = harness.sink.counts();
    expect(onDisk.filter((n) => counts.get(n) !== 1)).toEqual([]);
    expect([...counts].filter(([, times]) => times > 1)).toEqual([]);
  });
});
