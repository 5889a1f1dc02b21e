// The benchmark's report: the machine, each figure against its target, and the printed table.

import { readFileSync } from 'node:fs';
import os from 'node:os';
import { summarize } from './stats.mjs';

/** Returns the facts about this machine that a reader needs to compare figures across hosts. */
export function describeMachine() {
  const cpuInfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuInfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    nproc: os.availableParallelism(),
    cpuModel: model.trim(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: os.release(),
    date: new Date().toISOString(),
  };
}

/** Returns whether `value` meets `target` (`{ op, value }`). */
export function meetsTarget(value, target) {
  if (target.op === '<') return value < target.value;
  if (target.op === '<=') return value <= target.value;
  return value >= target.value;
}

/**
 * Summarizes `figure` over the runs of its scenario (`[{ values, problems }]`). The result is
 * `pass` or `FAIL` against the median, `info` without a target, and `FAIL` whenever a run had a
 * problem (lost events, a wrong sum, an agent that exited badly) or failed outright.
 */
export function summarizeFigure(figure, runs) {
  const values = runs
    .map((run) => run.values?.[figure.value])
    .filter((value) => typeof value === 'number' && !Number.isNaN(value));
  // A merged scenario prefixes its parts' values and problems alike ("pino.wallS", "pino: ...").
  const prefix = figure.value.includes('.') ? `${figure.value.split('.')[0]}: ` : '';
  const runsWithProblems = runs.filter(
    (run) => run.failed || run.problems.some((problem) => problem.startsWith(prefix))
  ).length;
  const summary = {
    id: figure.id,
    label: figure.label,
    unit: figure.unit,
    target: figure.target,
    ...(values.length > 0 ? summarize(values) : { median: null, min: null, max: null, runs: [] }),
  };
  if (values.length === 0) summary.result = 'no data';
  else if (figure.target === null) summary.result = 'info';
  else if (runsWithProblems > 0) summary.result = 'FAIL';
  else summary.result = meetsTarget(summary.median, figure.target) ? 'pass' : 'FAIL';
  return summary;
}

function formatNumber(value, decimals) {
  if (value === null) return '-';
  if (value === Number.POSITIVE_INFINITY) return 'inf';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

/** Formats the summaries as a plain-text table, one figure a row. */
export function formatTable(summaries, figures) {
  const header = ['figure', 'unit', 'target', 'median', 'min', 'max', 'result'];
  const rows = summaries.map((summary, index) => {
    const decimals = figures[index].decimals;
    const target = summary.target
      ? `${summary.target.op} ${summary.target.value.toLocaleString('en-US')}`
      : '-';
    return [
      summary.label,
      summary.unit,
      target,
      formatNumber(summary.median, decimals),
      formatNumber(summary.min, decimals),
      formatNumber(summary.max, decimals),
      summary.result,
    ];
  });
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length))
  );
  const numeric = new Set([3, 4, 5]);
  const line = (cells) =>
    cells
      .map((cell, column) =>
        numeric.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column])
      )
      .join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join(
    '\n'
  );
}
