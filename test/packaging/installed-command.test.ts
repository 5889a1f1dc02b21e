import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingTracker } from '../helpers/recording-tracker.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOKEN = 'installed-test-token-42c9';

let dir: string;
let command: string;

// The command as `npm ci` installs it: bin/mfc-events-agent.js over the tsc output in build/,
// compiled here from src/ into a copy of that layout.
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'installed-command-'));
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const compiled = spawnSync(
    process.execPath,
    [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(dir, 'build')],
    { encoding: 'utf8' }
  );
  if (compiled.status !== 0) throw new Error(`tsc failed:\n${compiled.stdout}${compiled.stderr}`);
  cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  command = join(dir, 'bin', 'mfc-events-agent.js');
}, 60_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function runCommand(args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [command, ...args], { cwd: dir });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

function writeConfig(path: string, trackerUrl: string, logs: string): void {
  writeFileSync(
    path,
    [
      'tracker:',
      `  url: ${trackerUrl}`,
      '  appId: 1027600',
      `  token: ${TOKEN}`,
      '  region: "88"',
      'state:',
      `  dir: ${join(dirname(path), 'state')}`,
      'bots:',
      '  - name: mfc_bot',
      `    include: ["${join(logs, '*.log')}"]`,
      '    startAt: beginning',
      '    rules:',
      '      - event: appointment_open',
      '        when: { msg: appointment created }',
      '        userId: userId',
      '        time: time',
      '',
    ].join('\n')
  );
}

describe('installed command', () => {
  it('reports config problems with place', async () => {
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'tracker:\n  url: 5\n');
    const { status, output } = await runCommand(['run', '--config', config]);
    expect(status).toBe(2);
    expect(output).toContain(`${config}:2:8: tracker.url: invalid value 5; expected a string`);
    expect(output).toContain(`${config}:1:1: bots: missing required value`);
  });

  it('runs once against a local tracker', async () => {
    const tracker = new RecordingTracker();
    await tracker.start();
    try {
      const logs = join(dir, 'logs');
      mkdirSync(logs, { recursive: true });
      const line = (id: string, msg: string) =>
        `{"time":"2026-12-04T10:00:00.000Z","msg":"${msg}","userId":${id}}\n`;
      writeFileSync(
        join(logs, 'bot.log'),
        line('9007199254740993', 'appointment created') + line('7', 'menu opened')
      );
      const config = join(dir, 'run', 'config.yaml');
      mkdirSync(dirname(config), { recursive: true });
      writeConfig(config, tracker.url, logs);

      const { status, output } = await runCommand(['run', '--config', config, '--once']);
      expect(output).not.toContain(TOKEN);
      expect(status).toBe(0);
      expect([...tracker.countsByUser()]).toEqual([['9007199254740993', 1]]);
    } finally {
      await tracker.stop();
    }
  });
});

describe('what the long-running agent loads', () => {
  /**
   * Follows the static imports (not `import()`) from `entry` through src/ and returns the
   * packages they reach. Packages reached only through `import()` load on first use.
   */
  async function staticPackagesOf(entry: string): Promise<Set<string>> {
    const result = await build({
      entryPoints: [join(ROOT, entry)],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'silent',
      outdir: join(dir, 'metafile'),
    });
    const inputs = result.metafile.inputs;
    const packages = new Set<string>();
    const seen = new Set<string>();
    const pending = [entry];
    while (pending.length > 0) {
      const current = pending.pop() as string;
      if (seen.has(current)) continue;
      seen.add(current);
      for (const imported of inputs[current]?.imports ?? []) {
        if (imported.kind !== 'import-statement') continue;
        if (imported.external) packages.add(imported.path);
        else pending.push(imported.path);
      }
    }
    return packages;
  }

  it('agent start loads no zod or yaml', async () => {
    const entries = { 'src/agent.ts': 'chokidar', 'src/cli/main.ts': 'commander' };
    for (const [entry, used] of Object.entries(entries)) {
      const packages = await staticPackagesOf(entry);
      expect(packages, entry).toContain(used);
      expect(packages, entry).not.toContain('zod');
      expect(packages, entry).not.toContain('yaml');
    }
    // The configuration modules do load them, so the check above has something to miss.
    const config = await staticPackagesOf('src/config/load-worker.ts');
    expect(config).toContain('zod');
    expect(config).toContain('yaml');
  });
});
