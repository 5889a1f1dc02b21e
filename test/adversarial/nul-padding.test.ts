import { closeSync, openSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AgentChild,
  appendEvents,
  appointmentLine,
  deliveryReport,
  eventLines,
  killHard,
  makeWorkspace,
  range,
  runCli,
  StrictTracker,
  sleep,
  startAgent,
  waitFor,
  writeLog,
} from './helpers.js';

/**
 * A writer without O_APPEND keeps its file position across a copytruncate, so its next write
 * lands at the old size and the file reads back as that many NULs, then the line. The padding
 * is as long as the log was before rotation, usually far above maxLineBytes; the line after it
 * must still be read.
 */
describe('NUL padding above maxLineBytes', () => {
  let tracker: StrictTracker;
  let agent: AgentChild | null = null;

  afterEach(async () => {
    await killHard(agent);
    agent = null;
    await tracker?.stop();
  });

  it('keeps the line after the padding', async () => {
    tracker = new StrictTracker();
    await tracker.start();
    // 4 KiB stands in for the default 1 MiB, with a log of a few KiB standing in for megabytes.
    const { logs, config } = makeWorkspace('nul', tracker.url, { bot: { maxLineBytes: 4096 } });
    const log = join(logs, 'bot.log');
    writeLog(log, '');
    agent = startAgent(['run', '--config', config]);
    appendEvents(log, 1, 30);
    await waitFor(() => tracker.accepted.length >= 30, '30 events');
    const oldSize = statSync(log).size;
    expect(oldSize).toBeGreaterThan(4096);

    truncateSync(log, 0);
    const fd = openSync(log, 'r+');
    writeSync(fd, appointmentLine(31) + eventLines(32, 33), oldSize);
    closeSync(fd);
    await waitFor(() => tracker.accepted.length >= 33, '33 events', 8000).catch(() => undefined);
    await sleep(300);
    expect(deliveryReport(tracker.countsByUser(), range(1, 33))).toEqual({
      missing: [],
      repeated: [],
    });
  });

  it('skips padding longer than the read buffer', async () => {
    tracker = new StrictTracker();
    await tracker.start();
    const { logs, config } = makeWorkspace('nul-big', tracker.url, { bot: { maxLineBytes: 4096 } });
    const log = join(logs, 'bot.log');
    writeLog(log, eventLines(1, 3));
    agent = startAgent(['run', '--config', config]);
    await waitFor(() => tracker.accepted.length >= 3, '3 events');

    // 6 MiB of padding (a sparse file) outgrows the agent's 4 MiB read buffer.
    truncateSync(log, 0);
    const fd = openSync(log, 'r+');
    writeSync(fd, appointmentLine(4) + eventLines(5, 6), 6 * 1024 * 1024);
    closeSync(fd);
    await waitFor(() => tracker.accepted.length >= 6, '6 events', 8000).catch(() => undefined);
    await sleep(300);
    expect(deliveryReport(tracker.countsByUser(), range(1, 6))).toEqual({
      missing: [],
      repeated: [],
    });
  });

  it('skips padding in a .gz generation', async () => {
    tracker = new StrictTracker();
    await tracker.start();
    const { logs, config } = makeWorkspace('nul-gz', tracker.url, { bot: { maxLineBytes: 4096 } });
    const padded = Buffer.concat([
      Buffer.from(eventLines(1, 2)),
      Buffer.alloc(6 * 1024 * 1024),
      Buffer.from(appointmentLine(3) + eventLines(4, 5)),
    ]);
    writeLog(join(logs, 'bot.log.1.gz'), gzipSync(padded));
    writeLog(join(logs, 'bot.log'), eventLines(6, 7));
    const since = new Date(1_796_000_000_000).toISOString();
    expect((await runCli(['backfill', '--config', config, '--since', since])).code).toBe(0);
    expect(deliveryReport(tracker.countsByUser(), range(1, 7))).toEqual({
      missing: [],
      repeated: [],
    });
  });
});
