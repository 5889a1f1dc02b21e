import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { AgentConfig } from '../config/schema.js';
import { maskSecrets } from '../observability/logger.js';
import { DEFAULT_CONFIG_PATH } from './dead-letters.js';
import type { StatusSnapshot } from './status-snapshot.js';

/** A snapshot older than this means the agent stopped writing it, so it is not running. */
export const STALE_SNAPSHOT_MS = 30_000;

export interface StatusCommandDeps {
  loadConfig: (path: string) => Promise<{ config: AgentConfig; token?: string }>;
  /** Destination of the report, standard output by default. */
  output?: { write(text: string): unknown };
  /** Clock in epoch ms, `Date.now` by default. */
  now?: () => number;
  /** Receiver of the exit code (0 or 1), which sets `process.exitCode` by default. */
  setExitCode?: (code: number) => void;
}

export type { StatusSnapshot } from './status-snapshot.js';

/** Whether the snapshot comes from a live agent, and why not when it does not. */
export interface AgentLiveness {
  running: boolean;
  pidAlive: boolean;
  snapshotAgeMs: number;
  /** Cause of counting the agent as not running, or null while it runs. */
  reason: string | null;
}

/**
 * Adds `status [--config FILE] [--json]`, with the .deb's config path by default. It reads
 * `<state.dir>/status.json` without locking or changing anything and prints it. Exits with 1 when
 * the agent is not running or delivery is paused, so scripts can alert, and with 0 otherwise.
 * The token is never printed.
 */
export function registerStatusCommand(program: Command, deps: StatusCommandDeps): void {
  program
    .command('status')
    .description(
      'Show what the running agent is doing: files and lag, outbox, delivery, dead letters, events acknowledged today. Exits with 1 when the agent is not running or delivery is paused.'
    )
    .option(
      '-c, --config <file>',
      'configuration file (YAML) of the agent to inspect',
      DEFAULT_CONFIG_PATH
    )
    .option('--json', 'print the snapshot and the liveness check as JSON')
    .action(async (options: { config: string; json?: boolean }) => {
      const write = (text: string) => (deps.output ?? process.stdout).write(text);
      const setExitCode =
        deps.setExitCode ??
        ((code: number) => {
          process.exitCode = code;
        });
      const loaded = await deps.loadConfig(options.config);
      const secrets = await collectSecrets(loaded.config, loaded.token);
      const stateDir = loaded.config.state.dir;
      const snapshotPath = join(stateDir, 'status.json');

      const snapshot = await readSnapshot(snapshotPath);
      if (snapshot === null) {
        const message = `The agent has not run with state dir ${stateDir} yet: ${snapshotPath} does not exist. Start it with: mfc-events-agent run --config ${options.config}`;
        write(
          options.json ? `${JSON.stringify({ running: false, reason: message })}\n` : `${message}\n`
        );
        setExitCode(1);
        return;
      }

      const now = (deps.now ?? Date.now)();
      const liveness = checkLiveness(snapshot, now);
      const text = options.json
        ? `${JSON.stringify({ ...liveness, snapshotPath, snapshot }, null, 2)}\n`
        : renderStatus(snapshot, liveness, loaded.config, now);
      write(maskSecrets(text, secrets));
      setExitCode(liveness.running && snapshot.delivery.state !== 'paused' ? 0 : 1);
    });
}

/**
 * Reads and validates the snapshot, or returns null when the file does not exist. Throws an error
 * naming the file for any other read failure or for content that is not a version 1 snapshot.
 */
export async function readSnapshot(path: string): Promise<StatusSnapshot | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'EACCES') {
      throw new Error(
        `Cannot read ${path}: permission denied. Run status as root or as a member of the agent's group (mfc-events-agent when installed from the .deb).`
      );
    }
    throw new Error(`Cannot read ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON. The running agent rewrites it within seconds.`);
  }
  const { snapshotSchema } = await import('./status-snapshot.js');
  const parsed = snapshotSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || '(root)';
    throw new Error(
      `${path} is not a status snapshot this version understands (${field}: ${issue?.message}). Run status with the same mfc-events-agent version as the agent.`
    );
  }
  return parsed.data;
}

/** Decides whether the agent that wrote the snapshot is still running. */
export function checkLiveness(snapshot: StatusSnapshot, now: number): AgentLiveness {
  const snapshotAgeMs = Math.max(0, now - snapshot.savedAt);
  const pidAlive = isProcessAlive(snapshot.pid);
  let reason: string | null = null;
  if (!pidAlive) {
    reason = `process ${snapshot.pid} is not alive`;
  } else if (snapshotAgeMs > STALE_SNAPSHOT_MS) {
    reason = `the snapshot was last saved ${formatDuration(snapshotAgeMs)} ago (more than ${STALE_SNAPSHOT_MS / 1000} s)`;
  }
  return { running: reason === null, pidAlive, snapshotAgeMs, reason };
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user, such as the agent's service user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Renders the snapshot as the text report of `status`. */
export function renderStatus(
  snapshot: StatusSnapshot,
  liveness: AgentLiveness,
  config: AgentConfig,
  now: number
): string {
  const ago = (at: number) => `${formatDuration(now - at)} ago`;
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`${`${label}:`.padEnd(14)}${value}`);

  row(
    'Agent',
    liveness.running
      ? `running, pid ${snapshot.pid}, up ${formatDuration(now - snapshot.startedAt)}`
      : `NOT RUNNING: ${liveness.reason}. The figures below are the last ones it saved.`
  );
  row('Snapshot', `saved ${ago(snapshot.savedAt)}, state dir ${config.state.dir}`);
  row('Delivery', describeDelivery(snapshot.delivery, ago));
  row(
    'Last error',
    snapshot.lastError ? `${ago(snapshot.lastError.at)}: ${snapshot.lastError.message}` : 'none'
  );

  const { outbox } = snapshot;
  const oldest = outbox.oldestFoundAt === null ? '' : `, oldest found ${ago(outbox.oldestFoundAt)}`;
  const full = outbox.full ? ' FULL: reading is paused until delivery frees space' : '';
  row('Outbox', `${outbox.events} events (${formatBytes(outbox.bytes)})${oldest}${full}`);
  row(
    'Dead letters',
    snapshot.deadLetters === 0
      ? '0'
      : `${snapshot.deadLetters} (see: mfc-events-agent dead-letters list)`
  );
  row('Today', describeToday(snapshot.today, config.tracker.events, localDate(now)));

  lines.push('Files:');
  lines.push(...renderFiles(snapshot.files));
  return `${lines.join('\n')}\n`;
}

function describeDelivery(delivery: StatusSnapshot['delivery'], ago: (at: number) => string) {
  const lastSuccess =
    delivery.lastSuccessAt === null
      ? 'no acknowledgement yet'
      : `last acknowledgement ${ago(delivery.lastSuccessAt)}`;
  switch (delivery.state) {
    case 'paused':
      return `PAUSED (${delivery.reason ?? 'unknown reason'}): ${delivery.message ?? delivery.lastError ?? 'no detail'}; ${lastSuccess}`;
    case 'retrying':
      return `retrying after ${delivery.consecutiveFailures} consecutive failures (${delivery.lastError ?? 'no detail'}); ${lastSuccess}`;
    default:
      return `${delivery.state}, ${lastSuccess}`;
  }
}

function describeToday(today: StatusSnapshot['today'], eventTypes: string[], date: string) {
  const counts = (acknowledged: Record<string, number>) => {
    const names = [...new Set([...eventTypes, ...Object.keys(acknowledged)])];
    return names.map((name) => `${name} ${acknowledged[name] ?? 0}`).join(', ');
  };
  if (today.date === date) return `${date}: ${counts(today.acknowledged)}`;
  // The agent resets the counts at the first acknowledgement of a new day, so older counts mean none yet.
  return `${date}: none acknowledged yet (on ${today.date}: ${counts(today.acknowledged)})`;
}

function renderFiles(files: StatusSnapshot['files']): string[] {
  if (files.length === 0) return ["  none: no file matches the bots' include globs yet"];
  const header = ['BOT', 'KEY', 'STATE', 'OFFSET', 'SIZE', 'LAG', 'PATH'];
  const rows = files.map((file) => [
    file.bot,
    file.key,
    file.state,
    String(file.offset),
    String(file.size),
    // A size below the offset means the file shrank after the last read, so the lag shows 0.
    String(Math.max(0, file.size - file.offset)),
    file.path,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((cells) => (cells[column] ?? '').length))
  );
  return [header, ...rows].map(
    (cells) =>
      `  ${cells
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd()}`
  );
}

/** Formats a duration in ms as the two largest units, for example `2 h 5 min`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Returns the date in the machine's time zone as YYYY-MM-DD, as the agent counts days. */
function localDate(epochMs: number): string {
  const date = new Date(epochMs);
  const month = String(date.getMonth() + 1).padStart(2, '0');
  const day = String(date.getDate()).padStart(2, '0');
  return `${date.getFullYear()}-${month}-${day}`;
}

/** Gathers the token so it is masked even if it ever reaches an error message in the snapshot. */
async function collectSecrets(config: AgentConfig, token: string | undefined): Promise<string[]> {
  const secrets = [token, config.tracker.token].filter((value): value is string => Boolean(value));
  if (config.tracker.tokenFile) {
    // The token file is often unreadable to the user running status, so masking it is best effort.
    const fromFile = await readFile(config.tracker.tokenFile, 'utf8').catch(() => '');
    if (fromFile.trim()) secrets.push(fromFile.trim());
  }
  return secrets.filter((secret) => secret.length >= 4);
}
