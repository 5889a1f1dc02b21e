import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { acquireStateLock, StateLockedError } from '../../src/state/lock.js';
import { bundleChild, captureLogger, makeTempDir } from '../outbox/helpers.js';

/** Starts the lock-holding child and resolves once it holds the lock. */
async function startHolder(bundle: string, stateDir: string) {
  const child = spawn(process.execPath, [bundle, stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

describe('state lock', () => {
  let bundle = '';

  beforeAll(async () => {
    const source = join(dirname(fileURLToPath(import.meta.url)), 'lock-child.ts');
    bundle = await bundleChild(source, makeTempDir('lock-child'));
  });

  it('creates the directory and lock', () => {
    const stateDir = join(makeTempDir('lock'), 'state');
    const lock = acquireStateLock(stateDir);
    expect(statSync(stateDir).mode & 0o777).toBe(0o750);
    const owner = JSON.parse(readFileSync(join(stateDir, 'lock'), 'utf8'));
    expect(owner.pid).toBe(process.pid);
    expect(owner).toEqual(lock.owner);
    lock.release();
    expect(existsSync(join(stateDir, 'lock'))).toBe(false);
    lock.release();
  });

  it('second agent is rejected, then takes over', async () => {
    const stateDir = makeTempDir('lock');
    const holder = await startHolder(bundle, stateDir);
    try {
      expect(() => acquireStateLock(stateDir)).toThrow(StateLockedError);
      expect(() => acquireStateLock(stateDir)).toThrow(
        `another mfc-events-agent (pid ${holder.pid} on `
      );
      expect(() => acquireStateLock(stateDir)).toThrow(
        `is using the state directory ${stateDir}; stop it first, or give this one its own state.dir`
      );
    } finally {
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGKILL');
      await exited;
    }

    const { logger, messages } = captureLogger();
    const lock = acquireStateLock(stateDir, logger);
    expect(lock.owner.pid).toBe(process.pid);
    expect(messages('warn')).toEqual([
      'Took over a stale state-directory lock left by an agent that is no longer running.',
    ]);
    lock.release();
  });

  it('takes over a lock of our pid', () => {
    // A container restart gives the new agent the pid the old one had.
    const stateDir = makeTempDir('lock');
    writeFileSync(
      join(stateDir, 'lock'),
      JSON.stringify({ pid: process.pid, startedAt: 1, host: 'h' })
    );
    const lock = acquireStateLock(stateDir);
    expect(lock.owner.startedAt).toBeGreaterThan(1);
    lock.release();
  });

  it('takes over an unreadable lock', () => {
    const stateDir = makeTempDir('lock');
    writeFileSync(join(stateDir, 'lock'), 'garbage');
    const lock = acquireStateLock(stateDir);
    expect(JSON.parse(readFileSync(join(stateDir, 'lock'), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('release keeps a lock taken over', () => {
    const stateDir = makeTempDir('lock');
    const lock = acquireStateLock(stateDir);
    const other = JSON.stringify({ pid: process.pid, startedAt: 2, host: 'other' });
    writeFileSync(join(stateDir, 'lock'), other);
    lock.release();
    expect(readFileSync(join(stateDir, 'lock'), 'utf8')).toBe(other);
  });
});
