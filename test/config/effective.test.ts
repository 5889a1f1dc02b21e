import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderEffectiveConfig } from '../../src/config/effective.js';
import { loadConfig } from '../../src/config/load.js';
import { makeConfigDir, replaceLine, SECRET_TOKEN, validLines, writeLines } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await makeConfigDir());
});
afterEach(async () => {
  await cleanup();
});

describe('renderEffectiveConfig', () => {
  it('masks inline token', async () => {
    const file = await writeLines(dir, 'config.yaml', validLines());
    const output = renderEffectiveConfig(await loadConfig(file, {}));
    expect(output).not.toContain(SECRET_TOKEN);
    expect(output).not.toContain(SECRET_TOKEN.slice(-4));
    expect(output).toContain("  token: '****'\n");
  });

  it('fills in defaults', async () => {
    const file = await writeLines(dir, 'config.yaml', validLines());
    const effective = parse(renderEffectiveConfig(await loadConfig(file, {})));
    expect(effective.tracker.events).toEqual(['appointment_open', 'appointment_cancel']);
    expect(effective.tracker.timeoutMs).toBe(10_000);
    expect(effective.tracker.region).toBe('88');
    expect(effective.delivery.maxRetries).toBe(0);
    expect(effective.outbox.maxBytes).toBe(256 * 1024 * 1024);
    expect(effective.bots[0].timezone).toBe('UTC');
    expect(effective.bots[0].rules[0].timeFallback).toBe('reject');
    expect(effective.state.dir).toBe(join(dir, 'state'));
  });

  it('shows tokenFile as path', async () => {
    const tokenText = 'file-secret-31415';
    await writeFile(join(dir, 'token.txt'), `${tokenText}\n`);
    const lines = replaceLine(validLines(), 4, '  tokenFile: token.txt');
    const file = await writeLines(dir, 'config.yaml', lines);
    const output = renderEffectiveConfig(await loadConfig(file, {}));
    expect(output).not.toContain(tokenText);
    expect(output).toContain(`  tokenFile: ${join(dir, 'token.txt')}\n`);
    expect(output).not.toContain('token: ');
  });

  it('masks token pasted elsewhere', async () => {
    const lines = replaceLine(validLines(), 9, `  - name: ${SECRET_TOKEN}`);
    const file = await writeLines(dir, 'config.yaml', lines);
    const output = renderEffectiveConfig(await loadConfig(file, {}));
    expect(output).not.toContain(SECRET_TOKEN);
  });

  it('names the source file', async () => {
    const file = await writeLines(dir, 'config.yaml', validLines());
    const output = renderEffectiveConfig(await loadConfig(file, {}));
    expect(output.split('\n')[0]).toBe(`# Effective configuration of ${file}`);
  });
});
