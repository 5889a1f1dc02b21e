import type { Command } from 'commander';
import {
  createAgentLogger,
  EXIT_UNDELIVERED,
  installCrashHandlers,
  loadConfigOrExit,
} from './run.js';

/**
 * Adds `backfill`: reads the bots' files and their rotated `.gz` generations once and queues the
 * events dated inside the window. Lines already read by `run` are not read again, so nothing is
 * sent twice. It shares the state directory's lock, so stop the running agent first.
 */
export function registerBackfillCommand(program: Command): void {
  program
    .command('backfill')
    .description(
      'Catch up once on past events inside a time window, including rotated .gz generations.'
    )
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .requiredOption(
      '--since <date>',
      'first moment to include: ISO 8601 date or date-time (UTC unless an offset is given)'
    )
    .option('--until <date>', 'first moment to exclude (default: no end)')
    .option('--timeout-ms <ms>', 'give up after the tracker stayed unreachable this long', '60000')
    .action(
      async (options: { config: string; since: string; until?: string; timeoutMs: string }) => {
        const sinceSeconds = parseDate(options.since, '--since');
        const untilSeconds =
          options.until === undefined ? null : parseDate(options.until, '--until');
        if (untilSeconds !== null && untilSeconds <= sinceSeconds) {
          process.stderr.write(
            `backfill: --until ${options.until} must be later than --since ${options.since}\n`
          );
          process.exit(2);
        }
        const loaded = await loadConfigOrExit(options.config);
        const logger = createAgentLogger(loaded);
        installCrashHandlers(logger, loaded.token);
        const window = { sinceSeconds, untilSeconds, skipped: 0, queued: 0, deferred: 0 };
        const { Agent } = await import('../agent.js');
        const agent = await Agent.start({
          loaded,
          logger,
          mode: 'once',
          includeCompressed: true,
          window,
        });
        const result = await agent.runOnce(Number(options.timeoutMs));
        await agent.stop();
        process.stdout.write(
          `backfill: ${window.queued} events inside the window queued, ${window.skipped} dated before it skipped, ` +
            `${window.deferred} dated after it left for the next run. Lines read before were not read again.\n`
        );
        if (!result.ok) {
          process.stderr.write(
            `backfill: some events were not delivered: ${result.reason}. They stay in the outbox.\n`
          );
          process.exit(EXIT_UNDELIVERED);
        }
      }
    );
}

/** Parses an ISO 8601 date or date-time into unix seconds; a date alone means midnight UTC. */
function parseDate(value: string, option: string): number {
  const milliseconds = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(milliseconds)) {
    process.stderr.write(
      `backfill: ${option}: invalid date '${value}'; expected ISO 8601 such as 2026-12-01 or 2026-12-01T09:00:00+03:00\n`
    );
    process.exit(2);
  }
  return Math.floor(milliseconds / 1000);
}
