import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AgentChild,
  deliveryReport,
  eventLines,
  killHard,
  makeWorkspace,
  range,
  StrictTracker,
  sleep,
  startAgent,
  waitFor,
} from './helpers.js';

/**
 * `startAt: end` is for the files that exist when the agent first looks. A log that appears
 * after that first look, while the agent is stopped, is new since the agent last looked and
 * must be read from its start, as it is when it appears while the agent runs.
 */
describe('startAt end after a first start without logs', () => {
  let tracker: StrictTracker;
  let agent: AgentChild | null = null;

  afterEach(async () => {
    await killHard(agent);
    agent = null;
    await tracker?.stop();
  });

  it('reads a log created while stopped', async () => {
    tracker = new StrictTracker();
    await tracker.start();
    const { logs, config } = makeWorkspace('late-stopped', tracker.url, {
      bot: { startAt: 'end' },
    });
    rmSync(logs, { recursive: true });
    agent = startAgent(['run', '--config', config]);
    // The signal handlers are installed once the agent has started, after its tail services.
    await waitFor(() => agent!.output().includes('Agent started'), 'agent start');
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);

    // The bot is installed and writes its first bookings while the agent is down.
    mkdirSync(logs);
    writeFileSync(join(logs, 'bot.log'), eventLines(1, 3));
    agent = startAgent(['run', '--config', config]);
    await waitFor(() => tracker.accepted.length >= 3, '3 events', 8000).catch(() => undefined);
    await sleep(300);
    expect(deliveryReport(tracker.countsByUser(), range(1, 3))).toEqual({
      missing: [],
      repeated: [],
    });
  });
});
