// Latency: from the append of an appointment line to a followed file to the sink's receipt
// of its request, for 1 and for 50 followed files.

import { startFollowSession } from '../lib/follow-session.mjs';
import { percentile } from '../lib/stats.mjs';
import { sleep } from '../lib/wait.mjs';

const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * Appends `appends` appointments, one every `intervalMs`, to `fileCount` followed files in turn.
 * Resolves with the values `p99Ms`, `p50Ms` and `maxMs` and the problems; an event that never
 * arrives is a problem and counts as infinitely late.
 */
export async function measureLatency(context, { fileCount, appends, intervalMs }) {
  const session = await startFollowSession(context, `latency${fileCount}`, fileCount);
  const problems = [];
  let latenciesMs = [];
  try {
    const userIds = [];
    for (let index = 0; index < appends; index += 1) {
      userIds.push(session.appendEvent(index % fileCount));
      await sleep(intervalMs);
    }
    await session.waitForEvents(userIds, DELIVERY_TIMEOUT_MS);
    latenciesMs = userIds.map((userId) => {
      const receivedAt = session.receivedAt.get(userId);
      return receivedAt === undefined
        ? Number.POSITIVE_INFINITY
        : receivedAt - session.appendedAt.get(userId);
    });
    const missing = latenciesMs.filter((latency) => latency === Number.POSITIVE_INFINITY).length;
    if (missing > 0) problems.push(`${missing} of ${appends} events did not reach the sink`);
  } finally {
    const exit = await session.stop();
    if (exit.code !== 0) problems.push(`the agent exited with ${exit.code ?? exit.signal}`);
    if (exit.duplicateBodies > 0) problems.push(`${exit.duplicateBodies} events were sent twice`);
    session.run.clean();
  }
  return {
    values: {
      p99Ms: percentile(latenciesMs, 99),
      p50Ms: percentile(latenciesMs, 50),
      maxMs: Math.max(...latenciesMs),
    },
    problems,
    details: { agentLog: session.run.agentLog },
    commands: [session.command],
  };
}
