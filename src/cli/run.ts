import type { Command } from 'commander';
import type { Agent } from '../agent.js';
import type { LoadedConfig } from '../config/load.js';
import { loadConfigInWorker } from '../config/load-in-worker.js';
import { createLogger, type Logger, maskSecrets } from '../observability/logger.js';
import { applyHeapFlags } from './heap-flags.js';
import { VERSION } from './version.js';

/** Exit status for a configuration that cannot be used. */
export const EXIT_CONFIG = 2;
/** Exit status of `run --once` when some events could not be delivered. */
export const EXIT_UNDELIVERED = 1;

const DEFAULT_ONCE_TIMEOUT_MS = 60_000;

/** Loads the configuration or prints why it cannot be used and exits with status 2. */
export async function loadConfigOrExit(path: string): Promise<LoadedConfig> {
  try {
    return await loadConfigForAgent(path);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(EXIT_CONFIG);
  }
}

/**
 * Loads the configuration of a long-running agent in a worker thread. Starting the worker
 * resets the heap flags, so they are set again once it runs, while the agent's modules load.
 */
export async function loadConfigForAgent(path: string): Promise<LoadedConfig> {
  try {
    return await loadConfigInWorker(path, { onWorkerOnline: applyHeapFlags });
  } finally {
    applyHeapFlags();
  }
}

export function createAgentLogger(loaded: LoadedConfig): Logger {
  return createLogger({
    level: loaded.config.log.level,
    format: loaded.config.log.format,
    secrets: [loaded.token],
  });
}

/** Adds `run --config FILE [--once]`, the agent's main command. */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('Follow the bot logs and deliver events until stopped (SIGTERM, SIGINT).')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .option(
      '--once',
      'read every file to its current end, wait until every event is acknowledged, save state and exit'
    )
    .option(
      '--once-timeout-ms <ms>',
      'with --once: give up after the tracker stayed unreachable this long',
      (value) => parsePositiveInteger(value, '--once-timeout-ms'),
      DEFAULT_ONCE_TIMEOUT_MS
    )
    .action(async (options: { config: string; once?: boolean; onceTimeoutMs: number }) => {
      // The agent's modules load on this thread while the worker checks the configuration.
      const agentModule = import('../agent.js');
      // Awaited after the configuration; a failure then is reported there, not as unhandled.
      agentModule.catch(() => undefined);
      const loaded = await loadConfigOrExit(options.config);
      const logger = createAgentLogger(loaded);
      installCrashHandlers(logger, loaded.token);
      logger.info({ version: VERSION, config: loaded.path }, 'Starting mfc-events-agent.');
      // A stop requested while the agent starts is honoured once it has started, so the state
      // it has begun to write is saved whole.
      let earlySignal: NodeJS.Signals | null = null;
      const remember = (signal: NodeJS.Signals) => {
        earlySignal = signal;
      };
      process.on('SIGTERM', remember);
      process.on('SIGINT', remember);
      const { Agent } = await agentModule;
      const agent = await startOrExit(Agent, loaded, logger, options.once ? 'once' : 'follow');
      process.off('SIGTERM', remember);
      process.off('SIGINT', remember);
      const stop = handleSignals(agent, logger, options.config);
      if (earlySignal !== null) stop(earlySignal);

      if (options.once) {
        const result = await agent.runOnce(options.onceTimeoutMs);
        await agent.stop();
        if (!result.ok) {
          process.stderr.write(
            `mfc-events-agent: some events were not delivered: ${result.reason}. They stay in the outbox in ${loaded.config.state.dir} and go out on the next run.\n`
          );
          process.exit(EXIT_UNDELIVERED);
        }
        return;
      }
    });
}

async function startOrExit(
  agentClass: typeof Agent,
  loaded: LoadedConfig,
  logger: Logger,
  mode: 'follow' | 'once'
): Promise<Agent> {
  try {
    return await agentClass.start({ loaded, logger, mode });
  } catch (error) {
    const message = maskSecrets(error instanceof Error ? error.message : String(error), [
      loaded.token,
    ]);
    logger.fatal({ err: message }, 'Agent could not start.');
    process.stderr.write(`mfc-events-agent: ${message}\n`);
    process.exit(1);
  }
}

/** SIGTERM and SIGINT drain and exit 0; SIGHUP reloads the configuration, keeping the old one if the new one is invalid. */
export function handleSignals(
  agent: Agent,
  logger: Logger,
  configPath: string
): (signal: NodeJS.Signals) => void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal means the operator will not wait: state on disk is consistent at any
      // instant, so exiting now loses nothing, and requests in flight are sent again later.
      logger.warn({ signal }, 'Second signal: exiting without waiting for requests in flight.');
      process.exit(1);
    }
    stopping = true;
    logger.info(
      { signal, shutdownTimeoutMs: agent.shutdownTimeoutMs },
      'Stopping: waiting for requests in flight, then saving state. A second signal exits at once.'
    );
    agent.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'Stopping failed.');
        process.exit(1);
      }
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    logger.info({ config: configPath }, 'SIGHUP received: reloading the configuration.');
    loadConfigForAgent(configPath)
      .then((loaded) => agent.reload(loaded))
      .catch((error: unknown) => {
        logger.error(
          { config: configPath, err: error instanceof Error ? error.message : String(error) },
          'Reload rejected: the running configuration stays in force.'
        );
      });
  });
  return stop;
}

/** Logs an unexpected crash without the token, then exits 1 so systemd or pm2 restarts the agent. */
export function installCrashHandlers(logger: Logger, token: string): void {
  const crash = (error: unknown) => {
    const message =
      error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
    logger.fatal({ err: maskSecrets(message, [token]) }, 'Unexpected error; exiting.');
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}

export function parsePositiveInteger(value: string, option: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) {
    throw new Error(
      `${option}: invalid value '${value}'; expected a positive whole number of milliseconds`
    );
  }
  return parsed;
}
