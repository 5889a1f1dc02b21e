import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  type AgentProcess,
  appointmentLine,
  makeTempDir,
  startCli,
  waitFor,
  writeAgentConfig,
} from '../helpers/agent-process.js';
import { RecordingTracker } from '../helpers/recording-tracker.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('agent lifecycle', () => {
  let tracker: RecordingTracker;
  let dir: string;
  let log: string;
  let config: string;
  const agents: AgentProcess[] = [];

  beforeEach(async () => {
    tracker = new RecordingTracker();
    await tracker.start();
    dir = makeTempDir('lifecycle');
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
    for (const agent of agents) agent.child.kill('SIGKILL');
    agents.length = 0;
    await tracker.stop();
  });

  function start(): AgentProcess {
    const agent = startCli(['run', '--config', config]);
    agents.push(agent);
    return agent;
  }

  it('reloads rules on SIGHUP', async () => {
    const yaml = parse(readFileSync(config, 'utf8'));
    yaml.bots[0].rules[1].when = { msg: 'appointment canceled' };
    writeFileSync(config, stringify(yaml));
    const agent = start();
    appendFileSync(log, appointmentLine(1, 'created') + appointmentLine(2, 'cancelled'));
    await waitFor(() => tracker.accepted.length === 1, 'the first event');

    // The corrected spelling takes effect for the lines written after the reload.
    yaml.bots[0].rules[1].when = { msg: 'appointment cancelled' };
    writeFileSync(config, stringify(yaml));
    agent.child.kill('SIGHUP');
    await waitFor(() => agent.output().includes('Configuration reloaded'), 'the reload');
    appendFileSync(log, appointmentLine(3, 'created') + appointmentLine(4, 'cancelled'));
    await waitFor(() => tracker.accepted.length >= 3, 'three events');
    await sleep(500);

    expect([...tracker.countsByUser().keys()].sort()).toEqual(['1000001', '1000003', '1000004']);
    expect(tracker.accepted).toHaveLength(3);
  });

  it('keeps running on an invalid reload', async () => {
    const agent = start();
    appendFileSync(log, appointmentLine(1));
    await waitFor(() => tracker.accepted.length === 1, 'the first event');

    writeFileSync(config, 'tracker: [broken\n');
    agent.child.kill('SIGHUP');
    await waitFor(() => agent.output().includes('Reload rejected'), 'the rejection');
    appendFileSync(log, appointmentLine(2));
    await waitFor(() => tracker.accepted.length === 2, 'the second event');

    expect(agent.child.exitCode).toBeNull();
  });

  it('waits for a log directory to appear', async () => {
    const later = join(dir, 'later');
    config = writeAgentConfig(dir, {
      trackerUrl: tracker.url,
      logGlob: join(later, '*.log'),
      stateDir: join(dir, 'state'),
    });
    const agent = start();
    await waitFor(() => agent.output().includes('does not exist yet'), 'the warning');
    await sleep(1000);
    expect(agent.child.exitCode).toBeNull();

    mkdirSync(later);
    appendFileSync(join(later, 'bot.log'), appointmentLine(1));
    await waitFor(() => tracker.accepted.length === 1, 'the event', 30_000);
    expect(agent.output()).toContain(`log directory ${later} does not exist yet`);
  });

  it('refuses a second agent on one state dir', async () => {
    start();
    appendFileSync(log, appointmentLine(1));
    await waitFor(() => tracker.accepted.length === 1, 'the first event');

    const second = startCli(['run', '--config', config]);
    const { code } = await second.exited;

    expect(code).not.toBe(0);
    expect(second.output()).toContain('another mfc-events-agent');
    expect(second.output()).toContain(join(dir, 'state'));
  });

  it('reports state through the status command', async () => {
    const agent = start();
    appendFileSync(log, appointmentLine(1) + appointmentLine(2, 'cancelled'));
    await waitFor(() => tracker.accepted.length === 2, 'two events');
    await sleep(600);

    const status = startCli(['status', '--config', config]);
    await status.exited;

    expect(status.output()).toContain('appointment_open');
    expect(status.output()).toContain('appointment_cancel');
    expect(status.output()).toContain(log);
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
  });
});
