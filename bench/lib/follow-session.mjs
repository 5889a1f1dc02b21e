// A running agent in follow mode over N log files, with the sink in this process so that the
// time of an append and the time of its request are read from one clock.

import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startSink } from '../sink.mjs';
import { agentCommand, startAgentFollow, writeAgentConfig } from './agent.mjs';
import { makeRunDir } from './run-dir.mjs';
import { waitUntil } from './wait.mjs';
import { appointmentLine, fillerLine } from './workload.mjs';

/** Delivery settings of the follow-mode figures: limits far above their rates of 2 to 20 events/s. */
export const FOLLOW_DELIVERY = { concurrency: 8, maxRequestsPerSecond: 10_000 };
const INITIAL_FILLER_LINES = 20;
const WARM_UP_TIMEOUT_MS = 60_000;

/**
 * Starts the agent following `fileCount` files (each starting with a few ordinary lines) and
 * waits until one appointment appended to every file has reached the sink, which proves that
 * every file is followed. Rejects if that takes longer than a minute.
 */
export async function startFollowSession(context, name, fileCount) {
  const run = makeRunDir(context.runsRoot, name);
  const files = [];
  for (let index = 0; index < fileCount; index += 1) {
    const path = join(run.logsDir, `bot-${String(index).padStart(3, '0')}.log`);
    const lines = [];
    for (let line = 0; line < INITIAL_FILLER_LINES; line += 1) {
      lines.push(fillerLine(index * 100 + line, Date.now()));
    }
    writeFileSync(path, lines.join(''));
    files.push(path);
  }

  const appendedAt = new Map();
  const receivedAt = new Map();
  const sink = await startSink({
    onEvent: ({ userId, receivedAtMs }) => receivedAt.set(userId, receivedAtMs),
  });
  writeAgentConfig(run.configPath, {
    trackerUrl: sink.url,
    stateDir: run.stateDir,
    include: [join(run.logsDir, '*.log')],
    startAt: 'beginning',
    ...FOLLOW_DELIVERY,
  });
  const agent = startAgentFollow({
    cliPath: context.cliPath,
    configPath: run.configPath,
    logPath: run.agentLog,
    nodeFlags: context.nodeFlags,
  });

  let nextUserId = 5_000_000_000;
  let fillerSequence = 1_000_000;
  const session = {
    run,
    files,
    pid: agent.pid,
    sink,
    appendedAt,
    receivedAt,
    command: agentCommand(context.cliPath, run.configPath, false, context.nodeFlags),
    /** Appends one appointment line to file `fileIndex`; returns its user id. */
    appendEvent(fileIndex, extraLines = '') {
      nextUserId += 1;
      const userId = String(nextUserId);
      const line = appointmentLine({ userId, name: 'appointment created', timeMs: Date.now() });
      appendFileSync(files[fileIndex], extraLines + line);
      appendedAt.set(userId, performance.now());
      return userId;
    },
    /** Returns `count` ordinary lines as one string. */
    fillerLines(count) {
      const lines = [];
      for (let line = 0; line < count; line += 1) {
        fillerSequence += 1;
        lines.push(fillerLine(fillerSequence, Date.now()));
      }
      return lines.join('');
    },
    /** Resolves true once every id in `userIds` has reached the sink, false after `timeoutMs`. */
    waitForEvents(userIds, timeoutMs) {
      return waitUntil(() => userIds.every((userId) => receivedAt.has(userId)), timeoutMs);
    },
    /**
     * Stops the agent and the sink. Resolves with the agent's exit `{ code, signal }` and the
     * count of request bodies the sink got more than once (every appended line is unique).
     */
    async stop() {
      const exit = await agent.stop();
      await sink.close();
      return { ...exit, duplicateBodies: sink.stats().duplicateBodies };
    },
    exited: agent.exited,
  };

  const warmUpIds = files.map((_, index) => session.appendEvent(index));
  if (!(await session.waitForEvents(warmUpIds, WARM_UP_TIMEOUT_MS))) {
    const missing = warmUpIds.filter((userId) => !receivedAt.has(userId)).length;
    await session.stop();
    throw new Error(
      `${missing} of ${fileCount} warm-up events did not reach the sink within ` +
        `${WARM_UP_TIMEOUT_MS} ms (see ${run.agentLog})`
    );
  }
  return session;
}
