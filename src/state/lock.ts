import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../observability/logger.js';
import { errorCode } from '../outbox/file-io.js';

/** Contents of the lock file. */
export interface LockOwner {
  pid: number;
  /** Epoch ms. */
  startedAt: number;
  host: string;
}

/** A held lock on a state directory. */
export interface StateLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** Removes the lock file if it is still ours; safe to call twice. */
  release(): void;
}

/** Thrown when the lock of the state directory belongs to another live agent. */
export class StateLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly owner: LockOwner
  ) {
    super(
      `another mfc-events-agent (pid ${owner.pid} on ${owner.host}, started ` +
        `${new Date(owner.startedAt).toISOString()}) is using the state directory ${dir}; ` +
        'stop it first, or give this one its own state.dir'
    );
    this.name = 'StateLockedError';
  }
}

/** Attempts at taking a stale lock over before giving up on a directory that keeps changing. */
const MAX_ATTEMPTS = 5;

/**
 * Creates the state directory (mode 0750) if missing and takes its lock: `dir/lock`, created
 * whole through a hard link of a temp file (atomic, like O_EXCL, and never seen half-written),
 * holding `{pid, startedAt, host}`. A lock whose pid is not alive, or is this process, is taken
 * over. Throws StateLockedError when a live process holds it.
 */
export function acquireStateLock(dir: string, logger?: Logger): StateLock {
  // The umask may narrow the mode of a new directory; 0750 is set explicitly.
  if (mkdirSync(dir, { recursive: true, mode: 0o750 }) !== undefined) chmodSync(dir, 0o750);
  const path = join(dir, 'lock');
  const owner: LockOwner = { pid: process.pid, startedAt: Date.now(), host: hostname() };
  const tempPath = join(dir, `lock.${process.pid}.tmp`);
  writeFileSync(tempPath, `${JSON.stringify(owner)}\n`, { mode: 0o640 });
  try {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      if (tryLink(tempPath, path)) return heldLock(path, owner);
      const holder = readOwner(path);
      if (holder === 'missing') continue;
      if (holder !== 'unreadable' && holder.pid !== process.pid && isAlive(holder.pid)) {
        throw new StateLockedError(dir, holder);
      }
      // NOTE: two agents taking over the same stale lock at once can both succeed, because
      // unlink and link are two separate steps.
      unlinkStale(path);
      logger?.warn(
        { lock: path, previousOwner: holder === 'unreadable' ? null : holder },
        'Took over a stale state-directory lock left by an agent that is no longer running.'
      );
    }
    throw new Error(`could not take the lock ${path} after ${MAX_ATTEMPTS} attempts; retry`);
  } finally {
    unlinkSync(tempPath);
  }
}

function tryLink(tempPath: string, path: string): boolean {
  try {
    linkSync(tempPath, path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
}

function readOwner(path: string): LockOwner | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isSafeInteger(value.pid) && (value.pid ?? 0) > 0) {
      return {
        pid: value.pid!,
        startedAt: Number(value.startedAt ?? 0),
        host: String(value.host ?? 'unknown host'),
      };
    }
  } catch {
    // Falls through: a lock file that is not ours to parse counts as stale.
  }
  return 'unreadable';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return errorCode(error) === 'EPERM';
  }
}

function unlinkStale(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}

function heldLock(path: string, owner: LockOwner): StateLock {
  let released = false;
  return {
    path,
    owner,
    release(): void {
      if (released) return;
      released = true;
      const holder = readOwner(path);
      // Another agent may have taken the lock over after ours was judged stale; leave its lock.
      if (
        typeof holder === 'object' &&
        holder.pid === owner.pid &&
        holder.startedAt === owner.startedAt
      ) {
        unlinkStale(path);
      }
    },
  };
}
