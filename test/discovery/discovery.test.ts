import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { Discovery } from '../../src/discovery/discovery.js';
import { watchTargetOf } from '../../src/discovery/patterns.js';
import { PathWatcher } from '../../src/discovery/watcher.js';
import { LogCapture, makeTempDir, removeDir, sleep, waitFor } from '../tail/harness.js';

let dir = '';
let discovery: Discovery | undefined;

afterEach(async () => {
  await discovery?.stop();
  if (dir) await removeDir(dir);
  discovery = undefined;
});

/** Starts discovery with a rescan too slow to matter, so only notifications count. */
async function watch(include: string[], exclude: string[] = [], usePolling = false) {
  const logs = new LogCapture();
  const events: string[] = [];
  let rescans = 0;
  discovery = new Discovery({
    include,
    exclude,
    logger: logs.logger,
    rescanIntervalMs: 600_000,
    usePolling,
    onPath: (event, path) => events.push(`${event} ${path}`),
    onRescan: () => rescans++,
  });
  await discovery.start();
  return { events, logs, rescans: () => rescans };
}

test('scan applies include and exclude', async () => {
  dir = await makeTempDir('scan');
  for (const name of ['a.log', 'b.log', 'b.log.1', 'c.log.1.gz', 'skip.log'])
    writeFileSync(join(dir, name), 'x\n');
  await watch([join(dir, '*.log*')], ['skip.*']);
  expect(await discovery!.scan()).toEqual(
    ['a.log', 'b.log', 'b.log.1'].map((name) => join(dir, name))
  );
  expect(await discovery!.scanCompressed()).toEqual([join(dir, 'c.log.1.gz')]);
});

test('notifies matching files only', async () => {
  dir = await makeTempDir('notify');
  const { events } = await watch([join(dir, '*.log')]);
  writeFileSync(join(dir, 'app.log'), 'x\n');
  writeFileSync(join(dir, 'app.txt'), 'x\n');
  writeFileSync(join(dir, 'app.log.1.gz'), 'x\n');
  expect(await waitFor(() => events.includes(`add ${join(dir, 'app.log')}`), 3000)).toBe(true);
  await sleep(200);
  expect(events.filter((event) => !event.endsWith('app.log'))).toEqual([]);
});

test('directory created later', async () => {
  dir = await makeTempDir('later');
  const { events, rescans } = await watch([join(dir, 'bots', '*', 'app.log')]);
  mkdirSync(join(dir, 'bots', 'one'), { recursive: true });
  expect(await waitFor(() => rescans() > 0, 3000)).toBe(true);
  await sleep(200);
  writeFileSync(join(dir, 'bots', 'one', 'app.log'), 'x\n');
  const path = join(dir, 'bots', 'one', 'app.log');
  expect(await waitFor(() => events.some((event) => event.endsWith(path)), 3000)).toBe(true);
});

test('inotify limit switches to polling', async () => {
  dir = await makeTempDir('polling');
  const logs = new LogCapture();
  const events: string[] = [];
  let moved = 0;
  const watcher = new PathWatcher({
    targets: [watchTargetOf(join(dir, '*.log'))],
    logger: logs.logger,
    onPath: (event, path) => events.push(`${event} ${path}`),
    onDirectoryChange: () => moved++,
  });
  await watcher.start();
  try {
    const limit = Object.assign(
      new Error('ENOSPC: System limit for number of file watchers reached'),
      {
        code: 'ENOSPC',
      }
    );
    expect(await watcher.handleError(limit)).toBe(true);
    expect(await watcher.handleError(limit)).toBe(false);
    expect(watcher.isPolling).toBe(true);
    expect(moved).toBe(1);
    const warnings = logs.records.filter((record) =>
      String(record.msg).includes('fs.inotify.max_user_watches')
    );
    expect(warnings).toHaveLength(1);
    writeFileSync(join(dir, 'app.log'), 'x\n');
    expect(await waitFor(() => events.includes(`add ${join(dir, 'app.log')}`), 5000)).toBe(true);
  } finally {
    await watcher.stop();
  }
});
