import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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

function outboxEvents(stateDir: string): number {
  const path = join(stateDir, 'status.json');
  if (!existsSync(path)) return 0;
  try {
    return JSON.parse(readFileSync(path, 'utf8')).outbox.events as number;
  } catch {
    return 0;
  }
}

describe('tracker outage', () => {
  let agent: AgentProcess | null = null;
  let tracker: RecordingTracker | null = null;

  afterEach(async () => {
    agent?.child.kill('SIGKILL');
    await tracker?.stop();
  });

  it('delivers events of logs deleted during the outage', async () => {
    // Phase 1: the tracker is down (its port refuses connections).
    tracker = new RecordingTracker();
    await tracker.start();
    const port = tracker.port;
    const url = tracker.url;
    await tracker.stop();

    const dir = makeTempDir('outage');
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    const stateDir = join(dir, 'state');
    const log = join(logs, 'bot.log');
    writeFileSync(log, '');
    const config = writeAgentConfig(dir, {
      trackerUrl: url,
      logGlob: join(logs, '*.log'),
      stateDir,
    });
    agent = startCli(['run', '--config', config]);

    let text = '';
    for (let n = 1; n <= 20; n++) text += noiseLine(n) + appointmentLine(n);
    appendFileSync(log, text);
    await waitFor(() => outboxEvents(stateDir) === 20, '20 events in the outbox');

    // Phase 2: the log is rotated away and the rotated file deleted; a new log gets more events.
    renameSync(log, join(logs, 'bot.log.1'));
    writeFileSync(log, '');
    text = '';
    for (let n = 21; n <= 30; n++) text += noiseLine(n) + appointmentLine(n);
    appendFileSync(log, text);
    await waitFor(() => outboxEvents(stateDir) === 30, '30 events in the outbox');
    rmSync(join(logs, 'bot.log.1'));
    rmSync(log);

    // Phase 3: the tracker comes back on the same address.
    await tracker.start(port);
    await waitFor(() => tracker!.accepted.length >= 30, '30 events delivered', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const counts = tracker.countsByUser();
    for (let n = 1; n <= 30; n++) expect(counts.get(String(1_000_000 + n)), `event ${n}`).toBe(1);
    expect(tracker.accepted).toHaveLength(30);
  });
});
