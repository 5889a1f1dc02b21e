import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, startCli, TEST_TOKEN, writeAgentConfig } from '../helpers/agent-process.js';
import { RecordingTracker } from '../helpers/recording-tracker.js';

describe('check-config --online', () => {
  let tracker: RecordingTracker;
  let config: string;

  beforeEach(async () => {
    tracker = new RecordingTracker();
    await tracker.start();
    const dir = makeTempDir('online');
    mkdirSync(join(dir, 'logs'));
    config = writeAgentConfig(dir, {
      trackerUrl: tracker.url,
      logGlob: join(dir, 'logs', '*.log'),
      stateDir: join(dir, 'state'),
    });
  });

  afterEach(async () => {
    await tracker.stop();
  });

  it('accepts credentials the tracker accepts', async () => {
    const check = startCli(['check-config', '--config', config, '--online']);
    const { code } = await check.exited;

    expect(code).toBe(0);
    expect(check.output()).toContain('accepted the app id and token');
    expect(tracker.requests).toHaveLength(1);
    const probe = JSON.parse(tracker.requests[0]!.body);
    // The probe uses an event name the tracker does not count.
    expect(probe.customEventName).toBe('mfc_agent_credentials_check');
    expect(tracker.requests[0]!.headers.authorization).toBe(TEST_TOKEN);
  });

  it('explains a rejected token', async () => {
    tracker.answer = () => ({ status: 403, body: '{"error": "Forbidden"}' });
    const check = startCli(['check-config', '--config', config, '--online']);
    const { code } = await check.exited;

    expect(code).toBe(1);
    expect(check.output()).toContain('403 Forbidden');
    expect(check.output()).toContain('tracker.token');
  });
});
