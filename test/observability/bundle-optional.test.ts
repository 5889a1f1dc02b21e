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

/** Writes a one-bot configuration that reads `logs/*.log` and delivers to the test tracker. */
function writeConfig(name: string, logs: string, extra: Record<string, unknown>): string {
  const path = join(dir, name);
  const rule = {
    event: 'appointment_open',
    when: { msg: 'appointment created' },
    userId: 'userId',
  };
  const config = {
    tracker: { url: tracker.url, appId: 1027600, token: 'bundle-token-3c9a', region: '88' },
    state: { dir: join(dir, `${name}.state`) },
    ...extra,
    bots: [
      { name: 'mfc_bot', include: [join(logs, '*.log')], startAt: 'beginning', rules: [rule] },
    ],
  };
  writeFileSync(path, stringify(config));
  return path;
}

/** Starts the bundle from the empty directory; `output()` returns its stdout and stderr so far. */
function startBundle(args: string[], nodeFlags: string[] = []) {
  const child = spawn(process.execPath, [...nodeFlags, bundle, ...args], {
    cwd: join(dir, 'alone'),
    env: { ...process.env, NODE_PATH: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, exited, output: () => output };
}

describe('bundle optional packages', () => {
  it('serves metrics and pretty logs alone', async () => {
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    writeFileSync(join(logs, 'bot.log'), appointmentLine(1) + noiseLine(2));
    const port = await freePort();
    const config = writeConfig('metrics.yaml', logs, {
      metrics: { enabled: true, listen: `127.0.0.1:${port}` },
      log: { level: 'info', format: 'pretty' },
    });
    const started = startBundle(['run', '--config', config]);
    agent = started.child;

    await waitFor(
      () => tracker.accepted.length === 1 || started.child.exitCode !== null,
      'the event at the tracker'
    );
    expect(started.child.exitCode, started.output()).toBeNull();
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).toContain('mfc_agent_lines_read_total{bot="mfc_bot"} 2');
    expect(text).toContain('mfc_agent_events_queued_total{event="appointment_open"} 1');
    expect(started.output()).toMatch(/INFO.*Starting mfc-events-agent\./);
    expect(started.output()).not.toContain('"msg":');
  });
});

/** Preload that prints the young generation's size in bytes when the process exits. */
const PRINT_NEW_SPACE = [
  "import { getHeapSpaceStatistics } from 'node:v8';",
  "process.on('exit', () => {",
  "  const space = getHeapSpaceStatistics().find((entry) => entry.space_name === 'new_space');",
  "  process.stdout.write('new_space=' + space.space_size + '\\n');",
  '});',
].join('\n');

describe('bundle heap flags', () => {
  /** Catches up on a 30 MB log with `run --once` and returns the young generation's size. */
  async function newSpaceBytes(nodeFlags: string[]): Promise<number> {
    const logs = join(dir, 'heap-logs');
    mkdirSync(logs, { recursive: true });
    const lines: string[] = [];
    for (let n = 0; n < 200_000; n++) lines.push(noiseLine(n));
    lines.push(appointmentLine(1));
    writeFileSync(join(logs, 'bot.log'), lines.join(''));
    const config = writeConfig(`heap-${Date.now()}.yaml`, logs, { log: { level: 'warn' } });
    const preload = join(dir, 'print-new-space.mjs');
    writeFileSync(preload, PRINT_NEW_SPACE);

    const run = startBundle(
      ['run', '--config', config, '--once'],
      [`--import=${preload}`, ...nodeFlags]
    );
    expect(await run.exited, run.output()).toBe(0);
    const match = /new_space=(\d+)/.exec(run.output());
    if (match === null) throw new Error(`no new_space line in:\n${run.output()}`);
    return Number(match[1]);
  }

  it('keeps the young generation small', async () => {
    expect(await newSpaceBytes([])).toBeLessThanOrEqual(2 * 1024 * 1024);
  });

  it('lets node flags override', async () => {
    const bytes = await newSpaceBytes(['--semi-space-growth-factor=2', '--no-optimize-for-size']);

    expect(bytes).toBeGreaterThan(2 * 1024 * 1024);
  });
});
