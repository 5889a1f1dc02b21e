import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AgentChild,
  appendEvents,
  killHard,
  makeWorkspace,
  StrictTracker,
  startAgent,
  waitFor,
} from './helpers.js';

/**
 * After a crash and a reboot, the pid in the state directory's lock file often belongs to some
 * other program, because pids restart from 1 at boot. Such a lock is stale. An agent that
 * rejects it stays down until someone deletes the lock.
 */
describe('stale lock with a reused pid', () => {
  let tracker: StrictTracker;
  let agent: AgentChild | null = null;
  let other: ChildProcess | null = null;

  afterEach(async () => {
    await killHard(agent);
    agent = null;
    other?.kill('SIGKILL');
    await tracker?.stop();
  });

  it('starts after a crash and reboot', async () => {
    tracker = new StrictTracker();
    await tracker.start();
    const { logs, stateDir, config } = makeWorkspace('lock', tracker.url);
    const log = join(logs, 'bot.log');
    writeFileSync(log, '');
    agent = startAgent(['run', '--config', config]);
    await waitFor(() => agent!.output().includes('Tail service started'), 'agent start');
    await killHard(agent);

    // The pid of the crashed agent now names an unrelated program.
    other = spawn('sleep', ['60'], { stdio: 'ignore' });
    const lockPath = join(stateDir, 'lock');
    const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { pid: number };
    writeFileSync(lockPath, `${JSON.stringify({ ...lock, pid: other.pid })}\n`);

    agent = startAgent(['run', '--config', config]);
    appendEvents(log, 1, 2);
    const exited = await Promise.race([
      agent.exited.then(() => true),
      waitFor(() => tracker.accepted.length >= 2, '2 events', 10_000).then(() => false),
    ]).catch(() => false);
    expect(exited ? agent.output() : '').toBe('');
    expect(tracker.accepted).toHaveLength(2);
  });
});
