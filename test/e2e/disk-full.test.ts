import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  appointmentLine,
  makeTempDir,
  startCli,
  waitFor,
  writeAgentConfig,
} from '../helpers/agent-process.js';
import { RecordingTracker } from '../helpers/recording-tracker.js';

/** Mounts a small tmpfs, which needs root; returns false where that is not allowed. */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = makeTempDir('mount-probe');
  const mounted = mountTmpfs(probe, '64k');
  if (mounted) execFileSync('umount', [probe]);
  return mounted;
})();

describe.skipIf(!canMount)('state disk full', () => {
  let agent: AgentProcess | null = null;
  let tracker: RecordingTracker | null = null;
  let mountPoint: string | null = null;

  afterEach(async () => {
    agent?.child.kill('SIGKILL');
    await agent?.exited.catch(() => undefined);
    await tracker?.stop();
    if (mountPoint) execFileSync('umount', ['-l', mountPoint]);
  });

  it('pauses on ENOSPC and loses nothing', async () => {
    tracker = new RecordingTracker();
    await tracker.start();
    const port = tracker.port;
    const url = tracker.url;
    // The tracker is down while the disk fills, so every event has to wait in the outbox.
    await tracker.stop();

    const dir = makeTempDir('disk-full');
    mkdirSync(join(dir, 'logs'));
    const log = join(dir, 'logs', 'bot.log');
    writeFileSync(log, '');
    mountPoint = join(dir, 'state');
    mkdirSync(mountPoint);
    expect(mountTmpfs(mountPoint, '2m')).toBe(true);
    const config = writeAgentConfig(dir, {
      trackerUrl: url,
      logGlob: join(dir, 'logs', '*.log'),
      stateDir: mountPoint,
    });
    agent = startCli(['run', '--config', config]);
    await waitFor(() => agent!.output().includes('Agent started'), 'the start');

    // Leave about 16 KiB free: enough to start, far too little for 2,000 outbox records.
    const filler = join(mountPoint, 'filler');
    const { bavail, bsize } = statfsSync(mountPoint);
    writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - 16 * 1024)));
    let text = '';
    for (let n = 1; n <= 2000; n++) text += appointmentLine(n);
    appendFileSync(log, text);
    await waitFor(() => agent!.output().includes('ENOSPC'), 'the ENOSPC report', 15_000);

    rmSync(filler);
    await tracker.start(port);
    await waitFor(() => tracker!.countsByUser().size >= 2000, 'all 2000 events', 30_000).catch(
      (error: unknown) => {
        // The agent's warnings and errors explain most failures here.
        const problems = agent!
          .output()
          .split('\n')
          .filter((line) => !line.includes('"level":30'));
        console.log(problems.slice(0, 40).join('\n'), `accepted: ${tracker!.accepted.length}`);
        throw error;
      }
    );
    await new Promise((resolve) => setTimeout(resolve, 500));

    const counts = tracker.countsByUser();
    const missing = [];
    for (let n = 1; n <= 2000; n++) if (!counts.has(String(1_000_000 + n))) missing.push(n);
    expect(missing).toEqual([]);
    expect(tracker.accepted).toHaveLength(2000);
  }, 90_000);
});
