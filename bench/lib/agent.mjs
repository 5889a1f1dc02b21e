// The agent under measurement: a snapshot of the compiled CLI, its configuration, and the two
// ways the benchmark runs it (`run --once` to exit, `run` to follow until stopped).

import { execFileSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import YAML from 'yaml';
import { spawnTracked, stopChild } from './children.mjs';
import { readMemoryMiB, readTimeReportMaxRssMiB } from './proc.mjs';

const TIME_COMMAND = '/usr/bin/time';

/** The two rules of every benchmark bot: the `msg` field decides, as in the workload's log. */
export const BENCH_RULES = [
  {
    event: 'appointment_open',
    when: { msg: 'appointment created' },
    userId: 'userId',
    time: 'time',
  },
  {
    event: 'appointment_cancel',
    when: { msg: 'appointment cancelled' },
    userId: 'userId',
    time: 'time',
  },
];

/**
 * Copies `bin/`, `build/` and `package.json` of `repoDir` into `snapshotDir` (with a link to its
 * node_modules), so a rebuild of the working tree during a long benchmark cannot change the code
 * being measured. Returns the snapshot's CLI path and the commit it was built from.
 */
export function snapshotAgent(repoDir, snapshotDir) {
  const mainModule = join(repoDir, 'build', 'cli', 'main.js');
  if (!existsSync(mainModule)) {
    throw new Error(`${mainModule} not found; run \`npm run build\` in ${repoDir} first`);
  }
  mkdirSync(snapshotDir, { recursive: true });
  for (const entry of ['bin', 'build', 'package.json']) {
    cpSync(join(repoDir, entry), join(snapshotDir, entry), { recursive: true });
  }
  symlinkSync(join(repoDir, 'node_modules'), join(snapshotDir, 'node_modules'));
  return {
    cliPath: join(snapshotDir, 'bin', 'mfc-events-agent.js'),
    commit: describeCommit(repoDir),
  };
}

function describeCommit(repoDir) {
  try {
    const args = ['-C', repoDir, 'describe', '--always', '--dirty'];
    return execFileSync('git', args, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Writes the agent's YAML configuration to `path`: one bot `bench_bot` reading `include` with
 * the benchmark rules, delivering to `trackerUrl` (always a local sink).
 */
export function writeAgentConfig(path, options) {
  const config = {
    tracker: { url: options.trackerUrl, appId: 1027600, token: 'bench-token', region: '88' },
    state: { dir: options.stateDir },
    delivery: {
      concurrency: options.concurrency,
      maxRequestsPerSecond: options.maxRequestsPerSecond,
    },
    log: { level: 'info', format: 'json' },
    bots: [
      {
        name: 'bench_bot',
        include: options.include,
        startAt: options.startAt ?? 'beginning',
        rules: BENCH_RULES,
      },
    ],
  };
  writeFileSync(path, YAML.stringify(config));
}

/** Returns the shell form of the agent command, as printed next to each figure. */
export function agentCommand(cliPath, configPath, once, nodeFlags = []) {
  const node = ['node', ...nodeFlags].join(' ');
  return `${node} ${cliPath} run --config ${configPath}${once ? ' --once' : ''}`;
}

/**
 * Runs `run --once` to its exit under `/usr/bin/time -v` (or, without it, polling VmHWM).
 * Resolves with `{ wallSeconds, code, peakRssMiB, cpuSeconds }`; wall time runs from spawn to
 * exit. The agent's stdout and stderr go to `logPath`; `nodeFlags` go to node before the CLI.
 */
export async function runAgentOnce({
  cliPath,
  configPath,
  logPath,
  timeReportPath,
  nodeFlags = [],
}) {
  const agentArgs = [...nodeFlags, cliPath, 'run', '--config', configPath, '--once'];
  const logFd = openSync(logPath, 'a');
  const useTime = existsSync(TIME_COMMAND);
  const startedAt = performance.now();
  const child = useTime
    ? spawnTracked(TIME_COMMAND, ['-v', '-o', timeReportPath, process.execPath, ...agentArgs], {
        stdio: ['ignore', logFd, logFd],
      })
    : spawnTracked(process.execPath, agentArgs, { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);

  let polledPeakMiB = 0;
  const poller = useTime
    ? null
    : setInterval(() => {
        try {
          polledPeakMiB = Math.max(polledPeakMiB, readMemoryMiB(child.pid).hwmMiB);
        } catch {
          // The process has exited between two polls.
        }
      }, 10);
  const { code, signal } = await child.exitPromise;
  const wallSeconds = (performance.now() - startedAt) / 1000;
  if (poller) clearInterval(poller);

  const result = { wallSeconds, code: code ?? signal, peakRssMiB: polledPeakMiB, cpuSeconds: null };
  if (useTime && existsSync(timeReportPath)) {
    result.peakRssMiB = readTimeReportMaxRssMiB(timeReportPath);
    result.cpuSeconds = readTimeReportCpuSeconds(timeReportPath);
  }
  return result;
}

function readTimeReportCpuSeconds(path) {
  const report = readFileSync(path, 'utf8');
  const user = /User time \(seconds\): ([\d.]+)/.exec(report);
  const system = /System time \(seconds\): ([\d.]+)/.exec(report);
  return user && system ? Number(user[1]) + Number(system[1]) : null;
}

/**
 * Starts `run` in follow mode. Returns `{ pid, stop }`; `stop()` sends SIGTERM, waits for the
 * agent to save its state, and resolves with its exit `{ code, signal }`.
 */
export function startAgentFollow({ cliPath, configPath, logPath, nodeFlags = [] }) {
  const logFd = openSync(logPath, 'a');
  const args = [...nodeFlags, cliPath, 'run', '--config', configPath];
  const child = spawnTracked(process.execPath, args, {
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  return {
    pid: child.pid,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stop: () => stopChild(child),
  };
}
