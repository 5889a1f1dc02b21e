// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the configuration syntax under test, not a template.
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registerCheckConfigCommand } from '../../src/cli/check-config.js';
import type { LoadedConfig } from '../../src/config/load.js';
import { makeConfigDir, replaceLine, SECRET_TOKEN, validLines, writeLines } from './helpers.js';

interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

type OnlineCheck = (loaded: LoadedConfig) => Promise<number>;

/** Runs `check-config` through a real commander program and captures what it writes. */
async function runCheckConfig(
  args: string[],
  onlineCheck?: OnlineCheck,
  keepMode = false
): Promise<RunResult> {
  // A configuration with an inline token is expected to be private; 0640 keeps stderr quiet.
  const configPath = args[args.indexOf('--config') + 1];
  if (!keepMode && configPath !== undefined && existsSync(configPath)) chmodSync(configPath, 0o640);
  let stdout = '';
  let stderr = '';
  const program = new Command('mfc-events-agent').exitOverride().configureOutput({
    writeOut: (text) => {
      stdout += text;
    },
    writeErr: (text) => {
      stderr += text;
    },
  });
  registerCheckConfigCommand(program, { onlineCheck, env: { MFC_TOKEN: SECRET_TOKEN } });
  try {
    await program.parseAsync(['check-config', ...args], { from: 'user' });
    return { stdout, stderr, exitCode: 0 };
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { stdout, stderr, exitCode: error.exitCode };
  }
}

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await makeConfigDir());
  // The valid configuration reads logs/*.log; a readable file there keeps stderr free of warnings.
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'logs', 'bot.log'), '');
});
afterEach(async () => {
  await cleanup();
});

describe('check-config command', () => {
  it('prints effective config', async () => {
    const lines = replaceLine(validLines(), 4, '  token: ${MFC_TOKEN}');
    const file = await writeLines(dir, 'config.yaml', lines);
    const result = await runCheckConfig(['--config', file]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe('');
    expect(parse(result.stdout).bots[0].name).toBe('mfc_bot');
    expect(result.stdout).not.toContain(SECRET_TOKEN);
  });

  it('warns about a world-readable inline token', async () => {
    const lines = replaceLine(validLines(), 4, '  token: ${MFC_TOKEN}');
    const file = await writeLines(dir, 'config.yaml', lines);
    chmodSync(file, 0o644);
    const result = await runCheckConfig(['--config', file], undefined, true);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe(
      `warning: ${file} holds the token inline and is readable by other users; move the token to tracker.tokenFile (mode 640), or chmod 640 ${file}\n`
    );
    expect(result.stderr).not.toContain(SECRET_TOKEN);
  });

  it('warns about a missing log directory', async () => {
    rmSync(join(dir, 'logs'), { recursive: true });
    const lines = replaceLine(validLines(), 4, '  token: ${MFC_TOKEN}');
    const file = await writeLines(dir, 'config.yaml', lines);
    const result = await runCheckConfig(['--config', file]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe(
      `warning: bot mfc_bot: log directory ${join(dir, 'logs')} does not exist yet; files matching ${join(dir, 'logs', '*.log')} are picked up when it appears (check bots[].include if that is a typo)\n`
    );
  });

  it('exits 2 on invalid file', async () => {
    const lines = replaceLine(validLines(), 12, '      - event: appointment_opn');
    const file = await writeLines(dir, 'config.yaml', lines);
    const result = await runCheckConfig(['-c', file]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `${file}:12:16: bots[0].rules[0].event: unknown event type 'appointment_opn'; ` +
        'allowed: appointment_open, appointment_cancel (add new types to tracker.events)\n'
    );
  });

  it('exits 2 on missing file', async () => {
    const file = `${dir}/nowhere.yaml`;
    const result = await runCheckConfig(['--config', file]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      `config file not found: ${file} (create it from config.example.yaml)\n`
    );
  });

  it('requires config option', async () => {
    const result = await runCheckConfig([]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("required option '-c, --config <file>' not specified");
  });

  it('runs online check', async () => {
    const file = await writeLines(dir, 'config.yaml', validLines());
    const seen: LoadedConfig[] = [];
    const result = await runCheckConfig(['--config', file, '--online'], async (loaded) => {
      seen.push(loaded);
      return 0;
    });
    expect(result.exitCode).toBe(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.token).toBe(SECRET_TOKEN);
    expect(result.stdout).not.toContain(SECRET_TOKEN);
  });

  it('passes online failure status', async () => {
    const file = await writeLines(dir, 'config.yaml', validLines());
    const result = await runCheckConfig(['--config', file, '--online'], async () => 1);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe('check-config: online check failed (exit status 1)\n');
  });

  it('skips online check unless asked', async () => {
    const file = await writeLines(dir, 'config.yaml', validLines());
    let calls = 0;
    const result = await runCheckConfig(['--config', file], async () => {
      calls++;
      return 0;
    });
    expect(result.exitCode).toBe(0);
    expect(calls).toBe(0);
  });

  it('rejects online without check', async () => {
    const file = await writeLines(dir, 'config.yaml', validLines());
    const result = await runCheckConfig(['--config', file, '--online']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('check-config: --online is not available in this build\n');
  });

  it('skips online check when invalid', async () => {
    const file = await writeLines(dir, 'config.yaml', replaceLine(validLines(), 3, '  appId: x'));
    let calls = 0;
    const result = await runCheckConfig(['--config', file, '--online'], async () => {
      calls++;
      return 0;
    });
    expect(result.exitCode).toBe(2);
    expect(calls).toBe(0);
  });
});
