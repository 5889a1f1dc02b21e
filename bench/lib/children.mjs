// Child processes of the benchmark: each runs in its own process group, and every group still
// alive is killed when the benchmark exits, however it exits (error, SIGINT, SIGTERM).

import { spawn } from 'node:child_process';

const liveChildren = new Set();

/**
 * Spawns `command` in a new process group (so a wrapper such as /usr/bin/time and the agent it
 * starts are killed together) and tracks it until it exits.
 */
export function spawnTracked(command, args, options = {}) {
  const child = spawn(command, args, { ...options, detached: true });
  liveChildren.add(child);
  child.exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (error) => {
      liveChildren.delete(child);
      resolve({ code: null, signal: null, error });
    });
  });
  return child;
}

/** Sends `signal` to the whole process group of `child`; a group already gone is ignored. */
export function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if (error.code !== 'ESRCH') throw error;
  }
}

/**
 * Stops `child` with SIGTERM and waits up to `graceMs` for it to exit, then kills its group.
 * Resolves with the exit `{ code, signal }`.
 */
export async function stopChild(child, graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitPromise;
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
  const result = await child.exitPromise;
  clearTimeout(timer);
  // The leader may exit before the rest of its group (the agent under /usr/bin/time).
  signalGroup(child, 'SIGKILL');
  return result;
}

function killAll() {
  for (const child of liveChildren) signalGroup(child, 'SIGKILL');
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    process.stderr.write(`bench: ${signal} received; killing child processes and exiting.\n`);
    killAll();
    process.exit(130);
  });
}
