import {
  appendFileSync,
  chmodSync,
  chownSync,
  mkdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canRunAsNobody } from '../helpers/unprivileged.js';
import {
  type AgentChild,
  appendEvents,
  appointmentLine,
  chownWorkspace,
  deliveryReport,
  eventLines,
  killHard,
  logMessages,
  makeWorkspace,
  range,
  StrictTracker,
  sleep,
  startAgent,
  waitFor,
} from './helpers.js';

/** Uid and gid of `nobody`, used to run the agent when the tests run as root. */
const NOBODY = { uid: 65534, gid: 65534 };

describe('discovery through the CLI', () => {
  let tracker: StrictTracker;
  let agent: AgentChild | null = null;

  afterEach(async () => {
    await killHard(agent);
    agent = null;
    await tracker?.stop();
  });

  async function startTracker(): Promise<void> {
    tracker = new StrictTracker();
    await tracker.start();
  }

  async function expectEachOnce(numbers: number[], timeoutMs = 15_000): Promise<void> {
    await waitFor(
      () => deliveryReport(tracker.countsByUser(), numbers).missing.length === 0,
      `${numbers.length} events`,
      timeoutMs
    ).catch(() => undefined);
    await sleep(300);
    expect(deliveryReport(tracker.countsByUser(), numbers)).toEqual({ missing: [], repeated: [] });
  }

  it('300 files created at once', async () => {
    await startTracker();
    const { logs, config } = makeWorkspace('many', tracker.url);
    agent = startAgent(['run', '--config', config]);
    await waitFor(() => agent!.output().includes('Tail service started'), 'agent start');
    for (let n = 1; n <= 300; n++) writeFileSync(join(logs, `bot-${n}.log`), appointmentLine(n));
    await expectEachOnce(range(1, 300), 30_000);
    for (let n = 1; n <= 300; n++)
      appendFileSync(join(logs, `bot-${n}.log`), appointmentLine(n + 300));
    await expectEachOnce(range(1, 600), 30_000);
    expect(tracker.accepted).toHaveLength(600);
  });

  it('log directory created after start', async () => {
    await startTracker();
    const { logs, config } = makeWorkspace('late-dir', tracker.url, { bot: { startAt: 'end' } });
    rmSync(logs, { recursive: true });
    agent = startAgent(['run', '--config', config]);
    await waitFor(() => agent!.output().includes('Tail service started'), 'agent start');
    mkdirSync(logs);
    writeFileSync(join(logs, 'bot.log'), eventLines(1, 3));
    // Found after the first scan, so it is read from its start whatever startAt is set to.
    await expectEachOnce(range(1, 3));
    appendEvents(join(logs, 'bot.log'), 4, 5);
    await expectEachOnce(range(1, 5));
  });

  // Runs as nobody when the tests run as root; that user must be able to read this checkout.
  it.skipIf(process.getuid?.() === 0 && !canRunAsNobody())(
    'unreadable file, then readable',
    async () => {
      await startTracker();
      const workspace = makeWorkspace('perm', tracker.url, {
        extra: { state: { flushIntervalMs: 200 } },
      });
      const user = process.getuid?.() === 0 ? NOBODY : undefined;
      if (user) chownWorkspace(workspace, user.uid, user.gid);
      const log = join(workspace.logs, 'bot.log');
      writeFileSync(log, eventLines(1, 3), { mode: 0o600 });
      chmodSync(log, 0o000);
      if (user) chownSync(log, 0, 0);
      agent = startAgent(['run', '--config', workspace.config], user);
      await waitFor(
        () => logMessages(agent!.output()).some((m) => m.includes('permission denied')),
        'a permission warning'
      );
      expect(tracker.received).toHaveLength(0);

      chmodSync(log, 0o644);
      await expectEachOnce(range(1, 3), 20_000);
      appendEvents(log, 4, 5);
      await expectEachOnce(range(1, 5));
      const denied = logMessages(agent.output()).filter((m) => m.includes('permission denied'));
      expect(denied).toHaveLength(1);
    }
  );

  it('symlink re-pointed while running', async () => {
    await startTracker();
    const { logs, config } = makeWorkspace('link', tracker.url, { glob: 'current.log' });
    const link = join(logs, 'current.log');
    writeFileSync(join(logs, 'bot-1.log'), eventLines(1, 3));
    symlinkSync('bot-1.log', link);
    agent = startAgent(['run', '--config', config]);
    await expectEachOnce(range(1, 3));

    // The writer adds to the old target and then moves on to a new one.
    appendEvents(join(logs, 'bot-1.log'), 4, 5);
    writeFileSync(join(logs, 'bot-2.log'), eventLines(6, 8));
    rmSync(link);
    symlinkSync('bot-2.log', link);
    appendEvents(join(logs, 'bot-2.log'), 9, 10);
    await expectEachOnce(range(1, 10));
    expect(tracker.accepted).toHaveLength(10);
  });

  it('symlink re-pointed while stopped', async () => {
    await startTracker();
    const { logs, config } = makeWorkspace('link-stopped', tracker.url, { glob: 'current.log' });
    const link = join(logs, 'current.log');
    writeFileSync(join(logs, 'bot-1.log'), eventLines(1, 3));
    symlinkSync('bot-1.log', link);
    agent = startAgent(['run', '--config', config]);
    await expectEachOnce(range(1, 3));
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);

    appendEvents(join(logs, 'bot-1.log'), 4, 5);
    writeFileSync(join(logs, 'bot-2.log'), eventLines(6, 8));
    rmSync(link);
    symlinkSync('bot-2.log', link);
    agent = startAgent(['run', '--config', config]);
    await expectEachOnce(range(1, 8));
    expect(tracker.accepted).toHaveLength(8);
  });
});
