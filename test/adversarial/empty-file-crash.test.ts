import {
  appendFileSync,
  copyFileSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
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
} from './helpers.js';

interface SavedCheckpoint {
  path: string;
  ino: number;
  offset: number;
  fingerprint: { length: number };
}

/**
 * A log found empty (logrotate `create`, a copytruncate) gets a checkpoint with an empty
 * fingerprint, saved before its first events are queued. After a kill -9 before the next save,
 * the checkpoint is moved up to the outbox's high-water mark with no tail check, so only the
 * fingerprint tells that file from another, and it must cover the queued lines. A file changed
 * while the agent was down must not be taken for it.
 */
describe('kill -9 soon after an empty log was found', () => {
  let tracker: StrictTracker;
  let agent: AgentChild | null = null;

  afterEach(async () => {
    await killHard(agent);
    agent = null;
    await tracker?.stop();
  });

  /** Queues events 1..10 of an empty bot.log, acknowledged, then kills before any save. */
  async function queueThenKill() {
    tracker = new StrictTracker();
    await tracker.start();
    // No periodic save stands in for a kill within flushIntervalMs of the file being found.
    const workspace = makeWorkspace('empty-crash', tracker.url, {
      extra: { state: { flushIntervalMs: 600_000 } },
    });
    const log = join(workspace.logs, 'bot.log');
    writeFileSync(log, '');
    agent = startAgent(['run', '--config', workspace.config]);
    await waitFor(() => agent!.output().includes('Tail service started'), 'agent start');
    await sleep(300);
    appendEvents(log, 1, 10);
    await waitFor(() => tracker.accepted.length >= 10, '10 events');
    await sleep(300);
    await killHard(agent);
    agent = null;

    const saved = JSON.parse(readFileSync(join(workspace.stateDir, 'state.json'), 'utf8'))
      .files as SavedCheckpoint[];
    // No periodic save came after the lines were queued, only the save of the longer fingerprint.
    expect(saved).toHaveLength(1);
    expect(saved[0]!.offset).toBe(0);
    expect(saved[0]!.fingerprint.length).toBe(Math.min(1024, statSync(log).size));
    return { ...workspace, log, oldSize: statSync(log).size, oldIno: saved[0]!.ino };
  }

  async function restartAndCheck(config: string, count: number): Promise<void> {
    agent = startAgent(['run', '--config', config]);
    await waitFor(() => tracker.accepted.length >= count, `${count} events`, 10_000).catch(
      () => undefined
    );
    await sleep(500);
    expect(deliveryReport(tracker.countsByUser(), range(1, count))).toEqual({
      missing: [],
      repeated: [],
    });
  }

  it('copytruncate while stopped', async () => {
    const { log, logs, config, oldSize } = await queueThenKill();
    appendEvents(log, 11, 12);
    copyFileSync(log, join(logs, 'bot.log.1'));
    truncateSync(log, 0);
    appendEvents(log, 13, 40);
    expect(statSync(log).size).toBeGreaterThan(oldSize);
    await restartAndCheck(config, 40);
  });

  it('inode reused while stopped', async () => {
    const { log, logs, config, oldSize, oldIno } = await queueThenKill();
    unlinkSync(log);
    // ext4 and tmpfs hand a freed inode to a later create; another process may take it first.
    for (let attempt = 0; attempt < 50; attempt++) {
      const candidate = join(logs, `new-${attempt}.tmp`);
      appendFileSync(candidate, '');
      if (statSync(candidate).ino !== oldIno) continue;
      renameSync(candidate, log);
      break;
    }
    appendEvents(log, 11, 40);
    expect(statSync(log).ino).toBe(oldIno);
    expect(statSync(log).size).toBeGreaterThan(oldSize);
    await restartAndCheck(config, 40);
  });
});
