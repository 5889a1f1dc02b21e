// 200 followed files: CPU while they are quiet, peak RSS while they grow, and peak RSS after a
// 100 MiB line without a newline lands in one of them.

import { appendFileSync } from 'node:fs';
import { startFollowSession } from '../lib/follow-session.mjs';
import { readCpuSeconds, readMemoryMiB } from '../lib/proc.mjs';
import { sleep } from '../lib/wait.mjs';

export const FOLLOWED_FILES = 200;
// Time after the first events before the first CPU window, in ms. Work left from start-up can
// still run then, so the first window is reported for information and the target applies to
// the second, which starts 20 s later.
const SETTLE_MS = 12_000;
const APPEND_TICK_MS = 100;
const FILLER_LINES_PER_FILE_PER_TICK = 2;
const LONG_LINE_MIB = 100;
const DELIVERY_TIMEOUT_MS = 30_000;
/** The agent's default `partialLineTimeoutMs`, after which a partial last line is taken whole. */
const PARTIAL_LINE_TIMEOUT_MS = 5_000;

/**
 * Runs the 200-file scenario once. `durations` contains `idleSeconds` and `appendSeconds`.
 * Resolves with the values `idleEarlyCpuPercent`, `idleCpuPercent`, `rssMiB` and `longLineRssMiB`
 * and the problems.
 */
export async function measureFollowMany(context, durations) {
  const session = await startFollowSession(context, 'follow200', FOLLOWED_FILES);
  const problems = [];
  const values = {};
  try {
    await sleep(SETTLE_MS);
    // Two windows back to back: the first still contains the tail of start-up work, the
    // second is the cost of an agent that stays idle, which is what the target is about.
    values.idleEarlyCpuPercent = await measureCpuPercent(session.pid, durations.idleSeconds);
    values.idleCpuPercent = await measureCpuPercent(session.pid, durations.idleSeconds);

    const appendedIds = await appendToAll(session, durations.appendSeconds);
    if (!(await session.waitForEvents(appendedIds, DELIVERY_TIMEOUT_MS))) {
      problems.push('events appended to the 200 files did not all reach the sink');
    }
    values.rssMiB = readMemoryMiB(session.pid).hwmMiB;

    const afterLongLine = await appendLongLine(session);
    if (!(await session.waitForEvents(afterLongLine, DELIVERY_TIMEOUT_MS))) {
      problems.push(`an event after the ${LONG_LINE_MIB} MiB line did not reach the sink`);
    }
    if (session.exited()) problems.push('the agent exited during the long line');
    else values.longLineRssMiB = readMemoryMiB(session.pid).hwmMiB;
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

/** Returns the CPU time of `pid` over the next `seconds` as a percentage of one core. */
export async function measureCpuPercent(pid, seconds) {
  const before = readCpuSeconds(pid);
  await sleep(seconds * 1000);
  const after = readCpuSeconds(pid);
  return ((after - before) / seconds) * 100;
}

/**
 * Appends ordinary lines to every file every tick for `seconds`, and one appointment per tick
 * to the files in turn. Returns the user ids of those appointments.
 */
async function appendToAll(session, seconds) {
  const userIds = [];
  const ticks = Math.round((seconds * 1000) / APPEND_TICK_MS);
  for (let tick = 0; tick < ticks; tick += 1) {
    for (const path of session.files) {
      appendFileSync(path, session.fillerLines(FILLER_LINES_PER_FILE_PER_TICK));
    }
    userIds.push(session.appendEvent(tick % session.files.length));
    await sleep(APPEND_TICK_MS);
  }
  return userIds;
}

/**
 * Appends a 100 MiB line with no newline to the first file, waits past the partial-line timeout,
 * then ends the line and appends an appointment to it and to the second file. Returns the ids of
 * those two appointments.
 */
async function appendLongLine(session) {
  const chunk = Buffer.alloc(1024 * 1024, 'x');
  appendFileSync(session.files[0], '{"level":30,"msg":"update received","text":"');
  for (let mebibyte = 0; mebibyte < LONG_LINE_MIB; mebibyte += 1) {
    appendFileSync(session.files[0], chunk);
  }
  await sleep(PARTIAL_LINE_TIMEOUT_MS + 3_000);
  return [session.appendEvent(0, '"}\n'), session.appendEvent(1)];
}
