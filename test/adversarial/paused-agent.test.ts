import {
  copyFileSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AgentChild,
  appendEvents,
  deliveryReport,
  killHard,
  makeWorkspace,
  range,
  StrictTracker,
  sleep,
  startAgent,
  waitFor,
  waitForSave,
} from './helpers.js';

/**
 * Rotations that finish while the agent cannot look: frozen with SIGSTOP (a slow disk, a
 * loaded host), or blocked on a full outbox. Every event must still arrive once.
 */
describe('rotation while the agent cannot look', () => {
  let tracker: StrictTracker;
  let agent: AgentChild | null = null;

  afterEach(async () => {
    agent?.child.kill('SIGCONT');
    await killHard(agent);
    agent = null;
    await tracker?.stop();
  });

  async function setUp(extra: Record<string, unknown> = {}) {
    tracker = new StrictTracker();
    await tracker.start();
    const workspace = makeWorkspace('paused', tracker.url, { extra });
    const log = join(workspace.logs, 'bot.log');
    writeFileSync(log, '');
    agent = startAgent(['run', '--config', workspace.config]);
    await waitForSave(workspace.stateDir, 0);
    return { ...workspace, log };
  }

  async function expectEachOnce(count: number): Promise<void> {
    await waitFor(() => tracker.accepted.length >= count, `${count} events`, 20_000).catch(
      () => undefined
    );
    await sleep(500);
    expect(deliveryReport(tracker.countsByUser(), range(1, count))).toEqual({
      missing: [],
      repeated: [],
    });
    expect(tracker.accepted).toHaveLength(count);
  }

  it('frozen: rename, create, delete', async () => {
    const { log, logs } = await setUp();
    appendEvents(log, 1, 10);
    await waitFor(() => tracker.accepted.length >= 10, '10 events');

    agent!.child.kill('SIGSTOP');
    appendEvents(log, 11, 20);
    renameSync(log, join(logs, 'bot.log.1'));
    appendEvents(log, 21, 30);
    // The rotated file is gone before the agent wakes; only its open descriptor has it.
    rmSync(join(logs, 'bot.log.1'));
    agent!.child.kill('SIGCONT');
    await expectEachOnce(30);
  });

  it('frozen: copytruncate, compress', async () => {
    const { log, logs } = await setUp();
    appendEvents(log, 1, 10);
    await waitFor(() => tracker.accepted.length >= 10, '10 events');

    agent!.child.kill('SIGSTOP');
    appendEvents(log, 11, 20);
    copyFileSync(log, join(logs, 'bot.log.1'));
    truncateSync(log, 0);
    // The new content outgrows the old offset, so only the bytes before it show the rewrite.
    appendEvents(log, 21, 60);
    writeFileSync(join(logs, 'bot.log.1.gz'), gzipSync(readFileSync(join(logs, 'bot.log.1'))));
    rmSync(join(logs, 'bot.log.1'));
    agent!.child.kill('SIGCONT');
    await expectEachOnce(60);
  });

  it('outbox full: copytruncate twice', async () => {
    // About six events fit in 2 KiB, so reading stops far behind the writer.
    const { log, logs } = await setUp({ outbox: { maxBytes: 2048 } });
    tracker.reply = () => ({ status: 200, delayMs: 30 });
    appendEvents(log, 1, 40);
    await sleep(200);
    copyFileSync(log, join(logs, 'bot.log.1'));
    truncateSync(log, 0);
    appendEvents(log, 41, 80);
    await sleep(200);
    copyFileSync(log, join(logs, 'bot.log.2'));
    truncateSync(log, 0);
    appendEvents(log, 81, 90);
    await expectEachOnce(90);
  });

  it('outbox full: kill -9, copytruncate', async () => {
    const { log, logs, config } = await setUp({ outbox: { maxBytes: 2048 } });
    tracker.reply = () => ({ status: 200, delayMs: 30 });
    appendEvents(log, 1, 40);
    await sleep(300);
    tracker.hold();
    await sleep(200);
    await killHard(agent);
    tracker.dropHeld();
    copyFileSync(log, join(logs, 'bot.log.1'));
    truncateSync(log, 0);
    appendEvents(log, 41, 50);
    agent = startAgent(['run', '--config', config]);
    tracker.release();
    await expectEachOnce(50);
  });
});
