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
  /** Linux boot id (`/proc/sys/kernel/random/boot_id`) when the lock was taken. */
  bootId?: string;
  /** Start time of the pid in clock ticks since boot (`/proc/PID/stat`, field 22). */
  processStart?: number;
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
  const owner: LockOwner = {
    pid: process.pid,
    startedAt: Date.now(),
    host: hostname(),
    ...processIdentity(process.pid),
  };
  const tempPath = join(dir, `lock.${process.pid}.tmp`);
  writeFileSync(tempPath, `${JSON.stringify(owner)}\n`, { mode: 0o640 });
  try {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      if (tryLink(tempPath, path)) return heldLock(path, owner);
      const holder = readOwner(path);
      if (holder === 'missing') continue;
      if (holder !== 'unreadable' && holder.pid !== process.pid && isAlive(holder)) {
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
        ...(typeof value.bootId === 'string' ? { bootId: value.bootId } : {}),
        ...(Number.isSafeInteger(value.processStart) ? { processStart: value.processStart } : {}),
      };
    }
  } catch {
    // Falls through: a lock file that is not ours to parse counts as stale.
  }
  return 'unreadable';
}

/**
 * True when the lock's owner still runs. A pid that exists is not enough: after a crash and a
 * reboot the same pid often names another program, so the boot id and the process start time
 * recorded in the lock must match too (where /proc provides them).
 */
function isAlive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if (errorCode(error) !== 'EPERM') return false;
  }
  if (owner.bootId === undefined || owner.processStart === undefined) return true;
  const current = processIdentity(owner.pid);
  if (current.bootId === undefined || current.processStart === undefined) return true;
  return current.bootId === owner.bootId && current.processStart === owner.processStart;
}

/** Reads the boot id and a pid's start time from /proc; empty where /proc does not have them. */
function processIdentity(pid: number): { bootId?: string; processStart?: number } {
  try {
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in brackets may hold spaces, so fields are counted after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const processStart = Number(fields[19]);
    return Number.isSafeInteger(processStart) ? { bootId, processStart } : { bootId };
  } catch {
    return {};
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
