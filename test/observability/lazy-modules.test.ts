import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  appointmentLine,
  makeTempDir,
  noiseLine,
  startCli,
  writeAgentConfig,
} from '../helpers/agent-process.js';
import { RecordingTracker } from '../helpers/recording-tracker.js';

/** Packages that cost memory and that the agent needs only for some settings. */
const OPTIONAL_PACKAGES = ['prom-client', 'pino-pretty', 'undici'] as const;

let tracker: RecordingTracker;
let dir: string;

beforeEach(async () => {
  tracker = new RecordingTracker();
  await tracker.start();
  dir = makeTempDir('lazy');
  mkdirSync(join(dir, 'logs'));
  writeFileSync(
    join(dir, 'logs', 'bot.log'),
    appointmentLine(1) + noiseLine(2) + appointmentLine(3, 'cancelled')
  );
});

afterEach(async () => {
  await tracker.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs `run --once` with Node's module debug output and returns the optional packages that
 * Node loaded from node_modules.
 */
async function loadedPackages(
  extra: Record<string, unknown>,
  env: NodeJS.ProcessEnv = {}
): Promise<{ packages: string[]; output: string }> {
  const config = writeAgentConfig(dir, {
    trackerUrl: tracker.url,
    logGlob: join(dir, 'logs', '*.log'),
    stateDir: join(dir, 'state'),
    extra,
  });
  const agent = startCli(['run', '--config', config, '--once'], { ...env, NODE_DEBUG: 'module' });
  const { code } = await agent.exited;
  expect(code, agent.output().slice(-2000)).toBe(0);
  expect(tracker.accepted).toHaveLength(2);
  const output = agent.output();
  const packages = OPTIONAL_PACKAGES.filter((name) => output.includes(`node_modules/${name}/`));
  return { packages, output };
}

describe('optional packages', () => {
  it('stay unloaded by default', async () => {
    expect((await loadedPackages({})).packages).toEqual([]);
  });

  it('load prom-client for metrics', async () => {
    const metrics = { enabled: true, listen: '127.0.0.1:0' };

    expect((await loadedPackages({ metrics })).packages).toEqual(['prom-client']);
  });

  it('load undici for a proxy', async () => {
    const env = { HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1' };

    expect((await loadedPackages({}, env)).packages).toEqual(['undici']);
  });

  it('load pino-pretty for pretty logs', async () => {
    const { packages, output } = await loadedPackages({ log: { format: 'pretty' } });

    expect(packages).toEqual(['pino-pretty']);
    expect(output).toMatch(/INFO.*Starting mfc-events-agent\./);
    expect(output).not.toContain('"msg":"Starting mfc-events-agent."');
  });
});
