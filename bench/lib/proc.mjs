// Readers of /proc for the process under measurement (Linux only).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicksPerSecond;

/** Returns the kernel clock ticks per second that /proc/PID/stat counts CPU time in. */
export function clockTicks() {
  if (clockTicksPerSecond === undefined) {
    try {
      clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
    } catch {
      // NOTE: 100 is the value on every common Linux build; it is only a fallback.
      clockTicksPerSecond = 100;
    }
  }
  return clockTicksPerSecond;
}

/** Returns user + system CPU seconds of process `pid` (all its threads) so far. */
export function readCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name in field 2 may hold spaces and brackets, so fields are counted after the
  // last ')': utime and stime are fields 14 and 15 of the whole line.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utimeTicks = Number(fields[11]);
  const stimeTicks = Number(fields[12]);
  return (utimeTicks + stimeTicks) / clockTicks();
}

/** Returns `{ hwmMiB, rssMiB }`: peak and current resident set size of `pid` in MiB. */
export function readMemoryMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kibibytes = (name) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${name} line`);
    return Number(match[1]);
  };
  return { hwmMiB: kibibytes('VmHWM') / 1024, rssMiB: kibibytes('VmRSS') / 1024 };
}

/** Reads "Maximum resident set size (kbytes)" from a `/usr/bin/time -v -o FILE` report, in MiB. */
export function readTimeReportMaxRssMiB(path) {
  const report = readFileSync(path, 'utf8');
  const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
  if (!match) throw new Error(`${path} has no "Maximum resident set size" line`);
  return Number(match[1]) / 1024;
}
