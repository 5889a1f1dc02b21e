import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  appendEvents,
  deliveryReport,
  eventLines,
  makeWorkspace,
  range,
  runCli,
  StrictTracker,
} from './helpers.js';

/** ISO time of event `n` as `appointmentLine(n)` writes it (1796000000 + n seconds). */
function timeOf(n: number): string {
  return new Date((1_796_000_000 + n) * 1000).toISOString();
}

/**
 * `backfill --until` sends the events inside a window. Events of the same files dated after
 * the window are newer than it: they are not the backfill's to send, but the agent's, so the
 * backfill must not move the checkpoints past them.
 */
describe('backfill window', () => {
  let tracker: StrictTracker;

  afterEach(async () => {
    await tracker?.stop();
  });

  it('until keeps later events for run', async () => {
    tracker = new StrictTracker();
    await tracker.start();
    const { logs, config } = makeWorkspace('until', tracker.url);
    const log = join(logs, 'bot.log');
    writeFileSync(log, eventLines(1, 30));

    const window = ['--since', timeOf(1), '--until', timeOf(11)];
    expect((await runCli(['backfill', '--config', config, ...window])).code).toBe(0);
    expect(deliveryReport(tracker.countsByUser(), range(1, 10))).toEqual({
      missing: [],
      repeated: [],
    });

    appendEvents(log, 31, 32);
    expect((await runCli(['run', '--once', '--config', config])).code).toBe(0);
    expect(deliveryReport(tracker.countsByUser(), range(1, 32))).toEqual({
      missing: [],
      repeated: [],
    });
  });
});
