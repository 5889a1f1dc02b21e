// Waiting helpers for figures that watch a running agent.

import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/**
 * Polls `predicate` every `intervalMs` until it returns true; resolves true then, or false once
 * `timeoutMs` have passed.
 */
export async function waitUntil(predicate, timeoutMs, intervalMs = 20) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    await sleep(intervalMs);
  }
  return predicate();
}
