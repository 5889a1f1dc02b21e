// Delivery rate: a backlog where every line is an appointment, drained by `run --once` to a
// sink that holds every answer back 5 ms.

import { agentCommand, runAgentOnce, writeAgentConfig } from '../lib/agent.mjs';
import { makeRunDir } from '../lib/run-dir.mjs';
import { startSinkProcess } from '../lib/sink-process.mjs';
import { checkDelivery } from './catchup.mjs';

export const SINK_DELAY_MS = 5;

/**
 * Drains `backlog` (`{ path, expected }`) with `delivery` (`concurrency`,
 * `maxRequestsPerSecond`). Resolves with `eventsPerSecond` (events over the time from the
 * sink's first to its last request), `wallEventsPerSecond` (events over the agent's whole run)
 * and the problems, which include more requests in flight than the configured concurrency.
 */
export async function measureDelivery(context, backlog, delivery) {
  const run = makeRunDir(context.runsRoot, 'delivery');
  const sink = await startSinkProcess({ delayMs: SINK_DELAY_MS });
  writeAgentConfig(run.configPath, {
    trackerUrl: sink.url,
    stateDir: run.stateDir,
    include: [backlog.path],
    startAt: 'beginning',
    ...delivery,
  });
  const agent = await runAgentOnce({
    cliPath: context.cliPath,
    configPath: run.configPath,
    logPath: run.agentLog,
    timeReportPath: run.timeReport,
    nodeFlags: context.nodeFlags,
  });
  const received = await sink.stop();
  const problems = checkDelivery(agent.code, received, backlog.expected, run.agentLog);
  if (received.maxInFlight > delivery.concurrency) {
    problems.push(
      `${received.maxInFlight} requests were in flight at once, above concurrency ${delivery.concurrency}`
    );
  }
  run.clean();

  const drainSeconds = Math.max((received.lastAt - received.firstAt) / 1000, 0.001);
  return {
    values: {
      eventsPerSecond: received.events / drainSeconds,
      wallEventsPerSecond: received.events / agent.wallSeconds,
      maxInFlight: received.maxInFlight,
    },
    problems,
    details: { received, wallSeconds: agent.wallSeconds, agentLog: run.agentLog },
    commands: [
      agentCommand(context.cliPath, run.configPath, true, context.nodeFlags),
      sink.command,
    ],
  };
}
