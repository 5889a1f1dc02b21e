import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AgentChild,
  appendEvents,
  countUsers,
  deliveryReport,
  killHard,
  logMessages,
  makeWorkspace,
  range,
  runCli,
  StrictTracker,
  sleep,
  startAgent,
  userIdOf,
  waitFor,
} from './helpers.js';

describe('tracker answers through the CLI', () => {
  let tracker: StrictTracker;
  let agent: AgentChild | null = null;

  afterEach(async () => {
    await killHard(agent);
    agent = null;
    await tracker?.stop();
  });

  async function setUp(
    extra: Record<string, unknown> = {},
    trackerKeys: Record<string, unknown> | undefined = undefined
  ) {
    tracker = new StrictTracker();
    await tracker.start();
    const workspace = makeWorkspace('answers', tracker.url, {
      extra,
      ...(trackerKeys ? { tracker: trackerKeys } : {}),
    });
    const log = join(workspace.logs, 'bot.log');
    writeFileSync(log, '');
    return { ...workspace, log };
  }

  async function stopAgent(): Promise<void> {
    agent!.child.kill('SIGTERM');
    expect((await agent!.exited).code).toBe(0);
    agent = null;
  }

  it('400 for one user, then retry', async () => {
    const { log, config } = await setUp();
    const rejected = userIdOf(5);
    tracker.reply = (body) =>
      body.includes(`"customUserId":"${rejected}"`)
        ? { status: 400, body: '{"error": "Bad Request"}' }
        : { status: 200 };
    agent = startAgent(['run', '--config', config]);
    appendEvents(log, 1, 10);
    await waitFor(() => tracker.accepted.length >= 9, '9 accepted events');

    const listed = await runCli(['dead-letters', 'list', '--json', '--config', config]);
    expect(listed.code).toBe(0);
    const entries = JSON.parse(listed.output) as { event: { userId: string }; status: number }[];
    expect(entries.map((entry) => [entry.event.userId, entry.status])).toEqual([[rejected, 400]]);

    tracker.reply = () => ({ status: 200 });
    expect((await runCli(['dead-letters', 'retry', '--all', '--config', config])).code).toBe(0);
    // The running agent moves the spool into its outbox every 5 s.
    await waitFor(() => tracker.accepted.length >= 10, 'the retried event', 15_000);
    const again = await runCli(['dead-letters', 'retry', '--all', '--config', config]);
    expect(again.code).not.toBe(0);
    expect(again.output).toContain('no dead letters');

    await stopAgent();
    agent = startAgent(['run', '--config', config]);
    appendEvents(log, 11, 12);
    await waitFor(() => tracker.accepted.length >= 12, '12 events');
    await sleep(500);
    expect(deliveryReport(tracker.countsByUser(), range(1, 12))).toEqual({
      missing: [],
      repeated: [],
    });
    expect(tracker.accepted).toHaveLength(12);
  });

  it('403 for a while, then 200', async () => {
    const { log, config } = await setUp();
    tracker.reply = () => ({ status: 403, body: '{"error": "Forbidden"}' });
    agent = startAgent(['run', '--config', config]);
    appendEvents(log, 1, 20);
    await sleep(1000);
    appendEvents(log, 21, 30);
    await sleep(1000);
    const forbidden = tracker.received.length;
    // One request at a time probes every probeIntervalMs (300 ms); events are not sent in bulk.
    expect(forbidden).toBeLessThan(15);

    tracker.reply = () => ({ status: 200 });
    await waitFor(() => tracker.accepted.length >= 30, '30 events after the token is accepted');
    await sleep(500);
    expect(deliveryReport(tracker.countsByUser(), range(1, 30))).toEqual({
      missing: [],
      repeated: [],
    });
    const pauses = logMessages(agent.output()).filter((message) => /paus/i.test(message));
    expect(pauses.length).toBeGreaterThan(0);
    expect(pauses.length).toBeLessThan(forbidden);
  });

  it('answers slower than timeoutMs', async () => {
    const { log, config } = await setUp({}, { timeoutMs: 300 });
    // Every third first attempt is answered after the agent gave up on it: the server may
    // have recorded it, so each such request can cost one duplicate, and no more.
    const slow = new Set<number>();
    const firstSeen = new Set<string>();
    tracker.reply = (body, index) => {
      const id = /"customUserId":"(\d+)"/.exec(body)?.[1] ?? '?';
      const first = !firstSeen.has(id);
      firstSeen.add(id);
      if (first && Number(id) % 3 === 0) {
        slow.add(index);
        return { status: 200, delayMs: 900 };
      }
      return { status: 200 };
    };
    agent = startAgent(['run', '--config', config]);
    appendEvents(log, 1, 30);
    await waitFor(() => tracker.accepted.length >= 30, '30 events');
    await sleep(1200);

    expect(slow.size).toBe(10);
    expect(deliveryReport(tracker.countsByUser(), range(1, 30))).toEqual({
      missing: [],
      repeated: [],
    });
    const receivedTwice = [...countUsers(tracker.received).values()].filter((count) => count > 1);
    expect(receivedTwice).toHaveLength(slow.size);
    expect(Math.max(...receivedTwice)).toBe(2);
  });

  it('SIGTERM during a large backlog', async () => {
    const { log, config } = await setUp({ shutdownTimeoutMs: 1000 });
    tracker.reply = () => ({ status: 200, delayMs: 20 });
    appendEvents(log, 1, 1500);
    agent = startAgent(['run', '--config', config]);
    await waitFor(() => tracker.accepted.length >= 100, '100 events');
    // The answers of the requests in flight never come: the agent gives up after 1000 ms.
    tracker.hold();
    await sleep(100);
    const stoppedAt = Date.now();
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(1000 + 2000);
    agent = null;
    tracker.dropHeld();
    tracker.release();
    const before = tracker.accepted.length;
    expect(before).toBeLessThan(1500);

    tracker.reply = () => ({ status: 200 });
    agent = startAgent(['run', '--config', config]);
    await waitFor(() => tracker.accepted.length >= 1500, '1500 events', 30_000);
    await sleep(500);
    expect(deliveryReport(tracker.countsByUser(), range(1, 1500))).toEqual({
      missing: [],
      repeated: [],
    });
    expect(tracker.accepted).toHaveLength(1500);
  });
});
