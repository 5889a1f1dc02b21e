// Steady cost: CPU of the agent following one file that grows at 2,000 lines/s, 2 of them
// appointments.

import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { startFollowSession } from '../lib/follow-session.mjs';
import { readCpuSeconds } from '../lib/proc.mjs';
import { sleep } from '../lib/wait.mjs';

export const LINES_PER_SECOND = 2_000;
export const EVENTS_PER_SECOND = 2;
const TICK_MS = 50;
const SETTLE_MS = 2_000;
const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * Grows one followed file for `seconds` at the rates above, in one append every 50 ms, and
 * resolves with `cpuPercent` (CPU time over the window as a percentage of one core) and the
 * problems.
 */
export async function measureSteady(context, seconds) {
  const session = await startFollowSession(context, 'steady', 1);
  const problems = [];
  const values = {};
  try {
    await sleep(SETTLE_MS);
    const cpuBefore = readCpuSeconds(session.pid);
    const startedAt = performance.now();
    const userIds = await growFile(session, startedAt, seconds);
    const windowSeconds = (performance.now() - startedAt) / 1000;
    values.cpuPercent = ((readCpuSeconds(session.pid) - cpuBefore) / windowSeconds) * 100;
    if (!(await session.waitForEvents(userIds, DELIVERY_TIMEOUT_MS))) {
      problems.push('appointments appended during the steady window did not all reach the sink');
    }
  } finally {
    const exit = await session.stop();
    if (exit.code !== 0) problems.push(`the agent exited with ${exit.code ?? exit.signal}`);
    if (exit.duplicateBodies > 0) problems.push(`${exit.duplicateBodies} events were sent twice`);
    session.run.clean();
  }
  return {
    values,
    problems,
    details: { agentLog: session.run.agentLog },
    commands: [session.command],
  };
}

/**
 * Appends what is due by the clock each tick, so a late tick catches up instead of lowering the
 * rate. Returns the user ids of the appointments written.
 */
async function growFile(session, startedAt, seconds) {
  const userIds = [];
  let linesWritten = 0;
  let eventsWritten = 0;
  for (;;) {
    const elapsedSeconds = Math.min((performance.now() - startedAt) / 1000, seconds);
    const linesDue = Math.floor(elapsedSeconds * LINES_PER_SECOND) - linesWritten;
    const eventsDue = Math.floor(elapsedSeconds * EVENTS_PER_SECOND) - eventsWritten;
    // The appointments are part of the line rate, so they replace ordinary lines.
    const fillerDue = linesDue - Math.max(eventsDue, 0);
    if (fillerDue > 0) appendFileSync(session.files[0], session.fillerLines(fillerDue));
    for (let event = 0; event < eventsDue; event += 1) {
      userIds.push(session.appendEvent(0));
      eventsWritten += 1;
    }
    linesWritten += Math.max(linesDue, 0);
    if (elapsedSeconds >= seconds) return userIds;
    await sleep(TICK_MS);
  }
}
