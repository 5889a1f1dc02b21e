import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatDuration, registerStatusCommand } from '../../src/cli/status.js';
import { configSchema } from '../../src/config/schema.js';

const TOKEN = 'secret-token-4f2a9c';
const NOW = Date.now();

let dir: string;
let stateDir: string;
let configPath: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'status-test-'));
  stateDir = join(dir, 'state');
  configPath = join(dir, 'config.yaml');
  await writeFile(
    configPath,
    [
      'tracker:',
      '  appId: 1027600',
      `  token: ${TOKEN}`,
      '  region: "88"',
      'state:',
      `  dir: ${stateDir}`,
      'bots:',
      '  - name: mfc_bot',
      '    include: [/var/log/mfc-bot/*.log]',
      '    rules:',
      '      - event: appointment_open',
      '        when: { msg: booked }',
      '        userId: user_id',
      '',
    ].join('\n')
  );
  await mkdir(stateDir);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function localDate(epochMs: number): string {
  const date = new Date(epochMs);
  return [
    date.getFullYear(),
    String(date.getMonth() + 1).padStart(2, '0'),
    String(date.getDate()).padStart(2, '0'),
  ].join('-');
}

function snapshot(overrides: Record<string, unknown> = {}) {
  return {
    version: 1,
    savedAt: NOW - 3000,
    pid: process.pid,
    startedAt: NOW - 2 * 3_600_000,
    delivery: {
      state: 'delivering',
      reason: null,
      message: null,
      lastSuccessAt: NOW - 1000,
      lastError: null,
      consecutiveFailures: 0,
    },
    outbox: { events: 3, bytes: 1200, oldestFoundAt: NOW - 10_000, full: false },
    files: [
      {
        bot: 'mfc_bot',
        key: 'f-abc-1',
        path: '/var/log/mfc-bot/bot.log',
        offset: 1000,
        size: 1200,
        state: 'following',
      },
    ],
    deadLetters: 2,
    today: { date: localDate(NOW), acknowledged: { appointment_open: 12, appointment_cancel: 3 } },
    lastError: { at: NOW - 16 * 60_000, message: 'tracker answered 500' },
    ...overrides,
  };
}

async function writeSnapshot(value: unknown) {
  await writeFile(join(stateDir, 'status.json'), JSON.stringify(value));
}

async function runStatus(...extra: string[]) {
  let output = '';
  let exitCode: number | null = null;
  const program = new Command().exitOverride();
  registerStatusCommand(program, {
    loadConfig: async (path) => ({
      config: configSchema.parse(parse(await readFile(path, 'utf8'))),
    }),
    output: { write: (text: string) => (output += text) },
    now: () => NOW,
    setExitCode: (code) => {
      exitCode = code;
    },
  });
  await program.parseAsync([
    'node',
    'mfc-events-agent',
    'status',
    '--config',
    configPath,
    ...extra,
  ]);
  return { output, exitCode };
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('status command', () => {
  it('running agent exits 0', async () => {
    await writeSnapshot(snapshot());
    const { output, exitCode } = await runStatus();
    expect(exitCode).toBe(0);
    expect(output).toContain(`running, pid ${process.pid}, up 2 h 0 min`);
    expect(output).toContain('saved 3 s ago');
    expect(output).toContain('delivering, last acknowledgement 1 s ago');
    expect(output).toContain('16 min 0 s ago: tracker answered 500');
    expect(output).toContain('3 events (1.2 KiB), oldest found 10 s ago');
    expect(output).toContain('2 (see: mfc-events-agent dead-letters list)');
    expect(output).toContain(`${localDate(NOW)}: appointment_open 12, appointment_cancel 3`);
  });

  it('lists files with lag', async () => {
    await writeSnapshot(snapshot());
    const { output } = await runStatus();
    const row = output.split('\n').find((line) => line.includes('f-abc-1'));
    expect(row?.trim().split(/\s+/)).toEqual([
      'mfc_bot',
      'f-abc-1',
      'following',
      '1000',
      '1200',
      '200',
      '/var/log/mfc-bot/bot.log',
    ]);
  });

  it('paused delivery exits 1', async () => {
    const delivery = {
      state: 'paused',
      reason: 'token_rejected',
      message: 'tracker answered 403 Forbidden',
      lastSuccessAt: null,
      lastError: '403',
      consecutiveFailures: 1,
    };
    await writeSnapshot(snapshot({ delivery }));
    const { output, exitCode } = await runStatus();
    expect(exitCode).toBe(1);
    expect(output).toContain('PAUSED (token_rejected): tracker answered 403 Forbidden');
    expect(output).toContain('no acknowledgement yet');
  });

  it('retrying delivery exits 0', async () => {
    const delivery = {
      state: 'retrying',
      reason: 'tracker_unreachable',
      message: null,
      lastSuccessAt: NOW - 60_000,
      lastError: 'ECONNREFUSED',
      consecutiveFailures: 3,
    };
    await writeSnapshot(snapshot({ delivery }));
    const { output, exitCode } = await runStatus();
    expect(exitCode).toBe(0);
    expect(output).toContain('retrying after 3 consecutive failures (ECONNREFUSED)');
  });

  it('dead pid means not running', async () => {
    const pid = await deadPid();
    await writeSnapshot(snapshot({ pid }));
    const { output, exitCode } = await runStatus();
    expect(exitCode).toBe(1);
    expect(output).toContain(`NOT RUNNING: process ${pid} is not alive`);
  });

  it('stale snapshot means not running', async () => {
    await writeSnapshot(snapshot({ savedAt: NOW - 31_000 }));
    const { output, exitCode } = await runStatus();
    expect(exitCode).toBe(1);
    expect(output).toContain('NOT RUNNING: the snapshot was last saved 31 s ago');
  });

  it('missing snapshot says never ran', async () => {
    const { output, exitCode } = await runStatus();
    expect(exitCode).toBe(1);
    expect(output).toContain(`The agent has not run with state dir ${stateDir} yet`);
  });

  it('full outbox is flagged', async () => {
    await writeSnapshot(
      snapshot({ outbox: { events: 9, bytes: 5 * 1024 * 1024, oldestFoundAt: null, full: true } })
    );
    const { output } = await runStatus();
    expect(output).toContain('9 events (5.0 MiB) FULL: reading is paused');
  });

  it('counts from an earlier day', async () => {
    const today = { date: '2000-01-01', acknowledged: { appointment_open: 4 } };
    await writeSnapshot(snapshot({ today }));
    const { output } = await runStatus();
    expect(output).toContain(
      `${localDate(NOW)}: none acknowledged yet (on 2000-01-01: appointment_open 4, appointment_cancel 0)`
    );
  });

  it('never prints the token', async () => {
    await writeSnapshot(
      snapshot({ lastError: { at: NOW, message: `rejected Authorization ${TOKEN}` } })
    );
    for (const flags of [[], ['--json']]) {
      const { output } = await runStatus(...flags);
      expect(output).not.toContain(TOKEN);
      expect(output).toContain('rejected Authorization [REDACTED]');
    }
  });

  it('json output parses', async () => {
    const written = snapshot();
    await writeSnapshot(written);
    const { output, exitCode } = await runStatus('--json');
    const report = JSON.parse(output);
    expect(exitCode).toBe(0);
    expect(report.running).toBe(true);
    expect(report.pidAlive).toBe(true);
    expect(report.snapshotAgeMs).toBe(3000);
    expect(report.reason).toBeNull();
    expect(report.snapshot).toEqual(written);
  });

  it('invalid JSON names the file', async () => {
    await writeFile(join(stateDir, 'status.json'), '{"version": 1,');
    await expect(runStatus()).rejects.toThrow(`${join(stateDir, 'status.json')} is not valid JSON`);
  });

  it('unknown version is rejected', async () => {
    await writeSnapshot(snapshot({ version: 2 }));
    await expect(runStatus()).rejects.toThrow('(version: ');
  });

  it('changes nothing in state dir', async () => {
    await writeSnapshot(snapshot());
    const path = join(stateDir, 'status.json');
    const before = await stat(path);
    await runStatus();
    await runStatus('--json');
    expect(await readdir(stateDir)).toEqual(['status.json']);
    expect((await stat(path)).mtimeMs).toBe(before.mtimeMs);
  });
});

describe('status options', () => {
  it('config defaults to /etc', async () => {
    const requested: string[] = [];
    const program = new Command().exitOverride();
    registerStatusCommand(program, {
      loadConfig: async (path) => {
        requested.push(path);
        throw new Error('stop after recording the path');
      },
    });
    await expect(program.parseAsync(['node', 'mfc-events-agent', 'status'])).rejects.toThrow(
      'stop after recording the path'
    );
    expect(requested).toEqual(['/etc/mfc-events-agent/config.yaml']);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [-5000, '0 s'],
    [59_999, '59 s'],
    [61_000, '1 min 1 s'],
    [3_600_000 + 5 * 60_000, '1 h 5 min'],
    [50 * 3_600_000, '2 d 2 h'],
  ])('formats %d ms', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });
});
