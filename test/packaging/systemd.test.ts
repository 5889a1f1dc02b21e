import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';

const UNIT = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'packaging',
  'systemd',
  'mfc-events-agent.service'
);
const UNIT_IN_ROOT = '/etc/systemd/system/mfc-events-agent.service';
const HOST_UNITS = '/lib/systemd/system';

const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/** Reads the `Key=value` lines of a unit. A key that repeats keeps every value. */
function unitDirectives(text: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    directives.set(match[1]!, [...(directives.get(match[1]!) ?? []), match[2]!]);
  }
  return directives;
}

describe('systemd unit directives', () => {
  const directives = unitDirectives(readFileSync(UNIT, 'utf8'));

  it.each([
    ['User', 'mfc-events-agent'],
    ['SupplementaryGroups', 'adm'],
    ['ExecStart', '/usr/bin/mfc-events-agent run --config /etc/mfc-events-agent/config.yaml'],
    ['ExecReload', '/bin/kill -HUP $MAINPID'],
    ['Restart', 'on-failure'],
    ['NoNewPrivileges', 'yes'],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
    ['StateDirectory', 'mfc-events-agent'],
    ['ReadOnlyPaths', '/var/log'],
    ['KillSignal', 'SIGTERM'],
    ['WantedBy', 'multi-user.target'],
  ])('sets %s', (key, value) => {
    expect(directives.get(key)).toEqual([value]);
  });

  it('stop timeout exceeds shutdown', () => {
    const defaults = configSchema.shape.shutdownTimeoutMs.parse(undefined);
    const timeoutStopSec = Number(directives.get('TimeoutStopSec')?.[0]);
    expect(timeoutStopSec * 1000).toBeGreaterThan(defaults);
  });
});

describe.skipIf(!hasAnalyze)('systemd-analyze on the unit', () => {
  let root: string;

  // `verify` needs every binary the unit runs and the targets it references. A throwaway root
  // gives it those without installing anything on this machine: a stub agent, kill, and a copy
  // of the host's unit directory.
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'systemd-root-'));
    mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'usr', 'lib', 'systemd'), { recursive: true });
    mkdirSync(join(root, dirname(UNIT_IN_ROOT)), { recursive: true });
    writeFileSync(join(root, 'usr', 'bin', 'mfc-events-agent'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(root, 'usr', 'bin', 'mfc-events-agent'), 0o755);
    copyFileSync('/bin/kill', join(root, 'bin', 'kill'));
    chmodSync(join(root, 'bin', 'kill'), 0o755);
    cpSync(HOST_UNITS, join(root, 'usr', 'lib', 'systemd', 'system'), {
      recursive: true,
      verbatimSymlinks: true,
    });
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  function analyze(unitText: string, ...args: string[]) {
    writeFileSync(join(root, UNIT_IN_ROOT), unitText);
    return spawnSync('systemd-analyze', [...args, `--root=${root}`, UNIT_IN_ROOT], {
      encoding: 'utf8',
    });
  }

  it('verify reports nothing', () => {
    const result = analyze(readFileSync(UNIT, 'utf8'), 'verify');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('verify catches a bad key', () => {
    // Control case: proves the check above would see a mistake.
    const broken = readFileSync(UNIT, 'utf8').replace('NoNewPrivileges=yes', 'NoNewPrivilegez=yes');
    const result = analyze(broken, 'verify');
    expect(result.stderr).toContain("Unknown key 'NoNewPrivilegez'");
  });

  it('security exposure stays low', () => {
    // Exposure runs from 0 (locked down) to 10, and the unit scores 1.6 with systemd 252.
    const result = analyze(
      readFileSync(UNIT, 'utf8'),
      'security',
      '--offline=true',
      '--threshold=25'
    );
    expect(result.stdout).toMatch(
      /Overall exposure level for mfc-events-agent\.service: [0-2]\.\d/
    );
    expect(result.status).toBe(0);
  });
});
