import { Command } from 'commander';
import { loadConfigInWorker } from '../config/load-in-worker.js';
import { registerBackfillCommand } from './backfill.js';
import { registerCheckConfigCommand } from './check-config.js';
import { registerDeadLettersCommand } from './dead-letters.js';
import { registerDemoCommand } from './demo.js';
import { registerMockTrackerCommand } from './mock-tracker.js';
import { checkCredentialsOnline } from './online-check.js';
import { registerRunCommand } from './run.js';
import { registerStatusCommand } from './status.js';
import { registerTestRulesCommand } from './test-rules.js';
import { VERSION } from './version.js';

/** Builds the `mfc-events-agent` program with every command registered. */
export function createProgram(): Command {
  const program = new Command('mfc-events-agent')
    .description(
      'Follows MFC bot JSON logs and forwards appointment events to the federal tracker, exactly once.'
    )
    .version(VERSION);

  registerRunCommand(program);
  registerCheckConfigCommand(program, { onlineCheck: checkCredentialsOnline });
  // These commands never talk to the tracker, so they work for users who cannot read the token file.
  const loadWithoutToken = (path: string) => loadConfigInWorker(path, { readToken: false });
  registerTestRulesCommand(program, { loadConfig: loadWithoutToken });
  registerDeadLettersCommand(program, { loadConfig: loadWithoutToken });
  registerStatusCommand(program, { loadConfig: loadWithoutToken });
  registerBackfillCommand(program);
  registerMockTrackerCommand(program);
  registerDemoCommand(program);
  return program;
}

/** Runs the command line; `argv` is `process.argv`. */
export async function main(argv: string[]): Promise<void> {
  // A reader that stops early (`test-rules ... | head`) closes the pipe: that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  await createProgram().parseAsync(argv);
}
