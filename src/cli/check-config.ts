import type { Command } from 'commander';
import { ConfigError } from '../config/errors.js';
import type { LoadedConfig } from '../config/load.js';
import { checkSecretPermissions } from '../config/permissions.js';
import { checkLogAccess } from '../discovery/access-check.js';

/** Exit status of `check-config` when the configuration cannot be used. */
export const EXIT_CONFIG_INVALID = 2;

/** Checks the credentials against the tracker and returns the exit status, 0 when accepted. */
export type OnlineCheck = (loaded: LoadedConfig) => Promise<number>;

export interface CheckConfigOptions {
  /** Runs for `--online` after the file is valid; without it `--online` is rejected. */
  onlineCheck?: OnlineCheck;
  /** Environment for `${NAME}` references; the process environment by default. */
  env?: NodeJS.ProcessEnv;
}

interface CheckConfigFlags {
  config: string;
  online?: boolean;
}

/**
 * Adds `check-config --config FILE [--online]`: validates the file, prints the effective
 * configuration to standard output and exits 0, or prints every problem to standard error and
 * exits 2. Output goes through the program's commander output configuration.
 */
export function registerCheckConfigCommand(
  program: Command,
  options: CheckConfigOptions = {}
): void {
  program
    .command('check-config')
    .description(
      'Validate a configuration file and print it with defaults filled in and the token masked.'
    )
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .option('--online', 'also send one probe event to the tracker to check the app id and token')
    .action(async (flags: CheckConfigFlags, command: Command) => {
      const loaded = await loadOrReport(command, flags.config, options.env);
      const { renderEffectiveConfig } = await import('../config/effective.js');
      command.configureOutput().writeOut?.(renderEffectiveConfig(loaded));
      for (const warning of checkSecretPermissions(loaded)) {
        command.configureOutput().writeErr?.(`warning: ${warning}\n`);
      }
      // The file is valid either way; these explain why the agent might still read nothing.
      for (const problem of await checkLogAccess(loaded.config.bots)) {
        command
          .configureOutput()
          .writeErr?.(`${problem.severity}: bot ${problem.bot}: ${problem.message}\n`);
      }
      if (flags.online) await runOnlineCheck(command, loaded, options.onlineCheck);
    });
}

async function loadOrReport(
  command: Command,
  path: string,
  env: NodeJS.ProcessEnv | undefined
): Promise<LoadedConfig> {
  // Imported here, so that the other commands start without the YAML parser and zod.
  const { loadConfig } = await import('../config/load.js');
  try {
    return await loadConfig(path, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Exits the process, or throws a CommanderError under exitOverride().
    command.error(error.message, { exitCode: EXIT_CONFIG_INVALID, code: 'mfc.config.invalid' });
  }
}

// --- online credential check -------------------------------------------------------------------
// The check itself is injected by the caller. This command runs it only on a configuration it
// has validated, and exits with the status it returns.

async function runOnlineCheck(
  command: Command,
  loaded: LoadedConfig,
  onlineCheck: OnlineCheck | undefined
): Promise<void> {
  if (onlineCheck === undefined) {
    command.error('check-config: --online is not available in this build', {
      exitCode: EXIT_CONFIG_INVALID,
      code: 'mfc.online.unavailable',
    });
  }
  const status = await onlineCheck(loaded);
  if (status !== 0) {
    command.error(`check-config: online check failed (exit status ${status})`, {
      exitCode: status,
      code: 'mfc.online.failed',
    });
  }
}
