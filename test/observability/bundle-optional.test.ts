import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { appointmentLine, noiseLine, waitFor } from '../helpers/agent-process.js';
import { RecordingTracker } from '../helpers/recording-tracker.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let dir: string;
let bundle: string;
let tracker: RecordingTracker;
let agent: ChildProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bundle-optional-'));
  const built = join(dir, 'build', 'agent.cjs');
  const result = spawnSync(
    process.execPath,
    [join(ROOT, 'packaging', 'bundle.mjs'), '--outfile', built],
    { encoding: 'utf8' }
  );
  if (result.status !== 0) throw new Error(`bundling failed:\n${result.stderr}`);
  // Alone in a directory outside the repository, so the packages can come only from the bundle.
  mkdirSync(join(dir, 'alone'));
  bundle = join(dir, 'alone', 'agent.cjs');
  copyFileSync(built, bundle);
  tracker = new RecordingTracker();
  await tracker.start();
});

afterAll(async () => {
  agent?.kill('SIGKILL');
  await tracker.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('bundle optional packages', () => {
  it('serves metrics and pretty logs alone', async () => {
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'bot.log'), appointmentLine(1) + noiseLine(2));
    const port = await freePort();
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      stringify({
        tracker: { url: tracker.url, appId: 1027600, token: 'bundle-token-3c9a', region: '88' },
        state: { dir: join(dir, 'state') },
        metrics: { enabled: true, listen: `127.0.0.1:${port}` },
        log: { level: 'info', format: 'pretty' },
        bots: [
          {
            name: 'mfc_bot',
            include: [join(dir, 'logs', '*.log')],
            startAt: 'beginning',
            rules: [
              { event: 'appointment_open', when: { msg: 'appointment created' }, userId: 'userId' },
            ],
          },
        ],
      })
    );
    let output = '';
    agent = spawn(process.execPath, [bundle, 'run', '--config', config], {
      cwd: join(dir, 'alone'),
      env: { ...process.env, NODE_PATH: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    agent.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    agent.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const running = agent;
    await waitFor(
      () => tracker.accepted.length === 1 || running.exitCode !== null,
      'the event at the tracker'
    );
    expect(running.exitCode, output).toBeNull();

    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).toContain('mfc_agent_lines_read_total{bot="mfc_bot"} 2');
    expect(text).toContain('mfc_agent_events_queued_total{event="appointment_open"} 1');
    expect(output).toMatch(/INFO.*Starting mfc-events-agent\./);
    expect(output).not.toContain('"msg":');
  });
});
