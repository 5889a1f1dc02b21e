import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  appointmentLine,
  makeTempDir,
  noiseLine,
  startCli,
  waitFor,
  writeAgentConfig,
} from '../helpers/agent-process.js';
import { RecordingTracker } from '../helpers/recording-tracker.js';

function appendEvents(log: string, from: number, to: number): void {
  let text = '';
  for (let n = from; n <= to; n++) text += noiseLine(n) + appointmentLine(n);
  appendFileSync(log, text);
}

function expectEachOnce(tracker: RecordingTracker, count: number): void {
  const counts = tracker.countsByUser();
  const missing: number[] = [];
  const repeated: number[] = [];
  for (let n = 1; n <= count; n++) {
    const seen = counts.get(String(1_000_000 + n)) ?? 0;
    if (seen === 0) missing.push(n);
    if (seen > 1) repeated.push(n);
  }
  expect(missing).toEqual([]);
  expect(repeated).toEqual([]);
  expect(tracker.accepted).toHaveLength(count);
}

describe('agent restart', () => {
  let tracker: RecordingTracker;
  let dir: string;
  let log: string;
  let config: string;
  let agent: AgentProcess | null = null;

  beforeEach(async () => {
    tracker = new RecordingTracker();
    await tracker.start();
    dir = makeTempDir('restart');
    mkdirSync(join(dir, 'logs'));
    log = join(dir, 'logs', 'bot.log');
    writeFileSync(log, '');
    config = writeAgentConfig(dir, {
      trackerUrl: tracker.url,
      logGlob: join(dir, 'logs', '*.log'),
      stateDir: join(dir, 'state'),
    });
  });

  afterEach(async () => {
    agent?.child.kill('SIGKILL');
    await tracker.stop();
  });

  it('resumes after SIGTERM without repeats', async () => {
    agent = startCli(['run', '--config', config]);
    appendEvents(log, 1, 10);
    await waitFor(() => tracker.accepted.length === 10, '10 events');

    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    appendEvents(log, 11, 20);

    agent = startCli(['run', '--config', config]);
    await waitFor(() => tracker.accepted.length >= 20, '20 events');
    appendEvents(log, 21, 25);
    await waitFor(() => tracker.accepted.length >= 25, '25 events');
    await new Promise((resolve) => setTimeout(resolve, 500));

    expectEachOnce(tracker, 25);
  });

  it('resumes after kill -9 without repeats', async () => {
    agent = startCli(['run', '--config', config]);
    appendEvents(log, 1, 10);
    await waitFor(() => tracker.accepted.length === 10, '10 events');
    // Every response has been read by now, so no request is in flight at the kill.
    await new Promise((resolve) => setTimeout(resolve, 300));

    agent.child.kill('SIGKILL');
    await agent.exited;
    appendEvents(log, 11, 20);

    agent = startCli(['run', '--config', config]);
    await waitFor(() => tracker.accepted.length >= 20, '20 events');
    await new Promise((resolve) => setTimeout(resolve, 500));

    expectEachOnce(tracker, 20);
  });
});
