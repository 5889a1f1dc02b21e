#!/usr/bin/env node
// `npm run bench`: measures the agent's catch-up, memory, latency, CPU and delivery figures,
// each as the median of several runs, prints them against their targets and writes JSON.
//
//   npm run bench -- [--runs N] [--only catchup,follow200,latency,steady,delivery] [--quick]
//                    [--gen-log PATH] [--delivery-concurrency N] [--delivery-rate N] [--out FILE]
//                    [--repo DIR]

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DURATIONS, FIGURES, SCENARIO_ALIASES, SCENARIOS } from './figures/index.mjs';
import { snapshotAgent } from './lib/agent.mjs';
import { describeMachine, formatTable, summarizeFigure } from './lib/report.mjs';

const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BENCH_ROOT = join(os.tmpdir(), 'mfc-bench');

const USAGE = `usage: npm run bench -- [options]
  --runs N                   runs per figure; the table shows their median, min and max (default 3, 1 with --quick)
  --only LIST                comma-separated scenarios: ${Object.keys(SCENARIOS).join(', ')}
                             (aliases: memory = catchup,follow200; cpu = follow200,steady)
  --quick                    shorter phases (5 s idle, 60 latency samples, 20,000-event backlog)
  --gen-log PATH             the workload generator gen-log.mjs, needed once to write the 1 GiB
                             catch-up logs into ${BENCH_ROOT}/data (or set MFC_BENCH_GEN_LOG)
  --delivery-concurrency N   delivery.concurrency of the delivery-rate figure (default 16)
  --delivery-rate N          delivery.maxRequestsPerSecond of the delivery-rate figure (default 10000)
  --out FILE                 results JSON (default ${BENCH_ROOT}/results/latest.json)
  --repo DIR                 checkout whose build/ is measured (default: this repository)
  --node-flags "FLAGS"       node options for the agent (default: those of bin/mfc-events-agent.js's shebang), for trials such as
                             "--max-semi-space-size=2"`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'gen-log': { type: 'string' },
      'delivery-concurrency': { type: 'string', default: '16' },
      'delivery-rate': { type: 'string', default: '10000' },
      out: { type: 'string', default: join(BENCH_ROOT, 'results', 'latest.json') },
      repo: { type: 'string', default: REPO_DIR },
      'node-flags': { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  return {
    runs: positiveInteger('--runs', values.runs ?? (values.quick ? '1' : '3')),
    scenarios: selectScenarios(values.only),
    quick: values.quick,
    genLogPath: values['gen-log'] ?? process.env.MFC_BENCH_GEN_LOG,
    delivery: {
      concurrency: positiveInteger('--delivery-concurrency', values['delivery-concurrency']),
      maxRequestsPerSecond: positiveInteger('--delivery-rate', values['delivery-rate']),
    },
    out: resolve(values.out),
    repoDir: resolve(values.repo),
    // Without --node-flags, the agent runs with the flags of its installed command's shebang.
    nodeFlags:
      values['node-flags'] === ''
        ? shebangNodeFlags(resolve(values.repo))
        : values['node-flags'].split(/\s+/).filter(Boolean),
  };
}

/** Returns the node flags on the `#!/usr/bin/env -S node ...` line of bin/mfc-events-agent.js. */
function shebangNodeFlags(repoDir) {
  const first = readFileSync(join(repoDir, 'bin', 'mfc-events-agent.js'), 'utf8').split('\n')[0];
  const match = /^#!.*\bnode\b(.*)$/.exec(first);
  return match ? match[1].trim().split(/\s+/).filter(Boolean) : [];
}

function positiveInteger(option, text) {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${option}: invalid value '${text}'; expected a positive whole number`);
  }
  return value;
}

function selectScenarios(only) {
  if (only === undefined) return Object.keys(SCENARIOS);
  const selected = new Set();
  for (const name of only.split(',').map((part) => part.trim())) {
    const expanded = SCENARIO_ALIASES[name] ?? [name];
    for (const scenario of expanded) {
      if (!(scenario in SCENARIOS)) {
        const known = [...Object.keys(SCENARIOS), ...Object.keys(SCENARIO_ALIASES)].join(', ');
        throw new Error(`--only: unknown scenario '${name}'; expected some of ${known}`);
      }
      selected.add(scenario);
    }
  }
  return Object.keys(SCENARIOS).filter((scenario) => selected.has(scenario));
}

/** Runs `scenario` `runs` times; a run that throws is kept as a failed run with its error. */
async function runScenario(context, name, runs) {
  const input = await SCENARIOS[name].prepare(context);
  const results = [];
  for (let index = 1; index <= runs; index += 1) {
    process.stderr.write(`bench: ${name} run ${index}/${runs}\n`);
    try {
      const result = await SCENARIOS[name].measure(context, input);
      for (const problem of result.problems) process.stderr.write(`bench: ${name}: ${problem}\n`);
      results.push(result);
    } catch (error) {
      process.stderr.write(`bench: ${name} run ${index} failed: ${error.message}\n`);
      results.push({ values: {}, problems: [error.message], failed: true, commands: [] });
    }
  }
  return results;
}

function formatCommands(options, resultsByScenario) {
  const lines = ['Commands (per scenario: how to rerun it, then what its last run executed):'];
  for (const [name, results] of Object.entries(resultsByScenario)) {
    const quick = options.quick ? ' --quick' : '';
    const flags =
      options.nodeFlags.length > 0 ? ` --node-flags="${options.nodeFlags.join(' ')}"` : '';
    lines.push(`  ${name}: npm run bench -- --only ${name} --runs ${options.runs}${quick}${flags}`);
    for (const command of results.at(-1)?.commands ?? []) lines.push(`    ${command}`);
  }
  return lines.join('\n');
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const runsRoot = join(BENCH_ROOT, 'runs', 'latest');
  rmSync(runsRoot, { recursive: true, force: true });
  const agent = snapshotAgent(options.repoDir, join(runsRoot, 'agent'));
  const context = {
    cliPath: agent.cliPath,
    runsRoot,
    dataDir: join(BENCH_ROOT, 'data'),
    genLogPath: options.genLogPath,
    durations: options.quick ? DURATIONS.quick : DURATIONS.full,
    delivery: options.delivery,
    nodeFlags: options.nodeFlags,
  };
  mkdirSync(context.dataDir, { recursive: true });
  const machine = describeMachine();
  process.stderr.write(`bench: agent ${agent.commit}, ${JSON.stringify(machine)}\n`);

  const resultsByScenario = {};
  for (const name of options.scenarios) {
    resultsByScenario[name] = await runScenario(context, name, options.runs);
  }

  const figures = FIGURES.filter((figure) => figure.scenario in resultsByScenario);
  const summaries = figures.map((figure) =>
    summarizeFigure(figure, resultsByScenario[figure.scenario])
  );
  const report = { machine, agentCommit: agent.commit, options, summaries, resultsByScenario };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);

  process.stdout.write(`\n${formatTable(summaries, figures)}\n\n`);
  process.stdout.write(
    `Delivery-rate settings: concurrency ${options.delivery.concurrency}, ` +
      `maxRequestsPerSecond ${options.delivery.maxRequestsPerSecond}; other figures: ` +
      'concurrency 8, maxRequestsPerSecond 10000.\n'
  );
  process.stdout.write(`${formatCommands(options, resultsByScenario)}\n`);
  process.stdout.write(`Results: ${options.out}\nAgent logs: ${runsRoot}\n`);
  process.exitCode = summaries.some((summary) => summary.result === 'FAIL') ? 1 : 0;
}

main().catch((error) => {
  process.stderr.write(`bench: ${error.message}\n`);
  process.exit(2);
});
