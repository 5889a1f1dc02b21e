// Catch-up: `run --once` over a 1 GiB log from its first byte, against the sink, next to
// `grep -c -F` on the same warm file.

import { performance } from 'node:perf_hooks';
import { agentCommand, runAgentOnce, writeAgentConfig } from '../lib/agent.mjs';
import { spawnTracked } from '../lib/children.mjs';
import { makeRunDir } from '../lib/run-dir.mjs';
import { startSinkProcess } from '../lib/sink-process.mjs';

/** Delivery settings of the catch-up runs: 8 requests in flight, up to 10,000 requests/s. */
export const CATCHUP_DELIVERY = { concurrency: 8, maxRequestsPerSecond: 10_000 };
const GREP_ARGS = ['-c', '-F', '"appointment '];

/** Returns the shell form of the grep baseline on `path`. */
export function grepCommand(path) {
  return `LC_ALL=C grep -c -F '"appointment ' ${path}`;
}

async function runTimed(command, args, env) {
  const startedAt = performance.now();
  const child = spawnTracked(command, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (text) => {
    stdout += text;
  });
  const stdoutEnded = new Promise((resolve) => child.stdout.once('end', resolve));
  const { code } = await child.exitPromise;
  const wallSeconds = (performance.now() - startedAt) / 1000;
  await stdoutEnded;
  return { code, stdout, wallSeconds };
}

/** Reads `path` once to /dev/null so that grep and the agent both find it in the page cache. */
async function warmPageCache(path) {
  const child = spawnTracked('sh', ['-c', 'cat "$1" > /dev/null', 'sh', path], {
    stdio: 'ignore',
  });
  const { code } = await child.exitPromise;
  if (code !== 0) throw new Error(`cat ${path} > /dev/null failed with status ${code}`);
}

/**
 * Runs one catch-up measurement of `log` (`{ path, expected }`). Resolves with the run's
 * values (`wallS`, `mbps`, `grepRatio`, `rssMiB`, `cpuS`), its problems (an empty list when
 * every event was acknowledged with the exact user id sum) and the commands used.
 */
export async function measureCatchup(context, format, log) {
  const run = makeRunDir(context.runsRoot, `catchup-${format}`);
  const problems = [];
  await warmPageCache(log.path);

  const grep = await runTimed('grep', [...GREP_ARGS, log.path], { LC_ALL: 'C' });
  const grepCount = Number(grep.stdout.trim());
  if (grepCount !== log.expected.linesWithQuotedAppointment) {
    problems.push(`grep counted ${grepCount}, expected ${log.expected.linesWithQuotedAppointment}`);
  }

  const sink = await startSinkProcess();
  writeAgentConfig(run.configPath, {
    trackerUrl: sink.url,
    stateDir: run.stateDir,
    include: [log.path],
    startAt: 'beginning',
    ...CATCHUP_DELIVERY,
  });
  const agent = await runAgentOnce({
    cliPath: context.cliPath,
    configPath: run.configPath,
    logPath: run.agentLog,
    timeReportPath: run.timeReport,
    nodeFlags: context.nodeFlags,
  });
  const received = await sink.stop();
  problems.push(...checkDelivery(agent.code, received, log.expected, run.agentLog));
  run.clean();

  const bytes = log.expected.bytes;
  return {
    values: {
      wallS: agent.wallSeconds,
      mbps: bytes / 1e6 / agent.wallSeconds,
      grepRatio: agent.wallSeconds / grep.wallSeconds,
      rssMiB: agent.peakRssMiB,
      cpuS: agent.cpuSeconds,
    },
    problems,
    details: { grepWallS: grep.wallSeconds, received, agentLog: run.agentLog },
    commands: [
      grepCommand(log.path),
      agentCommand(context.cliPath, run.configPath, true, context.nodeFlags),
      sink.command,
    ],
  };
}

/** Lists what went wrong with a `run --once` delivery against its expected events and sum. */
export function checkDelivery(code, received, expected, agentLog) {
  const problems = [];
  const total = expected.appointments?.total ?? expected.events;
  if (code !== 0) problems.push(`the agent exited with ${code} (see ${agentLog})`);
  if (received.events !== total) {
    problems.push(`the sink received ${received.events} events, expected ${total}`);
  }
  if (received.userIdSum !== expected.userIdSum) {
    problems.push(`userId sum ${received.userIdSum}, expected ${expected.userIdSum}`);
  }
  if (received.rejected > 0) problems.push(`${received.rejected} requests went to a wrong URL`);
  if (received.duplicateBodies > 0) {
    problems.push(`${received.duplicateBodies} request bodies were sent more than once`);
  }
  return problems;
}
