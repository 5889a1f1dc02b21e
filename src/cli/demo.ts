import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { createLogger } from '../observability/logger.js';
import { handleSignals, loadConfigOrExit } from './run.js';

/** The example configuration shipped at the top of the package. */
const EXAMPLE_CONFIG = fileURLToPath(new URL('../../config.example.yaml', import.meta.url));

/**
 * Adds `demo`, what `npm start` runs: the agent on config.example.yaml and the shipped example
 * logs, delivering to a mock tracker started in the same process, printing each event it gets.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'Run the agent on config.example.yaml and examples/logs against a built-in mock tracker.'
    )
    .option(
      '-c, --config <file>',
      'configuration to run instead of config.example.yaml',
      EXAMPLE_CONFIG
    )
    .action(async (options: { config: string }) => {
      if (!existsSync(options.config)) {
        process.stderr.write(`demo: configuration not found: ${options.config}\n`);
        process.exit(2);
      }
      const loaded = await loadConfigOrExit(options.config);
      const { config } = loaded;
      const trackerUrl = new URL(config.tracker.url);
      if (!['127.0.0.1', 'localhost'].includes(trackerUrl.hostname)) {
        process.stderr.write(
          `demo: tracker.url ${config.tracker.url} is not a local address; the demo only sends to its own mock tracker. Use "run --config" for a real tracker.\n`
        );
        process.exit(2);
      }

      const port = Number(trackerUrl.port || 80);
      const { startMockTracker } = await import('../mock-tracker/server.js');
      const tracker = await startMockTracker({
        port,
        host: '127.0.0.1',
        appId: config.tracker.appId,
        token: loaded.token,
      }).catch((error: NodeJS.ErrnoException) => {
        const hint =
          error.code === 'EADDRINUSE'
            ? `port ${port} is in use, probably by another demo: stop it, or change the port in tracker.url`
            : error.message;
        process.stderr.write(`demo: the mock tracker could not start: ${hint}\n`);
        process.exit(1);
      });
      let delivered = 0;
      tracker.on(
        'event',
        (received: {
          body: {
            customEventName: string;
            customUserId: string;
            eventTimestamp: number;
            customEventParams: { bot_name: string };
          };
        }) => {
          delivered++;
          const { body } = received;
          const at = new Date(body.eventTimestamp * 1000)
            .toISOString()
            .replace('T', ' ')
            .replace('.000Z', ' UTC');
          process.stdout.write(
            `tracker received  ${body.customEventName.padEnd(20)} user ${body.customUserId.padEnd(20)} at ${at}  bot @${body.customEventParams.bot_name}\n`
          );
        }
      );

      const logger = createLogger({
        level: 'warn',
        format: config.log.format,
        secrets: [loaded.token],
      });
      process.stdout.write(
        `Mock tracker listening on ${tracker.url} (app ${config.tracker.appId}).\n` +
          `Reading ${config.bots.flatMap((bot) => bot.include).join(', ')} with state in ${config.state.dir}.\n\n`
      );
      const { Agent } = await import('../agent.js');
      const agent = await Agent.start({ loaded, logger, mode: 'follow' });
      const caughtUp = await agent.waitCaughtUp(30_000);
      process.stdout.write(
        `\nCaught up: ${delivered} events delivered in this run. ` +
          (caughtUp.ok ? '' : `Delivery is not complete: ${caughtUp.reason}. `) +
          'Events delivered in an earlier run are not sent again (remove the state directory to replay them).\n' +
          'Following the files: append a line to a log and watch it arrive. Ctrl+C stops.\n'
      );
      handleSignals(agent, logger, options.config);
      process.on('exit', () => {
        void tracker.close();
      });
    });
}
