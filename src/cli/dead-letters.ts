import { join } from 'node:path';
import type { Command } from 'commander';
import type { AgentConfig } from '../config/schema.js';
import { retryDeadLetters } from '../delivery/dead-letter-retry.js';
import {
  DEAD_LETTERS_FILE,
  type DeadLetterEntry,
  readDeadLetters,
} from '../delivery/dead-letters.js';
import { assertStateDirOwner } from '../state/owner-check.js';

/** Configuration file read when `--config` is not given. */
export const DEFAULT_CONFIG_PATH = '/etc/mfc-events-agent/config.yaml';

interface Output {
  write(text: string): unknown;
}

export interface DeadLettersCommandDeps {
  loadConfig: (path: string) => Promise<{ config: AgentConfig }>;
  /** Destination of listings and results, standard output by default. */
  output?: Output;
  /** Destination of warnings, standard error by default. */
  errorOutput?: Output;
}

interface RetryOptions {
  config: string;
  all?: boolean;
  id?: string[];
  reason?: string;
}

/**
 * Adds `dead-letters list [--config FILE] [--json]` and
 * `dead-letters retry [--config FILE] (--all | --id ID... | --reason TEXT)`.
 */
export function registerDeadLettersCommand(program: Command, deps: DeadLettersCommandDeps): void {
  const output = deps.output ?? process.stdout;
  const errorOutput = deps.errorOutput ?? process.stderr;
  const command = program
    .command('dead-letters')
    .description('List events that were not delivered, and queue chosen ones for delivery again.');

  command
    .command('list')
    .description('List the dead letters not yet retried.')
    .option('-c, --config <file>', 'configuration file (YAML) of the agent', DEFAULT_CONFIG_PATH)
    .option('--json', 'print a JSON array of the entries instead of a table')
    .action(async (options: { config: string; json?: boolean }) => {
      const { stateDir, entries } = await load(deps, options.config, errorOutput);
      if (options.json) {
        output.write(`${JSON.stringify(entries, null, 2)}\n`);
      } else if (entries.length === 0) {
        output.write(`No dead letters in ${join(stateDir, DEAD_LETTERS_FILE)}.\n`);
      } else {
        output.write(formatTable(entries));
      }
    });

  command
    .command('retry')
    .description(
      'Queue chosen dead letters for delivery again; a running agent moves them into its outbox within seconds, a stopped one at its next start.'
    )
    .option('-c, --config <file>', 'configuration file (YAML) of the agent', DEFAULT_CONFIG_PATH)
    .option('--all', 'retry every dead letter')
    .option('--id <id...>', 'retry the dead letters with these ids')
    .option('--reason <text>', 'retry the dead letters whose reason is exactly this text')
    .action(async (options: RetryOptions) => {
      const { stateDir, entries } = await load(deps, options.config, errorOutput);
      const chosen = choose(entries, options);
      assertStateDirOwner(stateDir, 'dead-letters retry');
      const result = retryDeadLetters(stateDir, chosen);
      for (const { entry, missing } of result.skipped) {
        errorOutput.write(
          `Dead letter ${entry.id} cannot be retried: its event has no valid ${missing.join(', ')}. ` +
            'It came from a log line the rules could not read completely; fix the rule or the line instead.\n'
        );
      }
      if (result.spoolPath === null) {
        throw new Error('none of the chosen dead letters can be retried (see the lines above)');
      }
      output.write(
        `Queued ${result.retried.length} events in ${result.spoolPath}; ` +
          'the running agent moves them into its outbox within seconds (a stopped one at its next start).\n'
      );
    });
}

async function load(deps: DeadLettersCommandDeps, configPath: string, errorOutput: Output) {
  const { config } = await deps.loadConfig(configPath);
  const stateDir = config.state.dir;
  const entries = await readDeadLetters(stateDir, {
    onInvalidLine: (lineNumber, problem) => {
      errorOutput.write(
        `Skipped line ${lineNumber} of ${join(stateDir, DEAD_LETTERS_FILE)}: ${problem}.\n`
      );
    },
  });
  return { stateDir, entries };
}

/** Picks the entries named by exactly one of `--all`, `--id` or `--reason`. */
function choose(entries: DeadLetterEntry[], options: RetryOptions): DeadLetterEntry[] {
  const selectors = [options.all === true, options.id !== undefined, options.reason !== undefined];
  if (selectors.filter(Boolean).length !== 1) {
    throw new Error(
      'choose the dead letters to retry with exactly one of --all, --id ID... or --reason TEXT'
    );
  }
  const listHint = 'run "mfc-events-agent dead-letters list" to see them';
  if (options.all) {
    if (entries.length === 0) throw new Error(`there are no dead letters to retry; ${listHint}`);
    return entries;
  }
  if (options.id !== undefined) {
    const byId = new Map(entries.map((entry) => [entry.id, entry]));
    const unknown = options.id.filter((id) => !byId.has(id));
    if (unknown.length > 0) {
      throw new Error(
        `no dead letter with id ${unknown.join(', ')} (unknown or already retried); ${listHint}`
      );
    }
    return [...new Set(options.id)].map((id) => byId.get(id) as DeadLetterEntry);
  }
  const reason = (options.reason ?? '').trim();
  const matching = entries.filter((entry) => entry.reason === reason);
  if (matching.length === 0) {
    throw new Error(`no dead letter has the reason "${reason}"; ${listHint}`);
  }
  return matching;
}

/** Formats entries as an aligned table: id, time, event type, reason, status. */
export function formatTable(entries: DeadLetterEntry[]): string {
  const rows = entries.map((entry) => [
    entry.id,
    entry.at,
    entry.event.name ?? '-',
    entry.reason,
    entry.status === undefined ? '-' : String(entry.status),
  ]);
  const header = ['ID', 'WHEN', 'EVENT', 'REASON', 'STATUS'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length))
  );
  const format = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(format).join('\n')}\n${entries.length} dead letters.\n`;
}
