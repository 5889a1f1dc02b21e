import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { hasLogrotate, postrotateSignal, runLogrotate } from '../helpers/logrotate.js';
import {
  deliveryProblems,
  makeBot,
  makeTempDir,
  range,
  removeDir,
  sleep,
  TailHarness,
  waitFor,
} from './harness.js';
import { LogWriter } from './writer.js';

const LINES = 240;
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

interface StoppedOptions {
  include?: string[];
  exclude?: string[];
  freeze?: boolean;
  rounds?: number;
}

/**
 * Follows app.log while a writer appends LINES events, then stops the service and rotates
 * `rounds` times while the writer goes on. A new service on the same checkpoints must then
 * deliver every event exactly once.
 */
async function rotateWhileStopped(
  directives: (pid: number) => string[],
  options: StoppedOptions = {}
) {
  dir = await makeTempDir('stopped');
  harness = new TailHarness(join(dir, 'state'));
  const log = join(dir, 'app.log');
  const include = (options.include ?? ['app.log']).map((pattern) => join(dir, pattern));
  const bot = makeBot(include, { exclude: options.exclude ?? [] });
  writer = await LogWriter.start(log, 0, LINES, 3);
  const first = await harness.start(bot);
  await sleep(150);
  await first.stop();
  for (let round = 0; round < (options.rounds ?? 1); round++) {
    await sleep(100);
    if (options.freeze) writer.pause();
    await runLogrotate(dir, log, directives(writer.pid));
    if (options.freeze) writer.resume();
  }
  await sleep(100);
  await harness.start(bot);
  await writer.done;
  await waitFor(() => harness!.sink.delivered.length >= LINES, 8000);
  await sleep(300);
  return deliveryProblems(harness.sink, range(0, LINES));
}

describe.skipIf(!hasLogrotate())('rotation while stopped', () => {
  test('create while stopped', async () => {
    expect(
      await rotateWhileStopped((pid) => ['rotate 5', 'create', postrotateSignal(pid)])
    ).toEqual([]);
  });

  test('create with compress while stopped', async () => {
    const directives = (pid: number) => ['rotate 5', 'create', 'compress', postrotateSignal(pid)];
    expect(await rotateWhileStopped(directives)).toEqual([]);
  });

  test('delaycompress twice while stopped', async () => {
    const directives = (pid: number) => [
      'rotate 5',
      'create',
      'compress',
      'delaycompress',
      postrotateSignal(pid),
    ];
    const options = { include: ['app.log*'], exclude: ['*.gz'], rounds: 2 };
    expect(await rotateWhileStopped(directives, options)).toEqual([]);
  });

  test('dateext while stopped', async () => {
    const directives = (pid: number) => [
      'rotate 5',
      'create',
      'dateext',
      'dateformat -%Y%m%d-%s',
      postrotateSignal(pid),
    ];
    expect(await rotateWhileStopped(directives)).toEqual([]);
  });

  test('copytruncate while stopped', async () => {
    expect(await rotateWhileStopped(() => ['rotate 5', 'copytruncate'], { freeze: true })).toEqual(
      []
    );
  });

  test('copytruncate compress while stopped', async () => {
    const options = { freeze: true };
    expect(
      await rotateWhileStopped(() => ['rotate 5', 'copytruncate', 'compress'], options)
    ).toEqual([]);
  });

  test('matching copies while stopped', async () => {
    const options = { include: ['app.log*'], exclude: ['*.gz'], freeze: true, rounds: 2 };
    expect(await rotateWhileStopped(() => ['rotate 5', 'copytruncate'], options)).toEqual([]);
  });
});
