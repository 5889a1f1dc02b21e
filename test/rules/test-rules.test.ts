import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerTestRulesCommand } from '../../src/cli/test-rules.js';
import { loadConfig } from '../../src/config/load.js';
import { expectedBody, NOW_MS } from './support.js';

const TOKEN = 'secret-token-7f3a9c';
const TIME = 1773832103;

function writeConfig(botsYaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mfc-test-rules-'));
  const file = path.join(dir, 'agent.yaml');
  fs.writeFileSync(
    file,
    [
      'tracker:',
      '  url: http://127.0.0.1:9/v1/customEvent/',
      '  appId: 1027600',
      `  token: ${TOKEN}`,
      '  region: "88"',
      `state:`,
      `  dir: ${path.join(dir, 'state')}`,
      'bots:',
      botsYaml,
    ].join('\n')
  );
  return file;
}

const BOT = `  - name: "@mfc_bot"
    include: ["/var/log/mfc/*.log"]
    rules:
      - event: appointment_open
        when: { msg: appointment created }
        userId: userId
        time: time
      - name: cancel
        event: appointment_cancel
        when: { msg: appointment cancelled, level: 30 }
        userId: userId
        time: time
`;

const LOG_LINES = [
  `{"level":30,"time":${TIME}816,"msg":"appointment created","userId":1806953}`,
  '{"level":30,"time":1773832104000,"msg":"update received","userId":5793870814}',
  'Error: connect ECONNREFUSED',
  '',
  `{"level":40,"time":${TIME}000,"msg":"appointment cancelled","userId":1806953}`,
  `{"level":30,"time":${TIME}000,"msg":"appointment created","userId":"-5"}`,
  '{"level":30,"time":"later","msg":"appointment cancelled","userId":1806953}',
];

function writeLog(lines: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mfc-test-rules-log-'));
  const file = path.join(dir, 'bot.log');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function runCommand(args: string[], input?: Readable) {
  const output: string[] = [];
  const errors: string[] = [];
  let exitCode: number | undefined;
  const program = new Command().exitOverride();
  registerTestRulesCommand(program, {
    loadConfig,
    output: { write: (text: string) => output.push(text) },
    errorOutput: { write: (text: string) => errors.push(text) },
    input,
    now: () => NOW_MS,
    setExitCode: (code) => {
      exitCode = code;
    },
  });
  await program.parseAsync(['node', 'mfc-events-agent', 'test-rules', ...args]);
  return { output: output.join(''), errors: errors.join(''), exitCode };
}

describe('test-rules command', () => {
  it('explains each line', async () => {
    const config = writeConfig(BOT);
    const { output, exitCode } = await runCommand(['--config', config, writeLog(LOG_LINES)]);
    expect(exitCode).toBe(0);
    expect(output.split('\n')).toEqual([
      `1: rule 'appointment_open#0' -> ${expectedBody('1806953', 'appointment_open', TIME)}`,
      // The cancel rule is nearest: its level condition holds.
      `2: no rule matched; nearest rule 'cancel': msg: expected "appointment cancelled", got "update received"`,
      '3: not JSON',
      '4: empty line',
      `5: no rule matched; nearest rule 'cancel': level: expected 30, got 40`,
      "6: rule 'appointment_open#0' matched, but invalid user id: 'userId' is a negative number",
      "7: rule 'cancel' matched, but invalid time: 'time' is a string that is not an epoch number or ISO 8601; set timeFormat for other formats",
      'summary:',
      '  lines: 7',
      '  events: appointment_open 1',
      '  invalid: 2',
      '  time suspect: 0',
      '  skipped: no_match 2, not_json 1, empty 1',
      '',
    ]);
    expect(output).not.toContain(TOKEN);
  });

  it('prints JSON lines', async () => {
    const config = writeConfig(BOT);
    const { output } = await runCommand([
      '--config',
      config,
      '--json',
      writeLog(LOG_LINES.slice(0, 3)),
    ]);
    const lines = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines[0]).toEqual({
      line: 1,
      result: 'event',
      rule: 'appointment_open#0',
      event: { name: 'appointment_open', userId: '1806953', timestamp: TIME, bot: 'mfc_bot' },
      body: expectedBody('1806953', 'appointment_open', TIME),
    });
    expect(lines[1]).toEqual({
      line: 2,
      result: 'no_match',
      nearestRule: 'cancel',
      failure: 'msg: expected "appointment cancelled", got "update received"',
    });
    expect(lines[2]).toEqual({ line: 3, result: 'not_json' });
    expect(lines[3]).toEqual({
      summary: {
        lines: 3,
        events: { appointment_open: 1 },
        invalid: 0,
        skipped: { no_match: 1, not_json: 1 },
        timeSuspect: 0,
      },
    });
  });

  it('reads standard input', async () => {
    const config = writeConfig(BOT);
    const input = Readable.from([`${LOG_LINES[0]}\r\n`]);
    const { output, exitCode } = await runCommand(['--config', config], input);
    expect(exitCode).toBe(0);
    expect(output.split('\n')[0]).toBe(
      `1: rule 'appointment_open#0' -> ${expectedBody('1806953', 'appointment_open', TIME)}`
    );
  });

  it('fails on unreadable file', async () => {
    const config = writeConfig(BOT);
    const missing = path.join(os.tmpdir(), 'mfc-no-such-dir', 'bot.log');
    const log = writeLog(LOG_LINES.slice(0, 1));
    const { output, errors, exitCode } = await runCommand(['--config', config, missing, log]);
    expect(exitCode).toBe(1);
    expect(errors).toContain(`test-rules: cannot read ${missing}`);
    expect(output).toContain(`${log}:1: rule 'appointment_open#0'`);
  });

  it('asks which bot to use', async () => {
    const second = BOT.replace('"@mfc_bot"', 'other_bot').replace(
      '/var/log/mfc/',
      '/var/log/other/'
    );
    const config = writeConfig(BOT + second);
    const { errors, exitCode } = await runCommand(['--config', config, writeLog(LOG_LINES)]);
    expect(exitCode).toBe(1);
    expect(errors).toContain('choose one with --bot NAME');
    const chosen = await runCommand([
      '--config',
      config,
      '--bot',
      '@other_bot',
      writeLog(LOG_LINES),
    ]);
    expect(chosen.exitCode).toBe(0);
    expect(chosen.output).toContain('"bot_name":"other_bot"');
  });

  it('reports partial docker lines', async () => {
    const docker = BOT.replace('include:', 'format: docker\n    include:');
    const config = writeConfig(docker);
    const first = JSON.stringify({
      log: LOG_LINES[0]!.slice(0, 20),
      stream: 'stdout',
      time: '2026-03-18T11:08:23Z',
    });
    const rest = JSON.stringify({
      log: `${LOG_LINES[0]!.slice(20)}\n`,
      stream: 'stdout',
      time: '2026-03-18T11:08:23Z',
    });
    const { output } = await runCommand(['--config', config, writeLog([first, rest])]);
    expect(output.split('\n').slice(0, 2)).toEqual([
      '1: part of a longer line, joined with the next lines',
      `2: rule 'appointment_open#0' -> ${expectedBody('1806953', 'appointment_open', TIME)}`,
    ]);
  });
});

describe('test-rules with pm2', () => {
  it('counts input lines once', async () => {
    const pm2 = BOT.replace('include:', 'format: pm2\n    include:');
    const config = writeConfig(pm2);
    const message = `${LOG_LINES[0]}\n${LOG_LINES[1]}\n`;
    const record = JSON.stringify({
      message,
      timestamp: '2026-03-18T11:08:24Z',
      type: 'out',
      process_id: 0,
      app_name: 'bot',
    });
    const { output } = await runCommand(['--config', config, writeLog([record])]);
    const lines = output.split('\n');
    expect(lines[0]).toBe(
      `1: rule 'appointment_open#0' -> ${expectedBody('1806953', 'appointment_open', TIME)}`
    );
    expect(lines[1]).toMatch(/^1: no rule matched; nearest rule 'cancel'/);
    expect(lines[3]).toBe('  lines: 1');
  });
});
