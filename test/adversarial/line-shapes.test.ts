import { appendFileSync, closeSync, openSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AgentChild,
  appendEvents,
  appointmentLine,
  deliveryReport,
  eventLines,
  killHard,
  logMessages,
  makeWorkspace,
  noiseLine,
  range,
  StrictTracker,
  sleep,
  startAgent,
  waitFor,
  writeLog,
} from './helpers.js';

describe('odd line shapes under a running agent', () => {
  let tracker: StrictTracker;
  let agent: AgentChild | null = null;

  afterEach(async () => {
    await killHard(agent);
    agent = null;
    await tracker?.stop();
  });

  async function setUp(bot: Record<string, unknown> = {}) {
    tracker = new StrictTracker();
    await tracker.start();
    const workspace = makeWorkspace('lines', tracker.url, { bot });
    const log = join(workspace.logs, 'bot.log');
    writeLog(log, '');
    agent = startAgent(['run', '--config', workspace.config]);
    await waitFor(() => agent!.output().includes('Tail service started'), 'agent start');
    return { ...workspace, log };
  }

  async function expectEachOnce(numbers: number[]): Promise<void> {
    await waitFor(
      () => deliveryReport(tracker.countsByUser(), numbers).missing.length === 0,
      `events ${numbers.join(',')}`,
      15_000
    ).catch(() => undefined);
    await sleep(300);
    expect(deliveryReport(tracker.countsByUser(), numbers)).toEqual({ missing: [], repeated: [] });
  }

  it('partial line completed later', async () => {
    const { log } = await setUp();
    const line = appointmentLine(1);
    // The cut falls after the rule's literal, so the half line is tried as JSON and rejected.
    const cut = line.indexOf('"userId"');
    appendFileSync(log, line.slice(0, cut));
    // Longer than partialLineTimeoutMs (500 ms): the agent tries the half line and must wait.
    await sleep(1200);
    appendFileSync(log, line.slice(cut));
    appendEvents(log, 2, 3);
    await expectEachOnce([1, 2, 3]);
    expect(tracker.accepted).toHaveLength(3);
  });

  it('complete JSON never ended', async () => {
    const { log, config } = await setUp();
    appendEvents(log, 1, 2);
    appendFileSync(log, appointmentLine(3).trimEnd());
    await expectEachOnce([1, 2, 3]);

    agent!.child.kill('SIGTERM');
    expect((await agent!.exited).code).toBe(0);
    agent = startAgent(['run', '--config', config]);
    await waitFor(() => agent!.output().includes('Tail service started'), 'agent restart');
    appendFileSync(log, '\n');
    appendEvents(log, 4, 5);
    await expectEachOnce([1, 2, 3, 4, 5]);
    expect(tracker.accepted).toHaveLength(5);
  });

  it('CRLF, BOM and invalid UTF-8', async () => {
    const { log } = await setUp();
    const crlf = (text: string) => text.replace(/\n/g, '\r\n');
    const invalidUtf8 = Buffer.from(appointmentLine(4).replace('Замена', 'Zamena'), 'utf8');
    // Overwrite two bytes inside the service name with bytes that are not UTF-8.
    const at = invalidUtf8.indexOf('Zamena');
    invalidUtf8[at] = 0xc3;
    invalidUtf8[at + 1] = 0x28;
    appendFileSync(
      log,
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(crlf(appointmentLine(1) + noiseLine(2) + appointmentLine(2))),
        Buffer.from([0xff, 0xfe, 0x0a]),
        Buffer.from(appointmentLine(3)),
        invalidUtf8,
      ])
    );
    await expectEachOnce([1, 2, 3, 4]);
    expect(tracker.accepted).toHaveLength(4);
  });

  it('skips a 5 MB line, keeps the rest', async () => {
    const { log } = await setUp();
    appendEvents(log, 1, 2);
    // A matching event line with a 5 MB field, written in pieces slower than the agent reads.
    const huge = appointmentLine(3).replace('"service":"', `"service":"${'x'.repeat(5 << 20)}`);
    const cut = [0, 700_000, 1_600_000, 3_000_000, huge.length - 10, huge.length];
    for (let index = 1; index < cut.length; index++) {
      appendFileSync(log, huge.slice(cut[index - 1], cut[index]));
      await sleep(150);
    }
    appendEvents(log, 4, 6);
    await expectEachOnce([1, 2, 4, 5, 6]);
    expect(tracker.countsByUser().get('1000003')).toBeUndefined();
    expect(tracker.accepted).toHaveLength(5);
    expect(logMessages(agent!.output()).join('\n')).toContain('longer than maxLineBytes');
  });

  it('NUL padding below maxLineBytes', async () => {
    // A writer without O_APPEND keeps its file position across a copytruncate, so its next
    // write lands at the old size and the bytes before it read back as NULs.
    const { log } = await setUp();
    appendEvents(log, 1, 30);
    await expectEachOnce(range(1, 30));
    const oldSize = statSync(log).size;
    truncateSync(log, 0);
    const fd = openSync(log, 'r+');
    writeSync(fd, appointmentLine(31) + eventLines(32, 33), oldSize);
    closeSync(fd);
    await expectEachOnce(range(1, 33));
    expect(tracker.accepted).toHaveLength(33);
  });
});
