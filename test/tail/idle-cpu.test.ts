import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { appendEvents, makeBot, makeTempDir, removeDir, sleep, TailHarness } from './harness.js';

let dir = '';
let harness: TailHarness | undefined;

afterEach(async () => {
  await harness?.stopAll();
  if (dir) await removeDir(dir);
  harness = undefined;
});

test('idle service uses little CPU', async () => {
  dir = await makeTempDir('idle');
  harness = new TailHarness(join(dir, 'state'));
  for (let file = 0; file < 50; file++) appendEvents(join(dir, `bot-${file}.log`), file * 10, 5);
  // Production timings: the 10 s rescan, no test-speed polling.
  const service = await harness.start(makeBot([join(dir, '*.log')]), { rescanIntervalMs: 10_000 });
  await service.drain();
  await sleep(200);

  const before = process.cpuUsage();
  const startedAt = Date.now();
  await sleep(2000);
  const used = process.cpuUsage(before);
  const cpuMs = (used.user + used.system) / 1000;
  const wallMs = Date.now() - startedAt;
  // Near zero: notifications wake the service, nothing polls. 5% leaves room for a busy machine.
  expect(cpuMs / wallMs).toBeLessThan(0.05);
});
