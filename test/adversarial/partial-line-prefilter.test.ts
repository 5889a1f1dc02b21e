import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AgentChild,
  appendEvents,
  appointmentLine,
  deliveryReport,
  killHard,
  makeWorkspace,
  runCli,
  StrictTracker,
  sleep,
  startAgent,
  waitFor,
  writeLog,
} from './helpers.js';

/**
 * A last line cut before the rule's literal (`appointment created`) must wait for its end. The
 * prefilter must not let the tail take the half line as a complete final line, or the rest of
 * the line arrives alone, is not JSON, and the event is lost.
 */
describe('half line cut before the literal', () => {
  let tracker: StrictTracker;
  let agent: AgentChild | null = null;

  afterEach(async () => {
    await killHard(agent);
    agent = null;
    await tracker?.stop();
  });

  it('follow: completed after the timeout', async () => {
    tracker = new StrictTracker();
    await tracker.start();
    const { logs, config } = makeWorkspace('half-follow', tracker.url);
    const log = join(logs, 'bot.log');
    writeLog(log, '');
    agent = startAgent(['run', '--config', config]);
    await waitFor(() => agent!.output().includes('Tail service started'), 'agent start');

    const line = appointmentLine(1);
    appendFileSync(log, line.slice(0, 40));
    // Longer than partialLineTimeoutMs (500 ms), as a block-buffered writer stalls mid-line.
    await sleep(1200);
    appendFileSync(log, line.slice(40));
    appendEvents(log, 2, 3);
    await waitFor(() => tracker.accepted.length >= 3, '3 events', 8000).catch(() => undefined);
    await sleep(300);
    expect(deliveryReport(tracker.countsByUser(), [1, 2, 3])).toEqual({
      missing: [],
      repeated: [],
    });
  });

  it('run --once: line being written', async () => {
    tracker = new StrictTracker();
    await tracker.start();
    const { logs, config } = makeWorkspace('half-once', tracker.url);
    const log = join(logs, 'bot.log');
    const line = appointmentLine(2);
    writeLog(log, appointmentLine(1) + line.slice(0, 40));

    // A periodic `run --once` catches the writer in the middle of a line.
    expect((await runCli(['run', '--once', '--config', config])).code).toBe(0);
    appendFileSync(log, line.slice(40) + appointmentLine(3));
    expect((await runCli(['run', '--once', '--config', config])).code).toBe(0);

    expect(deliveryReport(tracker.countsByUser(), [1, 2, 3])).toEqual({
      missing: [],
      repeated: [],
    });
  });
});
