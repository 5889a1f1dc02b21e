import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD = join(ROOT, 'packaging', 'deb', 'build.sh');
const PACKAGE = 'mfc-events-agent';
const CONFIG = '/etc/mfc-events-agent/config.yaml';
const TOKEN_FILE = '/etc/mfc-events-agent/token';
const STATE_DIR = '/var/lib/mfc-events-agent';

function run(command: string, args: string[]) {
  return spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function isInstalled(): boolean {
  const query = run('dpkg-query', ['-W', `-f=\${Status}`, PACKAGE]);
  return query.status === 0 && query.stdout.includes('installed');
}

function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'dpkg -i needs root';
  if (run('dpkg-deb', ['--version']).status !== 0) return 'dpkg-deb is missing';
  // Never replace a real installation on a developer's or operator's machine.
  if (isInstalled()) return `${PACKAGE} is already installed here`;
  return null;
}

const reason = skipReason();

/** Builds the package and returns the path of the .deb. */
function buildDeb(version: string, outDir: string): string {
  const result = run('sh', [BUILD, '--version', version, '--out', outDir]);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout.trim();
}

function dpkg(...args: string[]) {
  const result = run('dpkg', args);
  if (result.status !== 0) throw new Error(`dpkg ${args.join(' ')} failed:\n${result.stderr}`);
  return result;
}

function ownerOf(path: string): string {
  return run('stat', ['-c', '%U:%G %a', path]).stdout.trim();
}

describe.skipIf(reason !== null)(`Debian package${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let outDir: string;
  let firstDeb: string;

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'deb-test-'));
    firstDeb = buildDeb('0.1.0~test1', outDir);
  });

  afterAll(() => {
    // Leaves the machine as it was even when a step failed halfway.
    // dpkg-query -W also finds a removed package whose configuration is left.
    if (run('dpkg-query', ['-W', PACKAGE]).status === 0) run('dpkg', ['--purge', PACKAGE]);
    rmSync(outDir, { recursive: true, force: true });
  });

  it('lists files and conffile', () => {
    const contents = dpkg('--contents', firstDeb).stdout;
    for (const path of [
      './usr/lib/mfc-events-agent/mfc-events-agent.cjs',
      './usr/bin/mfc-events-agent',
      './lib/systemd/system/mfc-events-agent.service',
      './etc/mfc-events-agent/config.yaml',
    ]) {
      expect(contents).toContain(path);
    }
    expect(run('dpkg-deb', ['--info', firstDeb, 'conffiles']).stdout.trim()).toBe(CONFIG);
    const control = dpkg('--field', firstDeb, 'Package', 'Architecture', 'Depends').stdout;
    expect(control).toContain('Package: mfc-events-agent');
    expect(control).toContain('Architecture: all');
    expect(control).not.toMatch(/Depends:.*nodejs/);
  });

  it('installs, upgrades, removes, purges', () => {
    // Install.
    dpkg('--install', firstDeb);
    expect(isInstalled()).toBe(true);
    expect(run('id', ['-u', PACKAGE]).status).toBe(0);
    expect(run('getent', ['group', PACKAGE]).status).toBe(0);
    expect(run('dpkg-query', ['-W', `-f=\${Conffiles}`, PACKAGE]).stdout).toContain(CONFIG);
    expect(ownerOf(TOKEN_FILE)).toBe('root:mfc-events-agent 640');
    expect(statSync(TOKEN_FILE).size).toBe(0);
    expect(ownerOf(CONFIG)).toBe('root:mfc-events-agent 640');
    expect(ownerOf('/etc/mfc-events-agent')).toBe('root:mfc-events-agent 750');
    expect(ownerOf(STATE_DIR)).toBe('mfc-events-agent:mfc-events-agent 750');
    expect(ownerOf('/usr/bin/mfc-events-agent')).toBe('root:root 755');

    // The wrapper finds this machine's node and runs the bundle.
    const version = run('/usr/bin/mfc-events-agent', ['--version']);
    expect(version.stderr).toBe('');
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);

    // The installed unit passes systemd's own checks with the real paths in place.
    if (run('systemd-analyze', ['--version']).status === 0) {
      const verify = run('systemd-analyze', [
        'verify',
        '/lib/systemd/system/mfc-events-agent.service',
      ]);
      expect(verify.stderr).toBe('');
      expect(verify.status).toBe(0);
    }

    // Local edits: the configuration and the token.
    appendFileSync(CONFIG, '# edited by the administrator\n');
    const editedConfig = readFileSync(CONFIG, 'utf8');
    appendFileSync(TOKEN_FILE, 'region-token\n');

    // Upgrade: both edits survive.
    const secondDeb = buildDeb('0.1.0~test2', outDir);
    dpkg('--install', secondDeb);
    expect(run('dpkg-query', ['-W', `-f=\${Version}`, PACKAGE]).stdout).toBe('0.1.0~test2');
    expect(readFileSync(CONFIG, 'utf8')).toBe(editedConfig);
    expect(readFileSync(TOKEN_FILE, 'utf8')).toBe('region-token\n');
    expect(existsSync(`${CONFIG}.dpkg-dist`)).toBe(false);

    // Remove: program files go, configuration, state and user stay.
    dpkg('--remove', PACKAGE);
    expect(existsSync('/usr/bin/mfc-events-agent')).toBe(false);
    expect(existsSync('/usr/lib/mfc-events-agent/mfc-events-agent.cjs')).toBe(false);
    expect(existsSync('/lib/systemd/system/mfc-events-agent.service')).toBe(false);
    expect(readFileSync(CONFIG, 'utf8')).toBe(editedConfig);
    expect(existsSync(TOKEN_FILE)).toBe(true);
    expect(existsSync(STATE_DIR)).toBe(true);
    expect(run('id', ['-u', PACKAGE]).status).toBe(0);

    // Purge: everything the package created is gone.
    dpkg('--purge', PACKAGE);
    expect(existsSync('/etc/mfc-events-agent')).toBe(false);
    expect(existsSync(STATE_DIR)).toBe(false);
    expect(run('id', ['-u', PACKAGE]).status).not.toBe(0);
    expect(run('getent', ['group', PACKAGE]).status).not.toBe(0);
    expect(run('dpkg-query', ['-W', PACKAGE]).status).not.toBe(0);
  });
});

describe('packaged config template', () => {
  it('loads with the real loader', async () => {
    // The loader reads the token file, so the template's path is swapped for a temporary file.
    const dir = mkdtempSync(join(tmpdir(), 'deb-config-'));
    try {
      const template = readFileSync(join(ROOT, 'packaging', 'deb', 'config.yaml'), 'utf8');
      expect(template).toContain(`tokenFile: ${TOKEN_FILE}`);
      writeFileSync(join(dir, 'token'), 'deb-test-token\n');
      writeFileSync(join(dir, 'config.yaml'), template.replace(TOKEN_FILE, join(dir, 'token')));

      const { config } = await loadConfig(join(dir, 'config.yaml'), {});

      expect(config.state.dir).toBe(STATE_DIR);
      expect(config.metrics.enabled).toBe(false);
      expect(config.bots.map((bot) => bot.name)).toEqual(['mfc_bot']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
