import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const APP_ID = '1027600';
const TOKEN = 'bundle-test-token-7d1e';

let dir: string;
let alone: string;
let bundle: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bundle-test-'));
  const built = join(dir, 'build', 'mfc-events-agent.cjs');
  const result = spawnSync(
    process.execPath,
    [join(ROOT, 'packaging', 'bundle.mjs'), '--outfile', built],
    {
      encoding: 'utf8',
    }
  );
  if (result.status !== 0) throw new Error(`bundling failed:\n${result.stderr}`);
  // The bundle alone in an empty directory outside the repository, so no node_modules resolves.
  alone = join(dir, 'alone');
  mkdirSync(alone);
  bundle = join(alone, 'mfc-events-agent.cjs');
  copyFileSync(built, bundle);
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function runBundle(args: string[]) {
  return spawnSync(process.execPath, [bundle, ...args], {
    cwd: alone,
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: '' },
    timeout: 60_000,
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts the bundled mock tracker and resolves once it accepts connections. */
async function startMockTracker(recordPath: string): Promise<string> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      bundle,
      'mock-tracker',
      '--port',
      String(port),
      '--app-id',
      APP_ID,
      '--token',
      TOKEN,
      '--record',
      recordPath,
    ],
    { cwd: alone, stdio: ['ignore', 'pipe', 'pipe'] }
  );
  children.push(child);
  const url = `http://127.0.0.1:${port}/v1/customEvent/`;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mock-tracker exited with ${child.exitCode}`);
    const reachable = await fetch(url, { method: 'GET' }).then(
      () => true,
      () => false
    );
    if (reachable) return url;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('mock-tracker did not listen within 15 s');
}

function readRecorded(recordPath: string): { body: Record<string, unknown> }[] {
  if (!existsSync(recordPath)) return [];
  return readFileSync(recordPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

function logLine(n: number, message: string, userId: number): string {
  return `{"level":30,"time":${1_796_000_000_000 + n * 1000},"msg":"${message}","userId":${userId}}\n`;
}

describe('single-file bundle', () => {
  it('requires only Node built-ins', () => {
    const text = readFileSync(bundle, 'utf8');
    const required = [...text.matchAll(/\brequire\("([^"]+)"\)/g)].map((match) => match[1]!);
    const builtins = new Set(builtinModules);
    // A `node:` id is always a built-in, even one newer than this Node (undici's lazy node:sqlite).
    const foreign = required.filter((name) => !name.startsWith('node:') && !builtins.has(name));
    expect(foreign).toEqual([]);
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('prints help alone', () => {
    const result = runBundle(['--help']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    for (const command of ['run', 'status', 'mock-tracker', 'check-config', 'test-rules']) {
      expect(result.stdout).toContain(command);
    }
  });

  it('prints its version', () => {
    const result = runBundle(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('serves mock-tracker alone', async () => {
    const recordPath = join(dir, 'mock-only.jsonl');
    const url = await startMockTracker(recordPath);
    const body = JSON.stringify({
      customUserId: '1806953',
      customEventName: 'appointment_open',
      customEventParams: { bot_name: 'mfc_bot', region: '88' },
      eventTimestamp: 1_796_000_001,
    });
    const headers = { 'Content-Type': 'application/json' };

    const accepted = await fetch(`${url}?idApp=${APP_ID}`, {
      method: 'POST',
      headers: { ...headers, Authorization: TOKEN },
      body,
    });
    const rejected = await fetch(`${url}?idApp=${APP_ID}`, {
      method: 'POST',
      headers: { ...headers, Authorization: 'wrong-token' },
      body,
    });

    expect(accepted.status).toBe(200);
    expect(rejected.status).toBe(403);
    expect(readRecorded(recordPath).map((line) => line.body.customUserId)).toEqual(['1806953']);
  });

  it('run reports config problems', () => {
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'tracker:\n  url: 5\n');
    const result = runBundle(['run', '--config', config]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      `${config}:2:8: tracker.url: invalid value 5; expected a string`
    );
  });

  it('run --once delivers alone', async () => {
    const recordPath = join(dir, 'run-once.jsonl');
    const url = await startMockTracker(recordPath);
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    writeFileSync(
      join(logs, 'bot.log'),
      logLine(1, 'appointment created', 1806953) +
        logLine(2, 'message sent', 42) +
        logLine(3, 'appointment cancelled', 1806953)
    );
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      [
        'tracker:',
        `  url: ${url}`,
        `  appId: ${APP_ID}`,
        `  token: ${TOKEN}`,
        '  region: "88"',
        'state:',
        `  dir: ${join(dir, 'state')}`,
        'log:',
        '  format: json',
        'bots:',
        '  - name: mfc_bot',
        `    include: ["${join(logs, '*.log')}"]`,
        '    startAt: beginning',
        '    rules:',
        '      - event: appointment_open',
        '        when: { msg: appointment created }',
        '        userId: userId',
        '        time: time',
        '      - event: appointment_cancel',
        '        when: { msg: appointment cancelled }',
        '        userId: userId',
        '        time: time',
        '',
      ].join('\n')
    );

    const first = runBundle(['run', '--config', config, '--once']);
    expect(first.stdout + first.stderr).not.toContain(TOKEN);
    expect(first.status).toBe(0);
    const second = runBundle(['run', '--config', config, '--once']);
    expect(second.status).toBe(0);

    expect(readRecorded(recordPath).map((line) => line.body)).toEqual([
      {
        customUserId: '1806953',
        customEventName: 'appointment_open',
        customEventParams: { bot_name: 'mfc_bot', region: '88' },
        eventTimestamp: 1_796_000_001,
      },
      {
        customUserId: '1806953',
        customEventName: 'appointment_cancel',
        customEventParams: { bot_name: 'mfc_bot', region: '88' },
        eventTimestamp: 1_796_000_003,
      },
    ]);
  });
});
