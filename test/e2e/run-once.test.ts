import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  appointmentLine,
  makeTempDir,
  noiseLine,
  startCli,
  TEST_TOKEN,
  writeAgentConfig,
} from '../helpers/agent-process.js';
import { RecordingTracker } from '../helpers/recording-tracker.js';

describe('run --once', () => {
  let tracker: RecordingTracker;
  let dir: string;

  beforeEach(async () => {
    tracker = new RecordingTracker();
    await tracker.start();
    dir = makeTempDir('once');
    mkdirSync(join(dir, 'logs'));
  });

  afterEach(async () => {
    await tracker.stop();
  });

  it('sends byte-exact request bodies', async () => {
    const log = join(dir, 'logs', 'bot.log');
    writeFileSync(log, noiseLine(1));
    appendFileSync(log, appointmentLine(1, 'created', '1806953'));
    // A user's text that mentions the words is not an appointment line.
    appendFileSync(
      log,
      '{"level":30,"time":1796000000500,"msg":"update received","userId":42,"text":"appointment cancelled? как отменить"}\n'
    );
    appendFileSync(log, appointmentLine(2, 'cancelled', '9007199254740993'));
    appendFileSync(log, noiseLine(2));
    const config = writeAgentConfig(dir, {
      trackerUrl: tracker.url,
      logGlob: join(dir, 'logs', '*.log'),
      stateDir: join(dir, 'state'),
    });

    const agent = startCli(['run', '--config', config, '--once']);
    const { code } = await agent.exited;

    expect(agent.output()).not.toContain(TEST_TOKEN);
    expect(code).toBe(0);
    expect(tracker.accepted.map((request) => request.body)).toEqual([
      '{"customUserId":"1806953","customEventName":"appointment_open","customEventParams":{"bot_name":"mfc_bot","region":"88"},"eventTimestamp":1796000001}',
      '{"customUserId":"9007199254740993","customEventName":"appointment_cancel","customEventParams":{"bot_name":"mfc_bot","region":"88"},"eventTimestamp":1796000002}',
    ]);
    const first = tracker.accepted[0]!;
    expect(first.method).toBe('POST');
    expect(first.url).toBe('/v1/customEvent/?idApp=1027600');
    expect(first.headers.authorization).toBe(TEST_TOKEN);
    expect(first.headers['content-type']).toBe('application/json');
  });

  it('sends nothing twice on a second run', async () => {
    const log = join(dir, 'logs', 'bot.log');
    writeFileSync(log, appointmentLine(1) + appointmentLine(2));
    const config = writeAgentConfig(dir, {
      trackerUrl: tracker.url,
      logGlob: join(dir, 'logs', '*.log'),
      stateDir: join(dir, 'state'),
    });

    expect((await startCli(['run', '--config', config, '--once']).exited).code).toBe(0);
    appendFileSync(log, appointmentLine(3));
    expect((await startCli(['run', '--config', config, '--once']).exited).code).toBe(0);

    expect([...tracker.countsByUser().entries()].sort()).toEqual([
      ['1000001', 1],
      ['1000002', 1],
      ['1000003', 1],
    ]);
  });

  it('exits non-zero when the token is rejected', async () => {
    tracker.answer = () => ({ status: 403, body: '{"error": "Forbidden"}' });
    writeFileSync(join(dir, 'logs', 'bot.log'), appointmentLine(1));
    const config = writeAgentConfig(dir, {
      trackerUrl: tracker.url,
      logGlob: join(dir, 'logs', '*.log'),
      stateDir: join(dir, 'state'),
    });

    const agent = startCli(['run', '--config', config, '--once']);
    const { code } = await agent.exited;

    expect(code).toBe(1);
    expect(agent.output()).toContain('some events were not delivered');
    expect(agent.output()).toContain('token');
    expect(agent.output()).not.toContain(TEST_TOKEN);

    // The event was kept: once the tracker accepts, the next run delivers it.
    tracker.answer = () => ({ status: 200, body: '{"message":"OK"}' });
    expect((await startCli(['run', '--config', config, '--once']).exited).code).toBe(0);
    expect(tracker.accepted).toHaveLength(1);
  });

  it('rejects an invalid config with exit 2', async () => {
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'tracker:\n  appId: 1\n  token: x\n  region: "88"\nbots: []\nbogus: 1\n');

    const agent = startCli(['run', '--config', config, '--once']);
    const { code } = await agent.exited;

    expect(code).toBe(2);
    expect(agent.output()).toContain('bad.yaml');
    expect(agent.output()).toContain('bogus');
  });
});
