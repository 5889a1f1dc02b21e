import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AgentChild,
  appointmentLine,
  killHard,
  makeWorkspace,
  noiseLine,
  StrictTracker,
  sleep,
  startAgent,
  userIdOf,
  waitFor,
} from './helpers.js';

/**
 * A bot often writes a few lines per booking within milliseconds. An event line written
 * 15 ms after another line must arrive as fast as a lone line does, not at the next rescan
 * (10 s): a change notification may cover the first write only.
 */
describe('lines written in a burst', () => {
  let tracker: StrictTracker;
  let agent: AgentChild | null = null;

  afterEach(async () => {
    await killHard(agent);
    agent = null;
    await tracker?.stop();
  });

  it('event 15 ms after a line', async () => {
    tracker = new StrictTracker();
    await tracker.start();
    const { logs, config } = makeWorkspace('burst', tracker.url);
    const log = join(logs, 'bot.log');
    writeFileSync(log, '');
    agent = startAgent(['run', '--config', config]);
    await waitFor(() => agent!.output().includes('Tail service started'), 'agent start');
    await sleep(300);

    const latenciesMs: number[] = [];
    for (let n = 1; n <= 4; n++) {
      appendFileSync(log, noiseLine(n));
      await sleep(15);
      appendFileSync(log, appointmentLine(n));
      const writtenAt = Date.now();
      const id = `"customUserId":"${userIdOf(n)}"`;
      await waitFor(() => tracker.accepted.some((body) => body.includes(id)), `event ${n}`);
      latenciesMs.push(Date.now() - writtenAt);
      await sleep(200);
    }
    expect(latenciesMs.filter((ms) => ms > 2000)).toEqual([]);
  }, 90_000);
});
