import { type Command, InvalidArgumentError } from 'commander';
import {
  type ReceivedEvent,
  type RejectedRequest,
  startMockTracker,
} from '../mock-tracker/server.js';

/** Settings of `mfc-events-agent mock-tracker`. */
export interface MockTrackerCommandOptions {
  port: number;
  appId: string;
  token: string;
  host: string;
  record?: string;
}

interface Output {
  write(text: string): unknown;
}

/** Adds `mock-tracker`: a local tracker that prints every accepted event until SIGINT or SIGTERM. */
export function registerMockTrackerCommand(program: Command): void {
  program
    .command('mock-tracker')
    .description(
      'Run a local tracker that validates requests like the real S2S API and prints one line per accepted event, for trials without the real tracker.'
    )
    .requiredOption('--port <n>', 'TCP port to listen on (0 picks a free one)', parsePort)
    .requiredOption('--app-id <id>', 'app id that requests must carry in ?idApp=', parseAppId)
    .requiredOption('--token <token>', 'token that requests must carry in Authorization')
    .option('--record <file>', 'append every accepted event to this JSON lines file')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .action(async (options: MockTrackerCommandOptions) => {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await runMockTracker(options, { signal: controller.signal });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}

/**
 * Runs the mock tracker until `signal` aborts, printing a start line, one line per accepted
 * event on stdout and one per rejected request on stderr. Never prints the token.
 */
export async function runMockTracker(
  options: MockTrackerCommandOptions,
  io: { signal: AbortSignal; stdout?: Output; stderr?: Output }
): Promise<void> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const tracker = await startMockTracker({
    port: options.port,
    host: options.host,
    appId: options.appId,
    token: options.token,
    ...(options.record === undefined ? {} : { recordPath: options.record }),
  });
  tracker.on('event', (event: ReceivedEvent) => stdout.write(`${formatEvent(event)}\n`));
  tracker.on('rejected', (rejected: RejectedRequest) => {
    stderr.write(`${new Date().toISOString()} rejected ${rejected.status} ${rejected.error}\n`);
  });
  stdout.write(
    `Mock tracker listening on ${tracker.url} (app ${options.appId}). Ctrl+C stops it.\n`
  );

  if (!io.signal.aborted) {
    await new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve()));
  }
  await tracker.close();
  stdout.write(`Mock tracker stopped after ${tracker.received.length} accepted events.\n`);
}

/** Formats one accepted event: receive time, event type, user id, bot, region, event time. */
export function formatEvent(event: ReceivedEvent): string {
  const { body } = event;
  const eventTime = new Date(body.eventTimestamp * 1000).toISOString();
  return (
    `${new Date(event.receivedAt).toISOString()} accepted ${body.customEventName}` +
    ` user ${body.customUserId} bot ${body.customEventParams.bot_name}` +
    ` region ${body.customEventParams.region} at ${eventTime}`
  );
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) {
    throw new InvalidArgumentError('expected a whole number from 0 to 65535.');
  }
  return port;
}

function parseAppId(value: string): string {
  if (!/^\d+$/.test(value)) {
    throw new InvalidArgumentError('expected the digits of the app id, such as 1027600.');
  }
  return value;
}
