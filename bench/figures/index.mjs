// The benchmark's scenarios and the figures each one yields, with their targets.

import { ensureBacklog, ensureCatchupLog } from '../lib/workload.mjs';
import { measureCatchup } from './catchup.mjs';
import { measureDelivery } from './delivery.mjs';
import { measureFollowMany } from './follow-many.mjs';
import { measureLatency } from './latency.mjs';
import { measureSteady } from './steady.mjs';

/** Phase lengths of a full run, and of `--quick`, which keeps every figure but shortens it. */
export const DURATIONS = {
  full: {
    idleSeconds: 20,
    appendSeconds: 10,
    steadySeconds: 20,
    latencyAppends: 200,
    latencyIntervalMs: 50,
    backlogEvents: 100_000,
  },
  quick: {
    idleSeconds: 5,
    appendSeconds: 3,
    steadySeconds: 5,
    latencyAppends: 60,
    latencyIntervalMs: 50,
    backlogEvents: 20_000,
  },
};

/**
 * Scenarios in the order they run. `prepare` builds or finds the inputs once per benchmark;
 * `measure` runs once per run and resolves with `{ values, problems, details, commands }`.
 */
export const SCENARIOS = {
  catchup: {
    prepare: (context) => ({
      pino: ensureCatchupLog(context.dataDir, 'pino', context.genLogPath),
      python: ensureCatchupLog(context.dataDir, 'python', context.genLogPath),
    }),
    measure: async (context, logs) => {
      const pino = await measureCatchup(context, 'pino', logs.pino);
      const python = await measureCatchup(context, 'python', logs.python);
      return mergeByPrefix({ pino, python });
    },
  },
  follow200: {
    prepare: () => null,
    measure: (context) => measureFollowMany(context, context.durations),
  },
  latency: {
    prepare: () => null,
    measure: async (context) => {
      const shape = {
        appends: context.durations.latencyAppends,
        intervalMs: context.durations.latencyIntervalMs,
      };
      const singleFile = await measureLatency(context, { ...shape, fileCount: 1 });
      const fiftyFiles = await measureLatency(context, { ...shape, fileCount: 50 });
      return mergeByPrefix({ files1: singleFile, files50: fiftyFiles });
    },
  },
  steady: {
    prepare: () => null,
    measure: (context) => measureSteady(context, context.durations.steadySeconds),
  },
  delivery: {
    prepare: (context) => ensureBacklog(context.dataDir, context.durations.backlogEvents),
    measure: (context, backlog) => measureDelivery(context, backlog, context.delivery),
  },
};

/** Names accepted by `--only` besides the scenario names, for the figures of the brief. */
export const SCENARIO_ALIASES = {
  memory: ['catchup', 'follow200'],
  cpu: ['follow200', 'steady'],
  idle: ['follow200'],
};

function mergeByPrefix(results) {
  const merged = { values: {}, problems: [], details: {}, commands: [] };
  for (const [prefix, result] of Object.entries(results)) {
    for (const [name, value] of Object.entries(result.values)) {
      merged.values[`${prefix}.${name}`] = value;
    }
    merged.problems.push(...result.problems.map((problem) => `${prefix}: ${problem}`));
    merged.details[prefix] = result.details;
    merged.commands.push(...result.commands);
  }
  return merged;
}

const below = (value) => ({ op: '<', value });
const atMost = (value) => ({ op: '<=', value });
const atLeast = (value) => ({ op: '>=', value });

/**
 * Every figure in the printed table: the scenario and value it comes from, its unit, its target
 * (null for a figure reported for comparison only) and its decimals.
 */
export const FIGURES = [
  ['catchup', 'pino.wallS', 'Catch-up 1 GiB pino: wall', 's', atMost(2), 2],
  ['catchup', 'pino.mbps', 'Catch-up 1 GiB pino: throughput', 'MB/s', null, 0],
  ['catchup', 'pino.grepRatio', 'Catch-up pino: agent wall / grep wall', 'x', null, 1],
  ['catchup', 'pino.cpuS', 'Catch-up pino: CPU user+sys', 's', null, 2],
  ['catchup', 'python.wallS', 'Catch-up 1 GiB python: wall', 's', atMost(2), 2],
  ['catchup', 'python.mbps', 'Catch-up 1 GiB python: throughput', 'MB/s', null, 0],
  ['catchup', 'python.grepRatio', 'Catch-up python: agent wall / grep wall', 'x', null, 1],
  ['catchup', 'python.cpuS', 'Catch-up python: CPU user+sys', 's', null, 2],
  ['catchup', 'pino.rssMiB', 'Peak RSS, catch-up pino', 'MiB', below(80), 1],
  ['catchup', 'python.rssMiB', 'Peak RSS, catch-up python', 'MiB', below(80), 1],
  ['follow200', 'rssMiB', 'Peak RSS, 200 followed files growing', 'MiB', below(80), 1],
  ['follow200', 'longLineRssMiB', 'Peak RSS, after a 100 MiB line', 'MiB', below(80), 1],
  ['latency', 'files1.p99Ms', 'Latency p99, 1 followed file', 'ms', atMost(250), 1],
  ['latency', 'files1.p50Ms', 'Latency p50, 1 followed file', 'ms', null, 1],
  ['latency', 'files1.maxMs', 'Latency max, 1 followed file', 'ms', null, 1],
  ['latency', 'files50.p99Ms', 'Latency p99, 50 followed files', 'ms', atMost(250), 1],
  ['latency', 'files50.p50Ms', 'Latency p50, 50 followed files', 'ms', null, 1],
  ['latency', 'files50.maxMs', 'Latency max, 50 followed files', 'ms', null, 1],
  ['follow200', 'idleEarlyCpuPercent', 'CPU, 200 quiet files, first window', '% core', null, 2],
  ['follow200', 'idleCpuPercent', 'CPU, 200 quiet files', '% core', below(0.5), 2],
  ['steady', 'cpuPercent', 'CPU, 2,000 lines/s with 2 events/s', '% core', below(5), 2],
  [
    'delivery',
    'eventsPerSecond',
    'Delivery rate, sink answering in 5 ms',
    'events/s',
    atLeast(2000),
    0,
  ],
  ['delivery', 'wallEventsPerSecond', 'Delivery rate incl. start and reading', 'events/s', null, 0],
  ['delivery', 'maxInFlight', 'Requests in flight at once (max)', 'requests', null, 0],
].map(([scenario, value, label, unit, target, decimals]) => ({
  id: `${scenario}.${value}`,
  scenario,
  value,
  label,
  unit,
  target,
  decimals,
}));
