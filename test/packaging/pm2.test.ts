import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';

const ECOSYSTEM = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'packaging',
  'pm2',
  'ecosystem.config.cjs'
);

/** Loads the process file fresh, as pm2 does, with the given environment overrides. */
function loadEcosystem(env: Record<string, string> = {}) {
  const require = createRequire(import.meta.url);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    delete require.cache[ECOSYSTEM];
    return require(ECOSYSTEM).apps[0];
  } finally {
    for (const key of Object.keys(env)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
}

describe('pm2 process file', () => {
  it('runs the agent once', () => {
    const app = loadEcosystem();
    expect(app.name).toBe('mfc-events-agent');
    expect(app.exec_mode).toBe('fork');
    expect(app.instances).toBe(1);
    expect(app.autorestart).toBe(true);
    expect(app.args).toEqual(['run', '--config', join(dirname(ECOSYSTEM), 'config.yaml')]);
  });

  it('kill timeout covers shutdown', () => {
    const app = loadEcosystem();
    const shutdownTimeoutMs = configSchema.shape.shutdownTimeoutMs.parse(undefined);
    expect(app.kill_timeout).toBeGreaterThanOrEqual(shutdownTimeoutMs + 10_000);
  });

  it('stops on configuration errors', () => {
    // Exit status 2 is the CLI's status for an unusable configuration.
    expect(loadEcosystem().stop_exit_codes).toEqual([2]);
  });

  it('environment overrides paths', () => {
    const app = loadEcosystem({
      MFC_AGENT_BUNDLE: '/opt/agent/mfc-events-agent.cjs',
      MFC_AGENT_CONFIG: '/opt/agent/config.yaml',
      MFC_AGENT_LOG_DIR: '/var/log/agent',
    });
    expect(app.script).toBe('/opt/agent/mfc-events-agent.cjs');
    expect(app.args).toEqual(['run', '--config', '/opt/agent/config.yaml']);
    expect(app.out_file).toBe('/var/log/agent/mfc-events-agent.out.log');
    expect(app.error_file).toBe('/var/log/agent/mfc-events-agent.err.log');
  });
});
