import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import {
  expectConfigError,
  makeConfigDir,
  replaceLine,
  validLines,
  writeLines,
} from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await makeConfigDir());
});
afterEach(async () => {
  await cleanup();
});

/** The valid lines with the token line replaced by `tokenFile: <value>`. */
function withTokenFile(value: string): string[] {
  return replaceLine(validLines(), 4, `  tokenFile: ${value}`);
}

describe('relative paths', () => {
  it('resolve against config directory', async () => {
    const configDir = join(dir, 'etc');
    await mkdir(configDir);
    await writeFile(join(configDir, 'token.txt'), 'file-token\n');
    let lines = withTokenFile('token.txt');
    lines = replaceLine(lines, 5, '  region: "88"', '  caFile: ../certs/ca.pem');
    lines = replaceLine(
      lines,
      11,
      '    include: ["logs/*.log", "/var/log/bot/*.log", "./other/**/*.json"]',
      '    exclude: ["*.gz", "logs/old/*.log", "/var/log/bot/x.log"]'
    );
    const file = await writeLines(configDir, 'config.yaml', lines);
    // A working directory elsewhere must not change the result.
    const loaded = await loadConfig(file, {});
    expect(loaded.config.tracker.tokenFile).toBe(join(configDir, 'token.txt'));
    expect(loaded.config.tracker.caFile).toBe(join(dir, 'certs', 'ca.pem'));
    expect(loaded.config.state.dir).toBe(join(configDir, 'state'));
    const [bot] = loaded.config.bots;
    expect(bot?.include).toEqual([
      join(configDir, 'logs/*.log'),
      '/var/log/bot/*.log',
      join(configDir, 'other/**/*.json'),
    ]);
    expect(bot?.exclude).toEqual(['*.gz', join(configDir, 'logs/old/*.log'), '/var/log/bot/x.log']);
  });

  it('escape glob characters in directory', async () => {
    const configDir = join(dir, 'conf[1]');
    await mkdir(configDir);
    const file = await writeLines(configDir, 'config.yaml', validLines());
    const loaded = await loadConfig(file, {});
    expect(loaded.config.bots[0]?.include).toEqual([`${dir}/conf\\[1\\]/logs/*.log`]);
    expect(loaded.config.state.dir).toBe(join(configDir, 'state'));
  });

  it('accepts relative config path', async () => {
    const file = await writeLines(dir, 'config.yaml', validLines());
    const loaded = await loadConfig(relative(process.cwd(), file), {});
    expect(loaded.path).toBe(file);
    expect(loaded.config.state.dir).toBe(join(dir, 'state'));
  });

  it('names file as given', async () => {
    const file = await writeLines(dir, 'config.yaml', replaceLine(validLines(), 3, '  appId: 0'));
    const given = relative(process.cwd(), file);
    const error = await expectConfigError(loadConfig(given, {}));
    expect(error.message).toMatch(
      new RegExp(`^${given.replaceAll('.', '\\.')}:3:10: tracker\\.appId: `)
    );
  });
});

describe('tokenFile', () => {
  it('reads and trims token', async () => {
    await writeFile(join(dir, 'token'), '  secret-from-file\r\n\n');
    const file = await writeLines(dir, 'config.yaml', withTokenFile('token'));
    const loaded = await loadConfig(file, {});
    expect(loaded.token).toBe('secret-from-file');
    expect(loaded.config.tracker.token).toBeUndefined();
  });

  it('reports missing token file', async () => {
    const file = await writeLines(dir, 'config.yaml', withTokenFile('absent-token'));
    const error = await expectConfigError(loadConfig(file, {}));
    expect(error.message).toBe(
      `${file}:4:14: tracker.tokenFile: token file not found: ${join(dir, 'absent-token')}; ` +
        'create it or fix the path'
    );
  });

  it('reports empty token file', async () => {
    await writeFile(join(dir, 'token'), '\n');
    const file = await writeLines(dir, 'config.yaml', withTokenFile('token'));
    const error = await expectConfigError(loadConfig(file, {}));
    expect(error.message).toBe(
      `${file}:4:14: tracker.tokenFile: token file ${join(dir, 'token')} is empty; write the token into it`
    );
  });

  it('reports directory as token file', async () => {
    await mkdir(join(dir, 'token.d'));
    const file = await writeLines(dir, 'config.yaml', withTokenFile('token.d'));
    const error = await expectConfigError(loadConfig(file, {}));
    expect(error.message).toBe(
      `${file}:4:14: tracker.tokenFile: token file ${join(dir, 'token.d')} is a directory; ` +
        'name the file that holds the token'
    );
  });

  it('rejects token with line break', async () => {
    await writeFile(join(dir, 'token'), 'first-line\nsecond-line\n');
    const file = await writeLines(dir, 'config.yaml', withTokenFile('token'));
    const error = await expectConfigError(loadConfig(file, {}));
    expect(error.message).toBe(
      `${file}:4:14: tracker.tokenFile: the token in ${join(dir, 'token')} contains a line break ` +
        'or another control character; remove it'
    );
    expect(error.message).not.toContain('first-line');
  });
});
