import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  appendEvents,
  appointmentLine,
  deliveryReport,
  eventLines,
  makeWorkspace,
  noiseLine,
  range,
  runCli,
  StrictTracker,
} from './helpers.js';

/** ISO time of event `n` as `appointmentLine(n)` writes it (1796000000 + n seconds). */
function timeOf(n: number): string {
  return new Date((1_796_000_000 + n) * 1000).toISOString();
}

/** Noise lines and events `from..to`, with `noisePerEvent` noise lines before each event. */
function bulkLines(from: number, to: number, noisePerEvent: number): string {
  let text = '';
  for (let n = from; n <= to; n++) {
    for (let k = 0; k < noisePerEvent; k++) text += noiseLine(n * 1000 + k);
    text += appointmentLine(n);
  }
  return text;
}

describe('run --once and backfill', () => {
  let tracker: StrictTracker;

  afterEach(async () => {
    await tracker?.stop();
  });

  async function setUp(bot: Record<string, unknown> = {}) {
    tracker = new StrictTracker();
    await tracker.start();
    const workspace = makeWorkspace('once', tracker.url, { bot });
    return { ...workspace, log: join(workspace.logs, 'bot.log') };
  }

  function expectOnce(numbers: number[]): void {
    expect(deliveryReport(tracker.countsByUser(), numbers)).toEqual({ missing: [], repeated: [] });
    expect(tracker.accepted).toHaveLength(numbers.length);
  }

  it('startAt end skips a large file', async () => {
    const { log, config } = await setUp({ startAt: 'end' });
    // About 3 MB, and a last line cut in the middle of an event.
    const cut = appointmentLine(201);
    writeFileSync(log, bulkLines(1, 200, 80) + cut.slice(0, 70));

    expect((await runCli(['run', '--once', '--config', config])).code).toBe(0);
    expect(tracker.received).toHaveLength(0);

    appendFileSync(log, cut.slice(70) + eventLines(202, 203));
    expect((await runCli(['run', '--once', '--config', config])).code).toBe(0);
    expectOnce([201, 202, 203]);
  });

  it('startAt beginning reads it all', async () => {
    const { log, config } = await setUp({ startAt: 'beginning' });
    writeFileSync(log, bulkLines(1, 200, 80));

    expect((await runCli(['run', '--once', '--config', config])).code).toBe(0);
    expectOnce(range(1, 200));
    expect((await runCli(['run', '--once', '--config', config])).code).toBe(0);
    appendEvents(log, 201, 202);
    expect((await runCli(['run', '--once', '--config', config])).code).toBe(0);
    expectOnce(range(1, 202));
  });

  it('backfill since a date with .gz', async () => {
    const { logs, log, config } = await setUp({ startAt: 'end' });
    writeFileSync(join(logs, 'bot.log.2.gz'), gzipSync(eventLines(1, 10)));
    writeFileSync(join(logs, 'bot.log.1.gz'), gzipSync(eventLines(11, 20)));
    writeFileSync(log, eventLines(21, 30));
    const since = ['--since', timeOf(6)];

    expect((await runCli(['backfill', '--config', config, ...since])).code).toBe(0);
    expectOnce(range(6, 30));
    expect((await runCli(['backfill', '--config', config, ...since])).code).toBe(0);
    expect((await runCli(['run', '--once', '--config', config])).code).toBe(0);
    expectOnce(range(6, 30));

    appendEvents(log, 31, 32);
    expect((await runCli(['run', '--once', '--config', config])).code).toBe(0);
    expectOnce(range(6, 32));
  });
});
